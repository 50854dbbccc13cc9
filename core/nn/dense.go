package nn

// Dense products for other packages (core/lm): the same kernel set MLP uses on this
// platform (AVX panels natively, the 3×4 blocked kernel in wasm), with t as scratch.

// DenseForward sets y = x·wᵀ + b for n rows: x is n×in, w is out×in, y is n×out.
func DenseForward(y, x, w, b []float64, n, in, out int, t *Tape) {
	kern.forward(y, x, w, b, n, in, out, t)
}

// DenseWeights adds dᵀ·x to gw: d is n×out, x is n×in, gw is out×in.
func DenseWeights(gw, d, x []float64, n, in, out int, t *Tape) {
	kern.weights(gw, d, x, n, in, out, t)
}

// DenseInputs sets dx = d·w: d is n×out, w is out×in, dx is n×in.
func DenseInputs(dx, d, w []float64, n, in, out int, t *Tape) {
	kern.inputs(dx, d, w, n, in, out, t)
}

// FastTanh is math.Tanh to a few ulp, about twice as fast in wasm (tanh.go).
func FastTanh(x float64) float64 { return tanh(x) }
