package nn

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestGemm checks the blocked products against plain loops on shapes that exercise every
// combination of full 3×4 blocks and edges, and several weight-gradient chunks.
func TestGemm(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, m := range []int{1, 2, 4, 5, 8, 13} {
		for _, n := range []int{1, 3, 4, 7, 12} {
			for _, k := range []int{1, 2, 4, 9, 64} {
				a := randomSlice(rng, m*k)
				b := randomSlice(rng, n*k)
				c := randomSlice(rng, m*n)
				want := append([]float64(nil), c...)
				for i := 0; i < m; i++ {
					for j := 0; j < n; j++ {
						for p := 0; p < k; p++ {
							want[i*n+j] += a[i*k+p] * b[j*k+p]
						}
					}
				}
				gemmNT(c, a, b, m, n, k)
				if !close(c, want, 1e-12) {
					t.Fatalf("gemmNT m=%d n=%d k=%d differs from plain loops", m, n, k)
				}
			}
		}
	}
	for _, rows := range []int{1, 5, chunkRows, chunkRows + 3, 3*chunkRows - 1} {
		t.Run(fmt.Sprint("weights/", rows), func(t *testing.T) {
			const in, out = 6, 5
			d := randomSlice(rng, rows*out)
			x := randomSlice(rng, rows*in)
			gw := randomSlice(rng, out*in)
			want := append([]float64(nil), gw...)
			for i := 0; i < rows; i++ {
				for j := 0; j < out; j++ {
					for k := 0; k < in; k++ {
						want[j*in+k] += d[i*out+j] * x[i*in+k]
					}
				}
			}
			gemmWeights(gw, d, x, rows, in, out, make([]float64, out*chunkRows), make([]float64, in*chunkRows))
			if !close(gw, want, 1e-12) {
				t.Fatal("gemmWeights differs from plain loops")
			}
		})
	}
}
