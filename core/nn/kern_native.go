//go:build !wasm

package nn

// kern is the kernel set Forward and Backward use. Natively gemmNN, AVX panels of 4×8
// broadcast multiply-adds (gemm_nn.go): on the reward model's 3200-row batch about 5× gonum's
// Dgemm, the previous choice, whose SSE2 dot and axpy loops ran 1.3-2 GFLOP/s end to end on
// the loaded 2-core machine (BenchmarkWorkload; CPU time of task T1 16.3 s → 7.0 s for 4 fits).
var kern = avx
