//go:build !amd64 || purego

package nn

// hasAVX and hasAVX512 are false: gemmNN runs gemmNNGo.
var hasAVX, hasAVX512 = false, false

func panel4x16(c *float64, ldc int, a *float64, ra, ca int, b *float64, ldb, k, nb int, s *float64, lds int) {
	panic("nn: no AVX-512 panels on this platform")
}

func panel4x8(c *float64, ldc int, a *float64, ra, ca int, b *float64, ldb, k, nb int, s *float64, lds int) {
	panic("nn: no AVX panels on this platform")
}

func panel4x4(c *float64, ldc int, a *float64, ra, ca int, b *float64, ldb, k, nb int) {
	panic("nn: no AVX panels on this platform")
}

func panel1x8(c *float64, ldc int, a *float64, ra, ca int, b *float64, ldb, k, nb int) {
	panic("nn: no AVX panels on this platform")
}

func panel1x4(c *float64, ldc int, a *float64, ra, ca int, b *float64, ldb, k, nb int) {
	panic("nn: no AVX panels on this platform")
}
