// Package simd runs the matrix products and tanh of core/nn's fits in a small WebAssembly
// module that uses the SIMD proposal's f64x2 instructions, which Go's wasm compiler does not
// emit: in the browser and under Node it replaces the Go kernels (nn.SetGemm, nn.SetTanh) with
// the same bits, and fits task T1 about 2.8 times as fast. The module (gemm.wasm, 3.4 KB,
// written by ./gen) imports Go's own memory, so it reads and writes Go's slices in place.
package simd

import _ "embed"

// module is gemm.wasm: gemm, with nn.Gemm's parameters as i32 (addresses in bytes, strides in
// float64s, first as 0 or 1), and tanh(y, n) for an even n.
//
//go:embed gemm.wasm
var module []byte

// MemoryGlobal is the name of the JavaScript global through which the code that instantiates
// Go's wasm (public/main.js, public/fitter.js, node_preload.js) hands over Go's
// WebAssembly.Memory: nothing in wasm_exec.js gives Go a way to reach it.
const MemoryGlobal = "preferGoMemory"
