package nn

// The three matrix products of a dense layer, all reduced to one register-blocked kernel:
//
//	forward   Y  = X·Wᵀ + b   (n×out)   gemmNT(Y, X, W) after filling Y's rows with b
//	weights   dW += dYᵀ·X     (out×in)  gemmNT(dW, dYᵀ, Xᵀ) over packed row chunks
//	inputs    dX = dY·W       (n×in)    gemmNT(dX, dY, Wᵀ) with W packed transposed
//
// Go has no SIMD in wasm and no auto-vectorisation natively, so speed comes from keeping a
// 3×4 block of C in registers (kernel3x4, formerly 4×4): each step of the inner loop loads 7
// numbers and does 12 multiply-adds, against 2 loads per multiply-add for plain loops. The inner loop runs along
// contiguous rows of both operands, so bounds checks are eliminated. In wasm under Node this
// ran a 128×64 by 64×64 product at 3.9 GFLOP/s against 3.7 for a 2×4 tile, 3.5 for 4×2, and
// about 1 for plain loops and gonum's Dgemm. Natively the 4×4 tile spills (amd64 has 15 free
// float registers): 4.2 GFLOP/s against 8 for 2×4 or 4×2 and 9.4 for gonum's SSE2 assembly,
// so native builds used gonum until gemmNN's AVX panels replaced it (gemm_nn.go, kern_native.go).

// gemmNT adds A·Bᵀ to C, where A is m×k, B is n×k and C is m×n, all row-major and dense.
func gemmNT(c, a, b []float64, m, n, k int) {
	if m == 0 || n == 0 || k == 0 {
		return
	}
	_ = a[m*k-1]
	_ = b[n*k-1]
	_ = c[m*n-1]
	if k == 1 {
		// A rank-one update, such as the input gradient of a layer with one output: the
		// tiles below would loop once per call.
		b = b[:n]
		for i, x := range a[:m] {
			ci := c[i*n : i*n+n][:len(b)]
			for j, y := range b {
				ci[j] += x * y
			}
		}
		return
	}
	if k == 4 {
		// Rows of four, such as a first layer fed CartPole's observations: a tile would loop
		// four times per call. Each element is the same sum in the same order as in a tile.
		b = b[:4*n]
		for i := 0; i < m; i++ {
			ai := a[i*4 : i*4+4]
			x0, x1, x2, x3 := ai[0], ai[1], ai[2], ai[3]
			ci := c[i*n : i*n+n]
			for j := range ci {
				y := b[4*j : 4*j+4]
				ci[j] += x0*y[0] + x1*y[1] + x2*y[2] + x3*y[3]
			}
		}
		return
	}
	i := 0
	for ; i+3 <= m; i += 3 {
		a0 := a[i*k : i*k+k]
		a1 := a[(i+1)*k : (i+1)*k+k]
		a2 := a[(i+2)*k : (i+2)*k+k]
		c0 := c[i*n : i*n+n]
		c1 := c[(i+1)*n : (i+1)*n+n]
		c2 := c[(i+2)*n : (i+2)*n+n]
		j := 0
		for ; j+4 <= n; j += 4 {
			kernel3x4(c0[j:j+4], c1[j:j+4], c2[j:j+4], a0, a1, a2,
				b[j*k:j*k+k], b[(j+1)*k:(j+1)*k+k], b[(j+2)*k:(j+2)*k+k], b[(j+3)*k:(j+3)*k+k])
		}
		for ; j < n; j++ {
			bj := b[j*k : j*k+k]
			c0[j], c1[j], c2[j] = kernel3x1(c0[j], c1[j], c2[j], a0, a1, a2, bj)
		}
	}
	for ; i < m; i++ {
		ai := a[i*k : i*k+k]
		ci := c[i*n : i*n+n]
		j := 0
		for ; j+4 <= n; j += 4 {
			kernel1x4(ci[j:j+4], ai, b[j*k:j*k+k], b[(j+1)*k:(j+1)*k+k], b[(j+2)*k:(j+2)*k+k], b[(j+3)*k:(j+3)*k+k])
		}
		for ; j < n; j++ {
			ci[j] += dot(ai, b[j*k:j*k+k])
		}
	}
}

