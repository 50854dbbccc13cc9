// Command gen writes wasm/simd/gemm.wasm, the WebAssembly SIMD matrix kernel that the browser
// build runs in place of Go's (wasm/simd). The module is committed; TestModuleFile checks that
// this program reproduces it byte for byte. Run from the repository root:
//
//	go run ./wasm/simd/gen
package main

import (
	"log"
	"os"
)

func main() {
	if err := os.WriteFile("wasm/simd/gemm.wasm", module(), 0o644); err != nil {
		log.Fatal("gen: ", err)
	}
}
