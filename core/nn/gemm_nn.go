package nn

// gemmNN is the native (amd64) product behind Forward and Backward: C += A·B with B read
// along its rows, so that AVX can multiply 4, 8 or (AVX-512) 16 adjacent columns of C by one broadcast
// element of A. Each of the three products of a dense layer fits it with at most a transpose
// of W (forward) and none of the batch (weights, inputs), see avx below. Every element of C
// is the sequence c += a·b in the order of k, rounded after each multiply and each add, on
// every path (the AVX panels, the column tail, gemmNNGo without AVX), so results are the same
// bits on every amd64 CPU.
//
// BenchmarkKernel and BenchmarkWorkload compare it with gonum's Dgemm, the previous native
// kernel.

// kc is how many steps of k one pass of the panels takes: the kc rows of B and the kc columns
// of A that a pass reads stay in L2 cache while every tile of C goes over them.
const kc = 256

// gemmNN adds A·B to C, where C is m×n with rows ldc apart, A is m×k with element (i, p) at
// a[i·ra + p·ca], and B is k×n with rows ldb apart.
func gemmNN(c []float64, ldc int, a []float64, ra, ca int, b []float64, ldb int, m, n, k int) {
	gemmNNFrom(c, ldc, c, ldc, a, ra, ca, b, ldb, m, n, k)
}

// gemmNNFrom sets C to S + A·B, where S is m×n with rows lds apart: lds = 0 repeats one row
// (a bias; zeros). Each sum starts from S's element and adds the products in the order of k,
// as if S had been copied into C first and gemmNN run, so the bits are the same; but the
// 4-row panels read S directly, saving a pass over C (a copy or clear of the whole batch,
// 14% of a reward fit's time).
func gemmNNFrom(c []float64, ldc int, s []float64, lds int, a []float64, ra, ca int, b []float64, ldb int, m, n, k int) {
	if m == 0 || n == 0 {
		return
	}
	same := &s[0] == &c[0] && lds == ldc
	// initC copies S into C's rows [i0, i1) and columns [j0, j1): where a path other than the
	// 4-row panels' first pass computes C, it adds to C.
	initC := func(i0, i1, j0, j1 int) {
		if same {
			return
		}
		for i := i0; i < i1; i++ {
			copy(c[i*ldc+j0:i*ldc+j1], s[i*lds+j0:i*lds+j1])
		}
	}
	if k == 0 {
		initC(0, m, 0, n)
		return
	}
	// The panels do not check bounds: check the last element each operand is read at.
	_ = c[(m-1)*ldc+n-1]
	_ = s[(m-1)*lds+n-1]
	_ = a[(m-1)*ra+(k-1)*ca]
	_ = b[(k-1)*ldb+n-1]
	if !hasAVX {
		initC(0, m, 0, n)
		gemmNNGo(c, ldc, a, ra, ca, b, ldb, m, n, k)
		return
	}
	n16 := 0
	if hasAVX512 {
		n16 = n / 16
	}
	j16 := 16 * n16 // first column the 4×8 and 4×4 panels take
	n8 := (n - j16) / 8
	n4 := (n - j16) % 8 / 4
	j8 := j16 + 8*n8 // first column the 4×4 panel takes
	j := j8 + 4*n4   // first column of the tail the panels leave
	m4 := m / 4 * 4
	initC(0, m4, j8, n) // the 4×4 panel and the column tail
	initC(m4, m, 0, n)  // the row tail
	for p := 0; p < k; p += kc {
		kk := min(kc, k-p)
		ap, bp := p*ca, p*ldb
		// The first pass starts from S, later ones from what the first left in C.
		src, ld := s, lds
		if p > 0 {
			src, ld = c, ldc
		}
		i := 0
		for ; i < m4; i += 4 {
			if n16 > 0 {
				panel4x16(&c[i*ldc], ldc, &a[i*ra+ap], ra, ca, &b[bp], ldb, kk, n16, &src[i*ld], ld)
			}
			if n8 > 0 {
				panel4x8(&c[i*ldc+j16], ldc, &a[i*ra+ap], ra, ca, &b[bp+j16], ldb, kk, n8, &src[i*ld+j16], ld)
			}
			if n4 > 0 {
				panel4x4(&c[i*ldc+j8], ldc, &a[i*ra+ap], ra, ca, &b[bp+j8], ldb, kk, 1)
			}
		}
		for ; i < m; i++ {
			if 2*n16+n8 > 0 {
				// One row at a time is rare (m mod 4 rows): 8 columns at a time is enough.
				panel1x8(&c[i*ldc], ldc, &a[i*ra+ap], ra, ca, &b[bp], ldb, kk, 2*n16+n8)
			}
			if n4 > 0 {
				panel1x4(&c[i*ldc+j8], ldc, &a[i*ra+ap], ra, ca, &b[bp+j8], ldb, kk, 1)
			}
		}
		if j < n {
			gemmNNGo(c[j:], ldc, a[ap:], ra, ca, b[bp+j:], ldb, m, n-j, kk)
		}
	}
}

