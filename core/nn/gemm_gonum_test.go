package nn

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// gonumKernels computes the three products with gonum's Dgemm, whose inner loops are SSE2
// assembly on amd64 (about twice the blocked kernel there, see BenchmarkKernel). Dgemm goes
// parallel, spawning goroutines, once the output has 4 blocks of 64×64; dgemm keeps every
// call below that so that Forward and Backward stay serial, allocation-free and leave the
// use of cores to the caller (see parallel.go).
var gonumKernels = kernelSet{
	forward: func(y, x, w, b []float64, n, in, out int, _ *Tape) {
		for i := 0; i < n; i++ {
			copy(y[i*out:(i+1)*out], b)
		}
		dgemm(blas.NoTrans, blas.Trans, n, out, in, x, in, w, in, y, out)
	},
	weights: func(gw, d, x []float64, n, in, out int, _ *Tape) {
		dgemm(blas.Trans, blas.NoTrans, out, in, n, d, out, x, in, gw, in)
	},
	inputs: func(dx, d, w []float64, n, in, out int, _ *Tape) {
		clear(dx)
		dgemm(blas.NoTrans, blas.NoTrans, n, in, out, d, out, w, in, dx, in)
	},
}

// gonumBlock is the edge of the blocks dgemm hands to gonum one at a time: gonum's own
// block size, so that each call is a single block and runs serially.
const gonumBlock = 64

// dgemm adds op(A)·op(B) to C (m×n), where op(A) is m×k and op(B) is k×n, one 64×64 block
// of C at a time.
func dgemm(tA, tB blas.Transpose, m, n, k int, a []float64, lda int, b []float64, ldb int, c []float64, ldc int) {
	if m == 0 || n == 0 || k == 0 {
		return
	}
	impl := gonum.Implementation{}
	for i := 0; i < m; i += gonumBlock {
		bm := min(gonumBlock, m-i)
		ai := a[i*lda:] // rows i.. of A
		if tA == blas.Trans {
			ai = a[i:] // columns i.. of A
		}
		for j := 0; j < n; j += gonumBlock {
			bn := min(gonumBlock, n-j)
			bj := b[j:] // columns j.. of B
			if tB == blas.Trans {
				bj = b[j*ldb:] // rows j.. of B
			}
			impl.Dgemm(tA, tB, bm, bn, k, 1, ai, lda, bj, ldb, 1, c[i*ldc+j:], ldc)
		}
	}
}
