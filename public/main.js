// main.js starts the app: it registers the service worker that keeps the app shell for offline
// use, then runs app.wasm (wasm/app) on the page.
"use strict";

if ("serviceWorker" in navigator) {
  navigator.serviceWorker.register("/sw.js").catch((e) => console.warn("prefer: no service worker:", e));
}

// runWasm instantiates app.wasm with Go's wasm_exec.js and runs its main.
async function runWasm() {
  const go = new Go();
  let result;
  try {
    result = await WebAssembly.instantiateStreaming(fetch("/app.wasm"), go.importObject);
  } catch (e) {
    // A server or cache that lost the application/wasm content type: compile from bytes.
    const resp = await fetch("/app.wasm");
    result = await WebAssembly.instantiate(await resp.arrayBuffer(), go.importObject);
  }
  await go.run(result.instance);
}

runWasm().catch((e) => {
  console.error(e);
  const el = document.getElementById("app");
  el.textContent = "Prefer could not start: " + e;
});
