//go:build !wasm

package nn

// kern is the kernel set Forward and Backward use. Natively gonum's Dgemm, whose SSE2
// assembly ran at about 9 GFLOP/s on 64-wide layers against 4 for the blocked Go kernel
// and 3.3 for plain loops (BenchmarkKernel, one core).
var kern = gonumKernels
