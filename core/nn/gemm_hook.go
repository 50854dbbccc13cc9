package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Gemm is a matrix product that a platform can supply in place of gemmNT: in the browser, a
// WebAssembly SIMD module working in Go's own memory (wasm/simd), which Go's compiler cannot
// emit. It adds A·B to C, where C is m×n with rows ldc apart, B is k×n with rows ldb apart, and
// A is m×k read through strides, a(i, p) = a[i*sai + p*sap], so that a transposed operand
// needs no copy. Strides count elements.
//
// Its results must be the bits of the Go kernels, so it must compute each element of C as
// they do: a sum s that starts at 0 (if first, at a(i,0)·b(0,j), and p starts at 1), to which
// the products a(i,p)·b(p,j) are added for p ascending, each product rounded and then the
// sum rounded (no fused multiply-add), and then c(i,j) += s. gemmRef is that definition.
type Gemm func(c []float64, ldc int, a []float64, sai, sap int, b []float64, ldb int, m, n, k int, first bool)

// SetGemm makes Forward, Backward and the Dense products use g for all their matrix products,
// with the same bits; nil restores the Go kernels. It must not be called while a product runs.
func SetGemm(g Gemm) {
	if g == nil {
		kern = goKern
		return
	}
	kern = hooked(g)
}

// SetTanh makes the Tanh activation of Forward use f, which must replace every element of
// its argument by tanhSlice's bits; nil restores tanhSlice.
func SetTanh(f func(y []float64)) {
	if f == nil {
		f = tanhSlice
	}
	tanhApply = f
}

// tanhApply is the Tanh activation's loop (SetTanh).
var tanhApply = tanhSlice

// CheckTanh returns an error unless f gives tanhSlice's bits on inputs from every case of
// tanh (±0, |x| < 0.625, [0.625, 22], > 22, ±Inf) and the edges between them, on slices of
// every length from 0 to 9.
func CheckTanh(f func(y []float64)) error {
	rng := rand.New(rand.NewPCG(11, 17))
	var xs []float64
	for _, v := range []float64{0, 0.625, 22, 1e-300, 5e-324, math.Nextafter(0.625, 0), math.Nextafter(22, 23), 1, 3, 21.9, 44, math.Inf(1)} {
		xs = append(xs, v, -v)
	}
	for range 500 {
		xs = append(xs, rng.NormFloat64(), 0.5*rng.NormFloat64(), 10*rng.NormFloat64())
	}
	for n := 0; n <= 9; n++ {
		for i := 0; i+n <= len(xs); i += n + 1 {
			want := append([]float64(nil), xs[i:i+n]...)
			got := append([]float64(nil), want...)
			tanhSlice(want)
			f(got)
			for j := range want {
				if math.Float64bits(got[j]) != math.Float64bits(want[j]) {
					return fmt.Errorf("nn: tanh(%v) is %v, tanhSlice's %v", xs[i+j], got[j], want[j])
				}
			}
		}
	}
	return nil
}

// goKern is this platform's Go kernel set, which SetGemm(nil) restores.
var goKern = kern

// firstTerm says whether gemmNT starts a sum of k products from its first product rather
// than from 0: its paths for k = 1 and k = 4 do (c += x·y, c += x0·y0 + x1·y1 + ...), its
// tiles do not. The two differ only in the sign of a zero, but that is a different bit.
func firstTerm(k int) bool { return k == 1 || k == 4 }

