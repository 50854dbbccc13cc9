package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// naiveForward is the textbook forward pass, the reference the fast one is checked against.
func naiveForward(m *MLP, x []float64, n int) []float64 {
	L := len(m.Sizes) - 1
	for l := 0; l < L; l++ {
		in, out := m.Sizes[l], m.Sizes[l+1]
		w, b := m.Layer(l)
		y := make([]float64, n*out)
		act := m.Hidden
		if l == L-1 {
			act = m.Output
		}
		for i := 0; i < n; i++ {
			for j := 0; j < out; j++ {
				s := b[j]
				for k := 0; k < in; k++ {
					s += x[i*in+k] * w[j*in+k]
				}
				switch act {
				case Tanh:
					s = math.Tanh(s)
				case ReLU:
					s = math.Max(s, 0)
				case LeakyReLU:
					if s < 0 {
						s *= LeakySlope
					}
				}
				y[i*out+j] = s
			}
		}
		x = y
	}
	return x
}

func randomMLP(seed uint64, sizes []int, hidden, output Activation) *MLP {
	rng := rand.New(rand.NewPCG(seed, 1))
	m := New(sizes, hidden, output)
	for l := 0; l+1 < len(sizes); l++ {
		// Weights of scale 1/√fan-in keep every layer's outputs of order 1, so that finite
		// differences stay accurate; biases too, so that they matter.
		w, b := m.Layer(l)
		for i := range w {
			w[i] = rng.NormFloat64() / math.Sqrt(float64(sizes[l]))
		}
		for i := range b {
			b[i] = rng.NormFloat64() * 0.5
		}
	}
	return m
}

func randomSlice(rng *rand.Rand, n int) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = rng.NormFloat64()
	}
	return s
}

var actNames = map[Activation]string{Identity: "identity", Tanh: "tanh", ReLU: "relu", LeakyReLU: "leaky"}

// loss is L = Σ c⊙y + ½Σy², nonlinear in y so that dL/dy = c + y depends on the forward pass.
func loss(y, c []float64) float64 {
	s := 0.0
	for i, v := range y {
		s += c[i]*v + 0.5*v*v
	}
	return s
}

// TestGradients checks Backward's dL/dθ and dL/dx against central finite differences for
// every activation, several shapes and batch sizes (including ones that hit every edge of the
// 4×4 blocked kernel), with a tape reused throughout.
func TestGradients(t *testing.T) {
	shapes := [][]int{{4, 64, 64, 1}, {3, 5, 2}, {7, 9, 6, 5}, {1, 1}, {6, 4, 8, 3}}
	batches := []int{1, 3, 4, 9}
	acts := []Activation{Tanh, ReLU, LeakyReLU, Identity}
	var tape Tape
	for si, sizes := range shapes {
		for _, hidden := range acts {
			for _, output := range []Activation{Identity, Tanh} {
				for _, n := range batches {
					name := fmt.Sprintf("%v/%s-%s/n=%d", sizes, actNames[hidden], actNames[output], n)
					seed := uint64(si*1000 + int(hidden)*100 + int(output)*10 + n)
					checkGradients(t, name, &tape, randomMLP(seed, sizes, hidden, output), n, seed)
				}
			}
		}
	}
}

func checkGradients(t *testing.T, name string, tape *Tape, m *MLP, n int, seed uint64) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 2))
	x := randomSlice(rng, n*m.In())
	c := randomSlice(rng, n*m.Out())
	y := m.Forward(tape, x, n)
	if want := naiveForward(m, x, n); !close(y, want, 1e-12) {
		t.Fatalf("%s: Forward differs from the naive reference", name)
	}
	dy := make([]float64, len(y))
	for i := range dy {
		dy[i] = c[i] + y[i]
	}
	grad := make([]float64, len(m.Params))
	for i := range grad {
		grad[i] = 0.5 // Backward must add to grad, not overwrite it
	}
	dx := append([]float64(nil), m.Backward(tape, dy, grad)...)
	for i := range grad {
		grad[i] -= 0.5
	}

	const h = 1e-6
	numeric := func(v []float64, i int) float64 {
		old := v[i]
		v[i] = old + h
		lp := loss(naiveForward(m, x, n), c)
		v[i] = old - h
		lm := loss(naiveForward(m, x, n), c)
		v[i] = old
		return (lp - lm) / (2 * h)
	}
	// Every parameter of small networks; a fixed spread of about 300 of the large one.
	stride := max(1, len(m.Params)/300)
	for i := 0; i < len(m.Params); i += stride {
		if g := numeric(m.Params, i); !near(grad[i], g) {
			t.Fatalf("%s: dL/dθ[%d] = %g, finite difference %g", name, i, grad[i], g)
		}
	}
	for i := range x {
		if g := numeric(x, i); !near(dx[i], g) {
			t.Fatalf("%s: dL/dx[%d] = %g, finite difference %g", name, i, dx[i], g)
		}
	}
}

func near(a, b float64) bool {
	return math.Abs(a-b) <= 1e-6*math.Max(1, math.Max(math.Abs(a), math.Abs(b)))
}

func close(a, b []float64, tol float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Abs(a[i]-b[i]) > tol*math.Max(1, math.Abs(b[i])) {
			return false
		}
	}
	return true
}

