// Package nn holds small multilayer perceptrons with hand-written, batched forward and
// backward passes over flat slices, Adam, orthogonal initialisation and a weights format
// shared by the browser and the server.
package nn

import (
	"fmt"
	"math"
)

// Activation is an elementwise nonlinearity.
type Activation int

// The activations.
const (
	Identity Activation = iota
	Tanh
	ReLU
	LeakyReLU // slope LeakySlope below zero
)

// LeakySlope is the slope of LeakyReLU for negative inputs (PyTorch's default).
const LeakySlope = 0.01

// MLP is a fully connected network. All weights and biases live in Params, one flat slice,
// so that optimisers, deltas, averaging and serialisation treat a network as one vector.
//
// Layer l maps Sizes[l] inputs to Sizes[l+1] outputs: its weights W (Sizes[l+1] rows of
// Sizes[l], row-major) come first, then its biases. Hidden is applied after every layer but
// the last, Output after the last.
type MLP struct {
	Sizes  []int
	Hidden Activation
	Output Activation
	Params []float64 // len == NumParams(Sizes)
}

// NumParams returns the number of parameters of an MLP with the given layer sizes.
func NumParams(sizes []int) int {
	n := 0
	for l := 0; l+1 < len(sizes); l++ {
		n += sizes[l]*sizes[l+1] + sizes[l+1]
	}
	return n
}

// New returns an MLP with zero parameters. Call InitOrthogonal to initialise it.
func New(sizes []int, hidden, output Activation) *MLP {
	if len(sizes) < 2 {
		panic("nn: an MLP needs at least an input and an output size")
	}
	return &MLP{Sizes: append([]int(nil), sizes...), Hidden: hidden, Output: output, Params: make([]float64, NumParams(sizes))}
}

// Clone returns a deep copy of m.
func (m *MLP) Clone() *MLP {
	c := *m
	c.Sizes = append([]int(nil), m.Sizes...)
	c.Params = append([]float64(nil), m.Params...)
	return &c
}

// In and Out return the input and output widths.
func (m *MLP) In() int  { return m.Sizes[0] }
func (m *MLP) Out() int { return m.Sizes[len(m.Sizes)-1] }

// Layer returns views into Params of layer l's weights (out rows of in, row-major) and biases.
func (m *MLP) Layer(l int) (w, b []float64) {
	off := 0
	for k := 0; k < l; k++ {
		off += m.Sizes[k]*m.Sizes[k+1] + m.Sizes[k+1]
	}
	in, out := m.Sizes[l], m.Sizes[l+1]
	return m.Params[off : off+in*out], m.Params[off+in*out : off+in*out+out]
}

// Tape holds the activations of one batched forward pass, for the backward pass, and its
// scratch buffers. Reuse a Tape across calls to avoid allocation; one Tape per goroutine.
type Tape struct {
	n    int
	acts [][]float64 // acts[0] is the input; acts[l+1] is layer l's output after activation
	dx   [][]float64 // dx[l] is dL/d(acts[l])

	dT, xT, wT []float64 // scratch for the transposed operands of the backward products
	zeros      []float64 // a row of zeros, the start of dL/dx's sums
}

func grow(b []float64, n int) []float64 {
	if cap(b) < n {
		return make([]float64, n)
	}
	return b[:n]
}

// Forward computes the outputs for a batch of n inputs x (n rows of In(), row-major) and
// returns them (n rows of Out()), owned by t until its next use.
func (m *MLP) Forward(t *Tape, x []float64, n int) []float64 {
	if len(x) != n*m.In() {
		panic(fmt.Sprintf("nn: Forward got %d inputs, want %d×%d", len(x), n, m.In()))
	}
	L := len(m.Sizes) - 1
	if len(t.acts) != L+1 {
		t.acts = make([][]float64, L+1)
		t.dx = make([][]float64, L+1)
	}
	t.n = n
	t.acts[0] = x
	for l := 0; l < L; l++ {
		in, out := m.Sizes[l], m.Sizes[l+1]
		w, b := m.Layer(l)
		y := grow(t.acts[l+1], n*out)
		kern.forward(y, t.acts[l], w, b, n, in, out, t)
		act := m.Hidden
		if l == L-1 {
			act = m.Output
		}
		apply(act, y)
		t.acts[l+1] = y
	}
	return t.acts[L]
}

func apply(a Activation, y []float64) {
	switch a {
	case Tanh:
		tanhApply(y)
	case ReLU:
		for i, v := range y {
			if v < 0 {
				y[i] = 0
			}
		}
	case LeakyReLU:
		// Indexed by the sign bit instead of a branch on v < 0, which a batch of mixed signs
		// mispredicts half the time (4-5x slower). Same bits: v·1 is v, and -0·slope is -0.
		for i, v := range y {
			y[i] = v * leakySlopes[math.Float64bits(v)>>63]
		}
	}
}