// gemmNNGo is gemmNN in Go, the reference of the panels: four rows of C at a time so that
// their sums are independent chains. float64(a*b) keeps the compiler from fusing the
// multiply and add where it could (GOAMD64=v3), which would round differently.
func gemmNNGo(c []float64, ldc int, a []float64, ra, ca int, b []float64, ldb int, m, n, k int) {
	i := 0
	for ; i+4 <= m; i += 4 {
		a0, a1, a2, a3 := a[i*ra:], a[(i+1)*ra:], a[(i+2)*ra:], a[(i+3)*ra:]
		for j := 0; j < n; j++ {
			s0, s1, s2, s3 := c[i*ldc+j], c[(i+1)*ldc+j], c[(i+2)*ldc+j], c[(i+3)*ldc+j]
			for p := 0; p < k; p++ {
				y := b[p*ldb+j]
				s0 += float64(a0[p*ca] * y)
				s1 += float64(a1[p*ca] * y)
				s2 += float64(a2[p*ca] * y)
				s3 += float64(a3[p*ca] * y)
			}
			c[i*ldc+j], c[(i+1)*ldc+j], c[(i+2)*ldc+j], c[(i+3)*ldc+j] = s0, s1, s2, s3
		}
	}
	for ; i < m; i++ {
		ai := a[i*ra:]
		for j := 0; j < n; j++ {
			s := c[i*ldc+j]
			for p := 0; p < k; p++ {
				s += float64(ai[p*ca] * b[p*ldb+j])
			}
			c[i*ldc+j] = s
		}
	}
}

// avx is the kernel set built on gemmNN.
var avx = kernelSet{
	forward: func(y, x, w, b []float64, n, in, out int, t *Tape) {
		if n*(in+out) < in*out {
			// A small batch (a rollout step): transposing it is cheaper than transposing W.
			// Yᵀ = W·Xᵀ adds up the same products in the same order.
			t.xT = grow(t.xT, in*n)
			transpose(t.xT, x, n, in)
			t.dT = grow(t.dT, out*n)
			for j := 0; j < out; j++ {
				fill(t.dT[j*n:(j+1)*n], b[j])
			}
			gemmNN(t.dT, n, w, in, 1, t.xT, n, out, n, in)
			transpose(y, t.dT, out, n)
			return
		}
		t.wT = grow(t.wT, in*out)
		transpose(t.wT, w, out, in)
		gemmNNFrom(y, out, b, 0, x, in, 1, t.wT, out, n, out, in) // every row starts from the bias
	},
	weights: func(gw, d, x []float64, n, in, out int, _ *Tape) {
		gemmNN(gw, in, d, 1, out, x, in, out, in, n)
	},
	inputs: func(dx, d, w []float64, n, in, out int, t *Tape) {
		t.zeros = grow(t.zeros, in)
		clear(t.zeros)
		gemmNNFrom(dx, in, t.zeros, 0, d, out, 1, w, in, n, in, out) // every row starts from zeros
	},
}

func fill(v []float64, x float64) {
	for i := range v {
		v[i] = x
	}
}
