package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestInitOrthogonal checks W·Wᵀ = gain²·I for wide or square layers and WᵀW = gain²·I for
// tall ones, zero biases, and the output layer's own gain.
func TestInitOrthogonal(t *testing.T) {
	for _, sizes := range [][]int{{4, 64, 64, 2}, {64, 3, 7, 1}, {5, 5}} {
		t.Run(fmt.Sprint(sizes), func(t *testing.T) {
			m := New(sizes, Tanh, Identity)
			for i := range m.Params {
				m.Params[i] = 1 // InitOrthogonal must overwrite everything, biases included
			}
			m.InitOrthogonal(rand.New(rand.NewPCG(1, 2)), math.Sqrt2, 0.01)
			L := len(sizes) - 1
			for l := 0; l < L; l++ {
				w, b := m.Layer(l)
				gain := math.Sqrt2
				if l == L-1 {
					gain = 0.01
				}
				rows, cols := sizes[l+1], sizes[l]
				// Gram matrix of the shorter side's vectors: rows if rows <= cols, else columns.
				nv, at := rows, func(v, k int) float64 { return w[v*cols+k] }
				dim := cols
				if rows > cols {
					nv, dim, at = cols, rows, func(v, k int) float64 { return w[k*cols+v] }
				}
				for u := 0; u < nv; u++ {
					for v := 0; v < nv; v++ {
						s := 0.0
						for k := 0; k < dim; k++ {
							s += at(u, k) * at(v, k)
						}
						want := 0.0
						if u == v {
							want = gain * gain
						}
						if math.Abs(s-want) > 1e-9 {
							t.Fatalf("layer %d: Gram[%d][%d] = %g, want %g", l, u, v, s, want)
						}
					}
				}
				for _, v := range b {
					if v != 0 {
						t.Fatalf("layer %d: bias %g, want 0", l, v)
					}
				}
			}
		})
	}
}
