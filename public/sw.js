// sw.js is the service worker that keeps the app shell on the device, so that after the first
// visit the app loads and works with no network.
//
// - Shell files (the wasm, wasm_exec.js, scripts, CSS) are answered from the cache. The cache is
//   named after the build (version.js, written by build.sh): a new build changes version.js,
//   the browser installs this worker again, and the new shell replaces the old one.
// - The app's page addresses (/ and /join?code=...) are the shell's index.html, answered from
//   the cache at once and refreshed in the background. Other pages (the teacher link, the
//   dashboard under /classroom/) are the server's, so a teacher who also opened the app in the
//   same browser still reaches them.
// - The API is never cached: labels wait in IndexedDB and the app syncs them.
"use strict";

try {
  importScripts("/version.js");
} catch (e) {
  // A build without version.js (go build without build.sh): one fixed cache name.
}
const CACHE = "prefer-shell-" + (self.preferVersion || "dev");
const SHELL = ["/", "/app.css", "/main.js", "/fitter.js", "/wasm_exec.js", "/app.wasm"];
// TEXT is the full build, which only text projects load (ui/textswitch.go): kept when first
// fetched, and again by every new build on a device that had it.
const TEXT = "/text.wasm";

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.match(TEXT)
      .then((had) => caches.open(CACHE).then((c) =>
        c.addAll((had ? [...SHELL, TEXT] : SHELL).map((u) => new Request(u, { cache: "reload" })))))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith("prefer-shell-") && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const req = event.request;
  const url = new URL(req.url);
  if (req.method !== "GET" || url.origin !== self.location.origin || url.pathname.startsWith("/api/")) {
    return; // straight to the network
  }
  if (req.mode === "navigate" && (url.pathname === "/" || url.pathname === "/join")) {
    event.respondWith(fromCache("/", event, true));
  } else if (SHELL.includes(url.pathname) || url.pathname === TEXT) {
    event.respondWith(fromCache(url.pathname, event, false));
  }
});

// fromCache answers key from the cache, falling back to the network (and caching the answer)
// when it is not there; with refresh, it also refreshes the cached copy in the background.
async function fromCache(key, event, refresh) {
  const cache = await caches.open(CACHE);
  const cached = await cache.match(key);
  const fetchAndStore = () =>
    fetch(key, { cache: "no-cache" }).then((resp) => {
      if (resp.ok) {
        event.waitUntil(cache.put(key, resp.clone()));
      }
      return resp;
    });
  if (cached) {
    if (refresh) {
      event.waitUntil(fetchAndStore().catch(() => {}));
    }
    return cached;
  }
  return fetchAndStore();
}
