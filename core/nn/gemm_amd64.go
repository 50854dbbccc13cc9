//go:build !purego

package nn

// The AVX panels of gemmNN, in gemm_amd64.s. Each adds to a block of rows×(cols·nb) of C, nb
// tiles of rows×cols side by side, A·B over k steps, in the order of gemmNNGo. The 4-row
// panels start from s (rows lds apart) instead of C: see gemmNNFrom.

//go:noescape
func panel4x16(c *float64, ldc int, a *float64, ra, ca int, b *float64, ldb, k, nb int, s *float64, lds int)

//go:noescape
func panel4x8(c *float64, ldc int, a *float64, ra, ca int, b *float64, ldb, k, nb int, s *float64, lds int)

//go:noescape
func panel4x4(c *float64, ldc int, a *float64, ra, ca int, b *float64, ldb, k, nb int)

//go:noescape
func panel1x8(c *float64, ldc int, a *float64, ra, ca int, b *float64, ldb, k, nb int)

//go:noescape
func panel1x4(c *float64, ldc int, a *float64, ra, ca int, b *float64, ldb, k, nb int)

func cpuHasAVX() bool

func cpuHasAVX512() bool

// hasAVX says whether the CPU and OS support AVX; without it gemmNN runs gemmNNGo, which
// computes the same numbers bit for bit, more slowly.
var hasAVX = cpuHasAVX()

// hasAVX512 says whether the CPU and OS support AVX-512F; gemmNN then covers 16 columns at a
// time with panel4x16, twice the work per instruction of panel4x8, with the same bits.
var hasAVX512 = hasAVX && cpuHasAVX512()
