// fitter.js is the Web Worker that fits the rater's local reward model: a second instance of
// app.wasm (text.wasm for a worker named "text": the full build's page and its workers), which
// sees no document and so runs wasm/fitter instead of the page. The name, not the address, picks
// the build: a worker served from the service worker's cache takes the cached response's URL.
"use strict";
importScripts("/wasm_exec.js");

// Messages that arrive before Go has installed its handler wait here; Go drains them.
self.preferQueue = [];
self.onmessage = (e) => self.preferQueue.push(e.data);

// compile compiles the build at url. Under the service worker, it inflates the gzip copy the
// worker keeps (public/sw.js), as the page does (index.html), so that the service worker's
// thread, which also answers the page, never inflates it; "only-if-cached" makes the fetch
// fail at once where no service worker answers it (a first visit), and the .wasm is fetched.
async function compile(url) {
  if (self.DecompressionStream) {
    try {
      const r = await fetch(url + ".gz", { cache: "only-if-cached", mode: "same-origin" });
      if (r.ok) {
        const wasm = r.body.pipeThrough(new DecompressionStream("gzip"));
        return await WebAssembly.compileStreaming(new Response(wasm, { headers: { "content-type": "application/wasm" } }));
      }
    } catch (e) {}
  }
  return WebAssembly.compileStreaming(fetch(url));
}

(async () => {
  const go = new Go();
  const url = self.name === "text" ? "/text.wasm" : "/app.wasm";
  let instance;
  try {
    instance = await WebAssembly.instantiate(await compile(url), go.importObject);
  } catch (e) {
    const resp = await fetch(url);
    instance = (await WebAssembly.instantiate(await resp.arrayBuffer(), go.importObject)).instance;
  }
  // Go's memory, for the SIMD matrix kernel that Go instantiates on it (wasm/simd).
  self.preferGoMemory = instance.exports.mem;
  await go.run(instance);
})().catch((e) => self.postMessage(JSON.stringify({ type: "error", message: String(e) })));
