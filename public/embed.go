// Package public carries the browser app's static files (index.html, CSS, the service worker,
// wasm_exec.js and the built wasm) inside the prefer binary, so one binary is the whole app.
package public

import "embed"

// Files is the app shell. The wasm files are built into this folder by build.sh.
//
//go:embed *
var Files embed.FS
