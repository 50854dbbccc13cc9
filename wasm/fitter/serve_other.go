//go:build !(js && wasm)

package fitter

// Serve runs only in a browser's Web Worker (GOOS=js GOARCH=wasm); natively there is no
// worker to serve, so it panics.
func Serve() { panic("fitter: Serve runs only in a browser Web Worker") }