// TestTapeReuse runs one tape through batch sizes that grow and shrink, and checks each
// result against a fresh tape.
func TestTapeReuse(t *testing.T) {
	m := randomMLP(7, []int{4, 64, 64, 1}, Tanh, Identity)
	rng := rand.New(rand.NewPCG(7, 7))
	var reused Tape
	for _, n := range []int{512, 4, 130, 1, 64, 3200, 5} {
		x := randomSlice(rng, n*4)
		dy := randomSlice(rng, n)
		dy2 := append([]float64(nil), dy...)
		g1 := make([]float64, len(m.Params))
		g2 := make([]float64, len(m.Params))
		y1 := append([]float64(nil), m.Forward(&reused, x, n)...)
		dx1 := append([]float64(nil), m.Backward(&reused, dy, g1)...)
		var fresh Tape
		y2 := m.Forward(&fresh, x, n)
		dx2 := m.Backward(&fresh, dy2, g2)
		if len(y1) != n || !close(y1, y2, 0) || !close(dx1, dx2, 0) || !close(g1, g2, 0) {
			t.Fatalf("n=%d: a reused tape gives different results from a fresh one", n)
		}
	}
}

// TestNoAllocs checks that Forward and Backward allocate nothing once the tape has grown.
func TestNoAllocs(t *testing.T) {
	m := randomMLP(3, []int{4, 64, 64, 1}, Tanh, Identity)
	rng := rand.New(rand.NewPCG(3, 3))
	x := randomSlice(rng, 512*4)
	dy := make([]float64, 512)
	grad := make([]float64, len(m.Params))
	var tape Tape
	m.Forward(&tape, x, 512)
	m.Backward(&tape, dy, grad)
	allocs := testing.AllocsPerRun(10, func() {
		for _, n := range []int{512, 64, 4} {
			m.Forward(&tape, x[:n*4], n)
			m.Backward(&tape, dy[:n], grad)
		}
	})
	if allocs != 0 {
		t.Errorf("Forward+Backward allocated %v times per run after warm-up", allocs)
	}
}

func TestForwardBadInput(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("Forward accepted an input of the wrong length")
		}
	}()
	m := New([]int{3, 2}, Tanh, Identity)
	m.Forward(&Tape{}, make([]float64, 5), 2)
}

func TestBackwardBadInput(t *testing.T) {
	m := New([]int{3, 2}, Tanh, Identity)
	var tape Tape
	for name, f := range map[string]func(){
		"no forward": func() { m.Backward(&Tape{}, make([]float64, 0), make([]float64, 8)) },
		"dy": func() {
			m.Forward(&tape, make([]float64, 6), 2)
			m.Backward(&tape, make([]float64, 3), make([]float64, 8))
		},
		"grad": func() {
			m.Forward(&tape, make([]float64, 6), 2)
			m.Backward(&tape, make([]float64, 4), make([]float64, 7))
		},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: Backward accepted bad input", name)
				}
			}()
			f()
		}()
	}
}

func TestLayerAndClone(t *testing.T) {
	m := randomMLP(1, []int{3, 5, 2}, Tanh, Identity)
	if got, want := len(m.Params), 3*5+5+5*2+2; got != want || NumParams(m.Sizes) != want {
		t.Fatalf("NumParams = %d, want %d", got, want)
	}
	w, b := m.Layer(1)
	if &w[0] != &m.Params[20] || len(w) != 10 || &b[0] != &m.Params[30] || len(b) != 2 {
		t.Fatal("Layer(1) does not view W then b of layer 1 in Params")
	}
	c := m.Clone()
	c.Params[0]++
	c.Sizes[0]++
	if m.Params[0] == c.Params[0] || m.Sizes[0] != 3 {
		t.Fatal("Clone shares memory with the original")
	}
}

// TestBackwardParams checks that BackwardParams adds the same parameter gradient as Backward.
func TestBackwardParams(t *testing.T) {
	m := randomMLP(8, []int{4, 64, 64, 2}, Tanh, Identity)
	rng := rand.New(rand.NewPCG(8, 8))
	for _, n := range []int{1, 4, 130} {
		x := randomSlice(rng, n*4)
		dy := randomSlice(rng, n*2)
		g1 := randomSlice(rng, len(m.Params))
		g2 := append([]float64(nil), g1...)
		var tape Tape
		m.Forward(&tape, x, n)
		m.Backward(&tape, append([]float64(nil), dy...), g1)
		m.Forward(&tape, x, n)
		m.BackwardParams(&tape, dy, g2)
		if !close(g1, g2, 0) {
			t.Fatalf("n=%d: BackwardParams adds a different gradient from Backward", n)
		}
	}
}

// TestLeakyReLUBits checks the branch-free LeakyReLU against its definition bit for bit,
// on both signs, both zeros, tiny and huge values and infinities.
func TestLeakyReLUBits(t *testing.T) {
	vals := []float64{1.5, -1.5, 0, math.Copysign(0, -1), 5e-324, -5e-324, 1e308, -1e308, math.Inf(1), math.Inf(-1), -0.3, 0.7}
	for _, v := range vals {
		want := v
		if v < 0 {
			want = LeakySlope * v
		}
		y := []float64{v}
		apply(LeakyReLU, y)
		if math.Float64bits(y[0]) != math.Float64bits(want) {
			t.Errorf("LeakyReLU(%v) = %v, want %v", v, y[0], want)
		}
		// The derivative, given the output y: the slope where y < 0, 1 elsewhere (y = ±0 too).
		d := []float64{3}
		derivative(LeakyReLU, []float64{v}, d)
		wantD := 3.0
		if v < 0 {
			wantD = 3 * LeakySlope
		}
		if d[0] != wantD {
			t.Errorf("LeakyReLU'(y=%v)·3 = %v, want %v", v, d[0], wantD)
		}
	}
}
