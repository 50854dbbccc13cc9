//go:build wasm

package nn

// kern is the kernel set Forward and Backward use. In wasm, which has no SIMD from Go, the
// 3×4 register-blocked kernel: 2-3.9 GFLOP/s on 64-wide layers against about 1 for plain
// loops and for gonum's Dgemm (BenchmarkKernel under Node 20).
// In the browser, wasm/simd replaces its products (SetGemm) and tanh (SetTanh) with SIMD.
var kern = blocked