// leakySlopes are LeakyReLU's slopes for a sign bit of 0 and 1.
var leakySlopes = [2]float64{1, LeakySlope}

// negative is 1 if v < 0 and 0 otherwise (-0 and +0 give 0), without a branch.
func negative(v float64) uint64 {
	b := math.Float64bits(v)
	m := b << 1 // 0 exactly for ±0
	return b >> 63 & ((m | -m) >> 63)
}

// derivative multiplies d in place by the activation's derivative, given its output y.
func derivative(a Activation, y, d []float64) {
	switch a {
	case Tanh:
		d = d[:len(y)]
		for i, v := range y {
			d[i] *= 1 - v*v
		}
	case ReLU:
		for i, v := range y {
			if v <= 0 {
				d[i] = 0
			}
		}
	case LeakyReLU:
		d = d[:len(y)]
		for i, v := range y {
			d[i] *= leakySlopes[negative(v)]
		}
	}
}

// tanhBackward multiplies d in place by tanh's derivative 1 - y², given the outputs y, and adds
// its rows to gb: derivative and the bias gradient in one pass over the batch.
func tanhBackward(y, d, gb []float64) {
	out := len(gb)
	d = d[:len(y)]
	for r := 0; r+out <= len(y); r += out {
		yr := y[r : r+out][:len(gb)]
		dr := d[r : r+out][:len(gb)]
		for j, v := range yr {
			g := dr[j] * (1 - v*v)
			dr[j] = g
			gb[j] += g
		}
	}
}

// leakyBackward is tanhBackward for LeakyReLU: d is multiplied by the slope where y < 0, and
// its rows are added to gb, in one pass over the batch.
func leakyBackward(y, d, gb []float64) {
	out := len(gb)
	d = d[:len(y)]
	for r := 0; r+out <= len(y); r += out {
		yr := y[r : r+out][:len(gb)]
		dr := d[r : r+out][:len(gb)]
		for j, v := range yr {
			g := dr[j] * leakySlopes[negative(v)]
			dr[j] = g
			gb[j] += g
		}
	}
}

// Backward takes dL/dy for the batch of the last Forward on t (n rows of Out()), adds dL/dθ
// to grad (len(Params)), and returns dL/dx (n rows of In()), owned by t. dy is overwritten.
func (m *MLP) Backward(t *Tape, dy []float64, grad []float64) []float64 {
	return m.backward(t, dy, grad, true)
}

// BackwardParams is Backward without dL/dx: it only adds dL/dθ to grad, and skips the first
// layer's input product, which a network fed with data rather than another network's output
// never needs (a twelfth of the work of a 4-64-64 network's backward pass, more for wider
// inputs).
func (m *MLP) BackwardParams(t *Tape, dy []float64, grad []float64) {
	m.backward(t, dy, grad, false)
}

func (m *MLP) backward(t *Tape, dy []float64, grad []float64, wantDX bool) []float64 {
	L := len(m.Sizes) - 1
	n := t.n
	if len(t.acts) != L+1 || len(dy) != n*m.Out() || len(grad) != len(m.Params) {
		panic(fmt.Sprintf("nn: Backward got %d output gradients and %d parameter gradients, want %d×%d and %d after a Forward",
			len(dy), len(grad), n, m.Out(), len(m.Params)))
	}
	d := dy
	off := len(m.Params)
	for l := L - 1; l >= 0; l-- {
		in, out := m.Sizes[l], m.Sizes[l+1]
		off -= in*out + out
		w := m.Params[off : off+in*out]
		gw := grad[off : off+in*out]
		gb := grad[off+in*out : off+in*out+out]
		act := m.Hidden
		if l == L-1 {
			act = m.Output
		}
		switch act {
		case Tanh:
			tanhBackward(t.acts[l+1], d, gb)
		case LeakyReLU:
			leakyBackward(t.acts[l+1], d, gb)
		default:
			derivative(act, t.acts[l+1], d)
			for i := 0; i < n; i++ {
				for j, g := range d[i*out : (i+1)*out] {
					gb[j] += g
				}
			}
		}
		kern.weights(gw, d, t.acts[l], n, in, out, t)
		if l == 0 && !wantDX {
			return nil
		}
		dx := grow(t.dx[l], n*in)
		kern.inputs(dx, d, w, n, in, out, t)
		t.dx[l] = dx
		d = dx
	}
	return d
}
