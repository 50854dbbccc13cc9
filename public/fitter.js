// fitter.js is the Web Worker that fits the rater's local reward model: a second instance of
// app.wasm (text.wasm for a worker named "text": the full build's page and its workers), which
// sees no document and so runs wasm/fitter instead of the page. The name, not the address, picks
// the build: a worker served from the service worker's cache takes the cached response's URL.
"use strict";
importScripts("/wasm_exec.js");

// Messages that arrive before Go has installed its handler wait here; Go drains them.
self.preferQueue = [];
self.onmessage = (e) => self.preferQueue.push(e.data);

(async () => {
  const go = new Go();
  const url = self.name === "text" ? "/text.wasm" : "/app.wasm";
  let result;
  try {
    result = await WebAssembly.instantiateStreaming(fetch(url), go.importObject);
  } catch (e) {
    const resp = await fetch(url);
    result = await WebAssembly.instantiate(await resp.arrayBuffer(), go.importObject);
  }
  await go.run(result.instance);
})().catch((e) => self.postMessage(JSON.stringify({ type: "error", message: String(e) })));