// kernel3x4 adds to the 3×4 block c the dot products of rows a0..a2 with rows b0..b3. Twelve
// accumulators and seven loads fit wasm engines' registers better than the 4×4 tile gemmNT
// used before: 3.95 against 2.81 GFLOP/s under Node 20 (CPU-time medians, BenchmarkTile).
// The loop takes two steps of p per iteration, halving the loop control wasm executes per
// multiply-add: about 18% faster under Node 20 on k = 64, with each sum still running in the
// order of p, so the results are the same bits as one step per iteration.
func kernel3x4(c0, c1, c2, a0, a1, a2, b0, b1, b2, b3 []float64) {
	c0, c1, c2 = c0[:4], c1[:4], c2[:4]
	a1, a2 = a1[:len(a0)], a2[:len(a0)]
	b0, b1, b2, b3 = b0[:len(a0)], b1[:len(a0)], b2[:len(a0)], b3[:len(a0)]
	var s00, s01, s02, s03, s10, s11, s12, s13, s20, s21, s22, s23 float64
	p := 1
	for ; p < len(a0); p += 2 {
		x0, x1, x2 := a0[p-1], a1[p-1], a2[p-1]
		y0, y1, y2, y3 := b0[p-1], b1[p-1], b2[p-1], b3[p-1]
		s00 += x0 * y0
		s01 += x0 * y1
		s02 += x0 * y2
		s03 += x0 * y3
		s10 += x1 * y0
		s11 += x1 * y1
		s12 += x1 * y2
		s13 += x1 * y3
		s20 += x2 * y0
		s21 += x2 * y1
		s22 += x2 * y2
		s23 += x2 * y3
		x0, x1, x2 = a0[p], a1[p], a2[p]
		y0, y1, y2, y3 = b0[p], b1[p], b2[p], b3[p]
		s00 += x0 * y0
		s01 += x0 * y1
		s02 += x0 * y2
		s03 += x0 * y3
		s10 += x1 * y0
		s11 += x1 * y1
		s12 += x1 * y2
		s13 += x1 * y3
		s20 += x2 * y0
		s21 += x2 * y1
		s22 += x2 * y2
		s23 += x2 * y3
	}
	if p == len(a0) {
		p--
		x0, x1, x2 := a0[p], a1[p], a2[p]
		y0, y1, y2, y3 := b0[p], b1[p], b2[p], b3[p]
		s00 += x0 * y0
		s01 += x0 * y1
		s02 += x0 * y2
		s03 += x0 * y3
		s10 += x1 * y0
		s11 += x1 * y1
		s12 += x1 * y2
		s13 += x1 * y3
		s20 += x2 * y0
		s21 += x2 * y1
		s22 += x2 * y2
		s23 += x2 * y3
	}
	c0[0] += s00
	c0[1] += s01
	c0[2] += s02
	c0[3] += s03
	c1[0] += s10
	c1[1] += s11
	c1[2] += s12
	c1[3] += s13
	c2[0] += s20
	c2[1] += s21
	c2[2] += s22
	c2[3] += s23
}

// kernel3x1 returns c0..c2 plus the dot products of rows a0..a2 with row b.
func kernel3x1(c0, c1, c2 float64, a0, a1, a2, b []float64) (float64, float64, float64) {
	a1, a2, b = a1[:len(a0)], a2[:len(a0)], b[:len(a0)]
	var s0, s1, s2 float64
	for p, x0 := range a0 {
		y := b[p]
		s0 += x0 * y
		s1 += a1[p] * y
		s2 += a2[p] * y
	}
	return c0 + s0, c1 + s1, c2 + s2
}

// kernel1x4 adds to c[0:4] the dot products of row a with rows b0..b3.
func kernel1x4(c, a, b0, b1, b2, b3 []float64) {
	c = c[:4]
	b0, b1, b2, b3 = b0[:len(a)], b1[:len(a)], b2[:len(a)], b3[:len(a)]
	var s0, s1, s2, s3 float64
	for p, x := range a {
		s0 += x * b0[p]
		s1 += x * b1[p]
		s2 += x * b2[p]
		s3 += x * b3[p]
	}
	c[0] += s0
	c[1] += s1
	c[2] += s2
	c[3] += s3
}

