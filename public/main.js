// main.js starts the app: it registers the service worker that keeps the app shell for offline
// use, then runs the app (wasm/app) on the page: app.wasm, or text.wasm (the full build, which
// also reads text pairs and has red-team mode) once the app has switched to it (ui/fullswitch.go).
"use strict";

// keepShell registers the service worker, and registers it again later when its install
// failed (sw.js fetches the whole shell; one failed fetch on a flaky network or a busy server
// throws the install away): without it the page would keep no offline copy until the rater's
// next visit. delay doubles from 5 s to 5 minutes.
function keepShell(delay) {
  const again = () => setTimeout(() => keepShell(Math.min(2 * delay, 300000)), delay);
  navigator.serviceWorker.register("/sw.js").then((reg) => {
    const w = reg.installing;
    if (w) {
      w.addEventListener("statechange", () => {
        if (w.state === "redundant" && !reg.active) again();
      });
    }
  }, (e) => {
    console.warn("prefer: no service worker:", e);
    again();
  });
}
if ("serviceWorker" in navigator) {
  keepShell(5000);
}

// runWasm instantiates a build with Go's wasm_exec.js and runs its main. The page started
// fetching and compiling its build already (index.html: preferModule).
async function runWasm(url) {
  const go = new Go();
  const early = self.preferWasm === url && self.preferModule;
  self.preferModule = null;
  let instance;
  try {
    instance = await WebAssembly.instantiate(await (early || self.preferCompile(url)), go.importObject);
  } catch (e) {
    // A server or cache that lost the application/wasm content type: compile from bytes.
    const resp = await fetch(url);
    if (!resp.ok) throw new Error(url + ": " + resp.status);
    instance = (await WebAssembly.instantiate(await resp.arrayBuffer(), go.importObject)).instance;
  }
  performance.mark("prefer:instantiated");
  await go.run(instance);
}

let text = false;
try {
  text = localStorage.getItem("prefer-app") === "text";
} catch (e) {}
// The full build that cannot load (offline before the service worker kept it) falls back to
// app.wasm, which then says so instead of switching again.
(text ? runWasm("/text.wasm").catch((e) => (console.warn(e), runWasm("/app.wasm"))) : runWasm("/app.wasm")).catch((e) => {
  console.error(e);
  const el = document.getElementById("app");
  el.textContent = "Prefer could not start: " + e;
});
