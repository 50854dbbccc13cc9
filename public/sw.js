// sw.js is the service worker that keeps the app shell on the device, so that after the first
// visit the app loads and works with no network.
//
// - Shell files (the wasm, wasm_exec.js, scripts, CSS) are answered from the cache. The cache is
//   named after the build (version.js, written by build.sh): a new build changes version.js,
//   the browser installs this worker again, and the new shell replaces the old one.
// - The wasm is kept gzipped (/app.wasm.gz, /text.wasm.gz: fetched as the .wasm, with the
//   server's brotli, and gzipped here), and the page inflates it (index.html): the bytes that
//   cross from this worker to the page, not compiling, were most of a returning rater's wait
//   for a 5 MB wasm. A request for the .wasm itself (the model's workers, fitter.js) is answered
//   inflated here.
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
const SHELL = ["/", "/app.css", "/main.js", "/fitter.js", "/wasm_exec.js", "/app.wasm.gz"];
// TEXT is the full build, which text projects and red-team mode load (ui/fullswitch.go): kept
// when first fetched, and again by every new build on a device that had it.
const TEXT = "/text.wasm.gz";

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    // (A build before the gzip copies kept /text.wasm itself.)
    const had = (await caches.match(TEXT)) || (await caches.match("/text.wasm"));
    const keys = had ? [...SHELL, TEXT] : SHELL;
    const resps = await Promise.all(keys.map((k) => network(k, "reload")));
    const bad = resps.findIndex((r) => !r.ok);
    if (bad >= 0) throw new Error("sw: " + keys[bad] + ": " + resps[bad].status);
    const cache = await caches.open(CACHE);
    await Promise.all(keys.map((k, i) => cache.put(k, resps[i])));
    await self.skipWaiting();
  })());
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
  } else if (SHELL.includes(url.pathname + ".gz") || url.pathname + ".gz" === TEXT) {
    event.respondWith(fromCache(url.pathname + ".gz", event, false).then(inflate));
  }
});

// network fetches a shell file from the server with the given cache mode; a .wasm.gz is the
// .wasm gzipped here.
async function network(key, mode) {
  if (!key.endsWith(".wasm.gz")) {
    return fetch(key, { cache: mode });
  }
  const resp = await fetch(key.slice(0, -3), { cache: mode });
  if (!resp.ok) {
    return resp;
  }
  return new Response(resp.body.pipeThrough(new CompressionStream("gzip")), { headers: { "content-type": "application/gzip" } });
}

// inflate turns a kept .wasm.gz into the wasm.
function inflate(resp) {
  if (!resp.ok) {
    return resp;
  }
  return new Response(resp.body.pipeThrough(new DecompressionStream("gzip")), { headers: { "content-type": "application/wasm" } });
}

// fromCache answers key from the cache, falling back to the network (and caching the answer)
// when it is not there; with refresh, it also refreshes the cached copy in the background.
async function fromCache(key, event, refresh) {
  const cache = await caches.open(CACHE);
  const cached = await cache.match(key);
  const fetchAndStore = () =>
    network(key, "no-cache").then((resp) => {
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
