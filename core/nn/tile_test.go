package nn

import (
	"math/rand/v2"
	"testing"
)

// Other register tiles for gemmNT, kept to show why it uses 3×4: BenchmarkTile. They handle
// only m and n that are multiples of their tile.

// gemmNT24 is gemmNT with a 2×4 tile.
func gemmNT24(c, a, b []float64, m, n, k int) {
	for i := 0; i+2 <= m; i += 2 {
		a0 := a[i*k : i*k+k]
		a1 := a[(i+1)*k : (i+1)*k+k]
		for j := 0; j+4 <= n; j += 4 {
			b0, b1, b2, b3 := b[j*k:j*k+k], b[(j+1)*k:(j+1)*k+k], b[(j+2)*k:(j+2)*k+k], b[(j+3)*k:(j+3)*k+k]
			a1 = a1[:len(a0)]
			b0, b1, b2, b3 = b0[:len(a0)], b1[:len(a0)], b2[:len(a0)], b3[:len(a0)]
			var s00, s01, s02, s03, s10, s11, s12, s13 float64
			for p, x0 := range a0 {
				x1 := a1[p]
				y0, y1, y2, y3 := b0[p], b1[p], b2[p], b3[p]
				s00 += x0 * y0
				s01 += x0 * y1
				s02 += x0 * y2
				s03 += x0 * y3
				s10 += x1 * y0
				s11 += x1 * y1
				s12 += x1 * y2
				s13 += x1 * y3
			}
			c0 := c[i*n+j : i*n+j+4]
			c1 := c[(i+1)*n+j : (i+1)*n+j+4]
			c0[0] += s00
			c0[1] += s01
			c0[2] += s02
			c0[3] += s03
			c1[0] += s10
			c1[1] += s11
			c1[2] += s12
			c1[3] += s13
		}
	}
}

// gemmNT42 is gemmNT with a 4×2 tile.
func gemmNT42(c, a, b []float64, m, n, k int) {
	for i := 0; i+4 <= m; i += 4 {
		a0 := a[i*k : i*k+k]
		a1 := a[(i+1)*k : (i+1)*k+k][:len(a0)]
		a2 := a[(i+2)*k : (i+2)*k+k][:len(a0)]
		a3 := a[(i+3)*k : (i+3)*k+k][:len(a0)]
		for j := 0; j+2 <= n; j += 2 {
			b0, b1 := b[j*k : j*k+k][:len(a0)], b[(j+1)*k : (j+1)*k+k][:len(a0)]
			var s00, s01, s10, s11, s20, s21, s30, s31 float64
			for p, x0 := range a0 {
				y0, y1 := b0[p], b1[p]
				x1, x2, x3 := a1[p], a2[p], a3[p]
				s00 += x0 * y0
				s01 += x0 * y1
				s10 += x1 * y0
				s11 += x1 * y1
				s20 += x2 * y0
				s21 += x2 * y1
				s30 += x3 * y0
				s31 += x3 * y1
			}
			c[i*n+j] += s00
			c[i*n+j+1] += s01
			c[(i+1)*n+j] += s10
			c[(i+1)*n+j+1] += s11
			c[(i+2)*n+j] += s20
			c[(i+2)*n+j+1] += s21
			c[(i+3)*n+j] += s30
			c[(i+3)*n+j+1] += s31
		}
	}
}

var tiles = []struct {
	name string
	f    func(c, a, b []float64, m, n, k int)
}{{"3x4", gemmNT}, {"2x4", gemmNT24}, {"4x2", gemmNT42}}

func TestTiles(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	a, b := randomSlice(rng, 8*12), randomSlice(rng, 12*12)
	want := make([]float64, 8*12)
	gemmNT(want, a, b, 8, 12, 12)
	for _, tile := range tiles {
		c := make([]float64, 8*12)
		tile.f(c, a, b, 8, 12, 12)
		if !close(c, want, 1e-12) {
			t.Errorf("tile %s differs from gemmNT", tile.name)
		}
	}
}

// BenchmarkTile times a 128×64 by 64×64 product with each register tile.
func BenchmarkTile(b *testing.B) {
	const m, n, k = 128, 64, 64
	rng := rand.New(rand.NewPCG(1, 2))
	x, w, y := randomSlice(rng, m*k), randomSlice(rng, n*k), make([]float64, m*n)
	for _, tile := range tiles {
		b.Run(tile.name, func(b *testing.B) {
			for b.Loop() {
				tile.f(y, x, w, m, n, k)
			}
			b.ReportMetric(2*m*n*k*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
