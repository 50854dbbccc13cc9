//go:build !(js && wasm)

package main

import (
	"fmt"
	"os"
)

// main explains how to build the Worker: this package only runs inside the Workers runtime.
func main() {
	fmt.Fprintln(os.Stderr, "server/worker: build with GOOS=js GOARCH=wasm and run with wrangler (see docs/deploy-cloudflare.md)")
	os.Exit(2)
}