// hooked is the kernel set of blocked with every gemmNT replaced by g, so that each element
// is the same sum in the same order. Products of the form X·Wᵀ use g on Wᵀ (copied: W is
// small); the others read their operands in place through g's strides, with no transposes.
func hooked(g Gemm) kernelSet {
	return kernelSet{
		forward: func(y, x, w, b []float64, n, in, out int, t *Tape) {
			fillRows(y[:n*out], b)
			if n == 0 || out == 0 || in == 0 {
				return
			}
			t.wT = grow(t.wT, in*out)
			transpose(t.wT, w, out, in)
			g(y, out, x, in, 1, t.wT, out, n, out, in, firstTerm(in))
		},
		weights: func(gw, d, x []float64, n, in, out int, t *Tape) {
			if in == 0 || out == 0 {
				return
			}
			// gemmWeights' chunks of rows: each chunk's sum is added to gw on its own.
			for r := 0; r < n; r += chunkRows {
				rows := min(chunkRows, n-r)
				if out == 1 {
					// gemmWeights' one-output loop sums from 0 whatever the number of rows.
					g(gw, in, d[r:], 1, 1, x[r*in:], in, 1, in, rows, false)
					continue
				}
				// dᵀ read in place: a(i, p) = d[(r+p)*out + i].
				g(gw, in, d[r*out:], 1, out, x[r*in:], in, out, in, rows, firstTerm(rows))
			}
		},
		inputs: func(dx, d, w []float64, n, in, out int, t *Tape) {
			clear(dx)
			if n == 0 || in == 0 || out == 0 {
				return
			}
			g(dx, in, d, out, 1, w, in, n, in, out, firstTerm(out))
		},
	}
}

// gemmRef is the definition of Gemm in plain loops, for tests.
func gemmRef(c []float64, ldc int, a []float64, sai, sap int, b []float64, ldb int, m, n, k int, first bool) {
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			p, s := 0, 0.0
			if first {
				p, s = 1, a[i*sai]*b[j]
			}
			for ; p < k; p++ {
				s += a[i*sai+p*sap] * b[p*ldb+j]
			}
			c[i*ldc+j] += s
		}
	}
}

// CheckGemm returns an error unless the three products of a dense layer built on g give the
// bits of the Go kernels, on shapes with every kind of edge: rows, inputs and outputs that
// are not multiples of any tile, k = 1 and k = 4 (the sums that start from their first
// product), weight gradients over several chunks of rows with a last chunk of 1 or 4, and
// operands with signed zeros, whose sums differ only in the sign of a zero if started wrong.
func CheckGemm(g Gemm) error {
	rng := rand.New(rand.NewPCG(7, 13))
	draw := func(n int) []float64 {
		s := make([]float64, n)
		for i := range s {
			switch rng.IntN(6) {
			case 0:
				s[i] = 0
			case 1:
				s[i] = math.Copysign(0, -1)
			default:
				s[i] = rng.NormFloat64()
			}
		}
		return s
	}
	sizes := []int{1, 3, 4, 7, 9}
	var tg, th Tape
	h := hooked(g)
	for _, n := range []int{1, 3, 7, chunkRows + 1, 2*chunkRows + 4} {
		for _, in := range sizes {
			for _, out := range sizes {
				x, w, b, d := draw(n*in), draw(out*in), draw(out), draw(n*out)
				y0, y1 := make([]float64, n*out), make([]float64, n*out)
				blocked.forward(y0, x, w, b, n, in, out, &tg)
				h.forward(y1, x, w, b, n, in, out, &th)
				gw0 := draw(out * in)
				gw1 := append([]float64(nil), gw0...)
				blocked.weights(gw0, d, x, n, in, out, &tg)
				h.weights(gw1, d, x, n, in, out, &th)
				dx0, dx1 := draw(n*in), draw(n*in)
				blocked.inputs(dx0, d, w, n, in, out, &tg)
				h.inputs(dx1, d, w, n, in, out, &th)
				for _, p := range []struct {
					name   string
					goK, g []float64
				}{{"forward", y0, y1}, {"weights", gw0, gw1}, {"inputs", dx0, dx1}} {
					for i := range p.goK {
						if math.Float64bits(p.goK[i]) != math.Float64bits(p.g[i]) {
							return fmt.Errorf("nn: the %s product of %d rows, %d inputs, %d outputs differs from the Go kernels' at %d: %v against %v",
								p.name, n, in, out, i, p.g[i], p.goK[i])
						}
					}
				}
			}
		}
	}
	return nil
}