func dot(a, b []float64) float64 {
	b = b[:len(a)]
	s := 0.0
	for p, x := range a {
		s += x * b[p]
	}
	return s
}

// transpose writes the r×c matrix src, row-major, into dst as c×r, row-major. It reads four
// rows of src at a time so that each store and bounds check covers four adjacent elements of
// dst: in wasm the single-row loop took 8% of task T1.
func transpose(dst, src []float64, r, c int) {
	_ = src[r*c-1]
	_ = dst[r*c-1]
	i := 0
	for ; i+4 <= r; i += 4 {
		s0 := src[i*c : i*c+c]
		s1 := src[(i+1)*c : (i+1)*c+c][:len(s0)]
		s2 := src[(i+2)*c : (i+2)*c+c][:len(s0)]
		s3 := src[(i+3)*c : (i+3)*c+c][:len(s0)]
		for j, v := range s0 {
			d := dst[j*r+i : j*r+i+4]
			d[0], d[1], d[2], d[3] = v, s1[j], s2[j], s3[j]
		}
	}
	for ; i < r; i++ {
		row := src[i*c : i*c+c]
		for j, v := range row {
			dst[j*r+i] = v
		}
	}
}

// fillRows fills y, whole rows of len(b), with copies of b, by doubling copies: a few calls
// of memmove instead of one per row.
func fillRows(y, b []float64) {
	copy(y, b)
	for f := len(b); f < len(y); f *= 2 {
		copy(y[f:], y[:f])
	}
}

// kernelSet holds the three products of a dense layer, so that benchmarks can compare
// implementations end to end. Scratch comes from the tape.
type kernelSet struct {
	forward func(y, x, w, b []float64, n, in, out int, t *Tape) // y = x·wᵀ + b
	weights func(gw, d, x []float64, n, in, out int, t *Tape)   // gw += dᵀ·x
	inputs  func(dx, d, w []float64, n, in, out int, t *Tape)   // dx = d·w
}

// blocked is the kernel set built on gemmNT.
var blocked = kernelSet{
	forward: func(y, x, w, b []float64, n, in, out int, t *Tape) {
		fillRows(y[:n*out], b)
		gemmNT(y, x, w, n, out, in)
	},
	weights: func(gw, d, x []float64, n, in, out int, t *Tape) {
		t.dT = grow(t.dT, out*min(n, chunkRows))
		t.xT = grow(t.xT, in*min(n, chunkRows))
		gemmWeights(gw, d, x, n, in, out, t.dT, t.xT)
	},
	inputs: func(dx, d, w []float64, n, in, out int, t *Tape) {
		t.wT = grow(t.wT, in*out)
		transpose(t.wT, w, out, in)
		clear(dx)
		gemmNT(dx, d, t.wT, n, in, out)
	},
}

// chunkRows is how many batch rows the weight gradient packs at a time: the transposed
// chunks of dY and X (2 × 64 × chunkRows float64s for a 64-wide layer) stay in L2 cache.
const chunkRows = 128

// gemmWeights adds dᵀ·x to gw: d is n×out, x is n×in, gw is out×in. dT and xT are scratch of
// at least out×chunkRows and in×chunkRows.
func gemmWeights(gw, d, x []float64, n, in, out int, dT, xT []float64) {
	if out == 1 && n > 0 {
		// One output: gw is a sum of rows of x weighted by d, with no need to transpose x.
		// It adds up the same products in the same order as the tiles.
		s := xT[:in]
		for r := 0; r < n; r += chunkRows {
			rows := min(chunkRows, n-r)
			clear(s)
			for p, g := range d[r : r+rows] {
				xp := x[(r+p)*in : (r+p)*in+in][:len(s)]
				for j, v := range xp {
					s[j] += g * v
				}
			}
			for j, v := range s {
				gw[j] += v
			}
		}
		return
	}
	for r := 0; r < n; r += chunkRows {
		rows := min(chunkRows, n-r)
		transpose(dT, d[r*out:(r+rows)*out], rows, out)
		transpose(xT, x[r*in:(r+rows)*in], rows, in)
		gemmNT(gw, dT[:out*rows], xT[:in*rows], out, in, rows)
	}
}
