package nn

import (
	"math/rand/v2"
	"testing"
)

// TestGemmNN checks gemmNN against plain loops bit for bit, on shapes that exercise full
// 4×16 (AVX-512), 4×8 and 4×4 tiles, single rows, column tails, several kc passes, and the strided A of the
// weight gradient; and checks that gemmNNGo (the path without AVX) gives the same bits.
func TestGemmNN(t *testing.T) {
	// With AVX-512, once with the 16-column panels and once without them.
	defer func(v bool) { hasAVX512 = v }(hasAVX512)
	for _, wide := range []bool{hasAVX512, false} {
		hasAVX512 = wide
		testGemmNN(t)
	}
}

func testGemmNN(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	for _, m := range []int{1, 3, 4, 5, 9} {
		for _, n := range []int{1, 2, 4, 7, 8, 12, 13, 16, 28, 31, 64} {
			for _, k := range []int{1, 3, 64, kc + 5} {
				for _, trans := range []bool{false, true} {
					ra, ca := k, 1 // A row-major
					if trans {
						ra, ca = 1, m // A stored transposed, as dYᵀ in the weight gradient
					}
					a := randomSlice(rng, m*k)
					const ldb, pad = 70, 3 // B rows and C rows longer than n
					b := randomSlice(rng, (k-1)*ldb+n)
					ldc := n + pad
					c := randomSlice(rng, (m-1)*ldc+n)
					want := append([]float64(nil), c...)
					for i := 0; i < m; i++ {
						for j := 0; j < n; j++ {
							s := want[i*ldc+j]
							for p := 0; p < k; p++ {
								s += float64(a[i*ra+p*ca] * b[p*ldb+j])
							}
							want[i*ldc+j] = s
						}
					}
					slow := append([]float64(nil), c...)
					gemmNN(c, ldc, a, ra, ca, b, ldb, m, n, k)
					gemmNNGo(slow, ldc, a, ra, ca, b, ldb, m, n, k)
					for i := range want {
						if c[i] != want[i] || slow[i] != want[i] {
							t.Fatalf("m=%d n=%d k=%d transposed A %v: element %d is %v (gemmNN), %v (gemmNNGo), want %v",
								m, n, k, trans, i, c[i], slow[i], want[i])
						}
					}
				}
			}
		}
	}
}

// TestAVXBits checks that Forward and Backward on the avx kernels give the same bits whether
// the panels or gemmNNGo do the work, on the layer shapes Prefer uses and a rollout-sized batch.
func TestAVXBits(t *testing.T) {
	if !hasAVX {
		t.Skip("no AVX panels on this machine")
	}
	defer func(k kernelSet) { kern = k }(kern)
	kern = avx
	m := randomMLP(6, []int{4, 64, 64, 2}, Tanh, Identity)
	rng := rand.New(rand.NewPCG(6, 6))
	for _, n := range []int{1, 4, 130} {
		x := randomSlice(rng, n*4)
		dy := randomSlice(rng, n*2)
		run := func() []float64 {
			var tape Tape
			grad := make([]float64, len(m.Params))
			y := m.Forward(&tape, x, n)
			dx := m.Backward(&tape, append([]float64(nil), dy...), grad)
			return append(append(append([]float64(nil), y...), dx...), grad...)
		}
		fast := run()
		hasAVX = false
		slow := run()
		hasAVX = true
		for i := range fast {
			if fast[i] != slow[i] {
				t.Fatalf("n=%d: value %d is %v with AVX, %v without", n, i, fast[i], slow[i])
			}
		}
	}
}

// TestGemmNNFrom checks that starting the sums from S (a repeated row, or a matrix of its
// own) gives the bits of copying S into C and adding A·B, with and without AVX-512, across
// several kc passes and both tails.
func TestGemmNNFrom(t *testing.T) {
	defer func(v bool) { hasAVX512 = v }(hasAVX512)
	rng := rand.New(rand.NewPCG(3, 3))
	for _, wide := range []bool{hasAVX512, false} {
		hasAVX512 = wide
		for _, m := range []int{1, 4, 7, 130} {
			for _, n := range []int{3, 8, 20, 64} {
				for _, k := range []int{0, 1, 5, kc + 3} {
					for _, lds := range []int{0, n + 2} {
						a := randomSlice(rng, m*k+1)
						b := randomSlice(rng, k*n+1)
						s := randomSlice(rng, max(m-1, 0)*lds+n)
						ldc := n + 1
						want := randomSlice(rng, (m-1)*ldc+n)
						got := append([]float64(nil), want...)
						for i := 0; i < m; i++ {
							copy(want[i*ldc:i*ldc+n], s[i*lds:i*lds+n])
						}
						gemmNNGo(want, ldc, a, k, 1, b, n, m, n, k)
						gemmNNFrom(got, ldc, s, lds, a, k, 1, b, n, m, n, k)
						for i := range want {
							if got[i] != want[i] {
								t.Fatalf("AVX-512 %v, m=%d n=%d k=%d lds=%d: element %d is %v, want %v", wide, m, n, k, lds, i, got[i], want[i])
							}
						}
					}
				}
			}
		}
	}
}
