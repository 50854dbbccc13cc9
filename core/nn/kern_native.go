//go:build !wasm

package nn

// kern is the kernel set Forward and Backward use. Natively gonum's Dgemm: its SSE2 assembly
// ran a 128×64 by 64×64 product at about 9 GFLOP/s, against 4 for the 4×4 blocked Go kernel
// (which spills registers on amd64), 8 for a 2×4 tile and 3.3 for plain loops (one core).
var kern = gonumKernels
