package lm

import (
	"math"
	"math/rand/v2"
	"testing"
)

func tinyConfig() Config {
	c := DefaultConfig()
	c.Vocab, c.Ctx, c.Dim, c.Layers, c.Heads, c.Batch = 11, 6, 8, 2, 2, 3
	return c
}

func randVec(rng *rand.Rand, n int, std float64) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = rng.NormFloat64() * std
	}
	return v
}

// checkGrad compares analytic gradients of f with central differences at x.
func checkGrad(t *testing.T, name string, x, analytic []float64, f func() float64) {
	t.Helper()
	const h = 1e-5
	worst := 0.0
	for i := range x {
		old := x[i]
		x[i] = old + h
		up := f()
		x[i] = old - h
		down := f()
		x[i] = old
		num := (up - down) / (2 * h)
		err := math.Abs(num-analytic[i]) / max(1e-6, math.Abs(num)+math.Abs(analytic[i]))
		if math.Abs(num-analytic[i]) > 1e-7 && err > worst {
			worst = err
		}
	}
	if worst > 1e-5 {
		t.Errorf("%s: worst relative gradient error %.3g", name, worst)
	}
}

func TestLayerNormGrad(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	n, d := 3, 5
	x, g, b, w := randVec(rng, n*d, 1), randVec(rng, d, 1), randVec(rng, d, 1), randVec(rng, n*d, 1)
	y, xh, rs := make([]float64, n*d), make([]float64, n*d), make([]float64, n)
	f := func() float64 {
		layerNorm(y, xh, rs, x, g, b, n, d)
		s := 0.0
		for i := range y {
			s += w[i] * y[i]
		}
		return s
	}
	f()
	dx, dg, db := make([]float64, n*d), make([]float64, d), make([]float64, d)
	layerNormBack(dx, dg, db, w, xh, rs, g, n, d)
	checkGrad(t, "x", x, dx, f)
	checkGrad(t, "gain", g, dg, f)
	checkGrad(t, "shift", b, db, f)
}

func TestGELUGrad(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	x, w := randVec(rng, 20, 2), randVec(rng, 20, 1)
	y, th := make([]float64, 20), make([]float64, 20)
	f := func() float64 {
		gelu(y, th, x)
		s := 0.0
		for i := range y {
			s += w[i] * y[i]
		}
		return s
	}
	f()
	dx := make([]float64, 20)
	geluBack(dx, w, x, th)
	checkGrad(t, "gelu", x, dx, f)
	if got := 0.5 * 1 * (1 + math.Tanh(geluC*(1+geluA))); math.Abs(got-0.8411920) > 1e-6 {
		t.Errorf("gelu(1) = %v, want 0.8411920 (GPT-2's tanh form)", got)
	}
}

func TestAttentionGrad(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	nb, T, d, heads := 2, 4, 6, 3
	qkv, w := randVec(rng, nb*T*3*d, 1), randVec(rng, nb*T*d, 1)
	y, p := make([]float64, nb*T*d), make([]float64, nb*heads*T*T)
	var sc attnScratch
	f := func() float64 {
		attention(y, p, qkv, nb, T, d, heads, &sc)
		s := 0.0
		for i := range y {
			s += w[i] * y[i]
		}
		return s
	}
	f()
	dqkv := make([]float64, len(qkv))
	attentionBack(dqkv, w, p, qkv, nb, T, d, heads, &sc)
	checkGrad(t, "qkv", qkv, dqkv, f)
}

// TestAttentionCausal: changing a later token leaves earlier positions' outputs unchanged.
func TestAttentionCausal(t *testing.T) {
	m, _ := New(tinyConfig(), 1)
	var ws Workspace
	a := []int{1, 2, 3, 4, 5, 6}
	if err := m.Forward(&ws, a, 1, 6); err != nil {
		t.Fatal(err)
	}
	before := append([]float64(nil), ws.Logits...)
	a[4] = 9
	m.Forward(&ws, a, 1, 6)
	V := m.Config.Vocab
	for i := range 4 * V {
		if ws.Logits[i] != before[i] {
			t.Fatalf("logit %d of position %d changed with a later token", i%V, i/V)
		}
	}
	if ws.Logits[4*V] == before[4*V] {
		t.Fatal("position 4's logits did not change with its token")
	}
}

// TestModelGrad checks the whole model's gradient (loss on logits and a linear function of
// the hidden states) against central differences for every parameter.
func TestModelGrad(t *testing.T) {
	c := tinyConfig()
	m, err := New(c, 7)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(8, 9))
	for i := range m.Params {
		m.Params[i] += rng.NormFloat64() * 0.3 // away from the symmetric start
	}
	nb, T := 2, 5
	in, tg := make([]int, nb*T), make([]int, nb*T)
	for i := range in {
		in[i], tg[i] = rng.IntN(c.Vocab), rng.IntN(c.Vocab)
	}
	wh := randVec(rng, nb*T*c.Dim, 1)
	var ws Workspace
	f := func() float64 {
		l := m.nll(&ws, in, tg, nb, T, 1.0/float64(nb*T), nil)
		for i, v := range ws.Hidden {
			l += wh[i] * v
		}
		return l
	}
	grad := make([]float64, len(m.Params))
	m.nll(&ws, in, tg, nb, T, 1.0/float64(nb*T), nil)
	n := nb * T
	V := c.Vocab
	dlog := make([]float64, n*V)
	for i := range n {
		LogSoftmax(dlog[i*V:(i+1)*V], ws.Logits[i*V:(i+1)*V], 1)
		for j := range V {
			dlog[i*V+j] = math.Exp(dlog[i*V+j]) / float64(n)
		}
		dlog[i*V+tg[i]] -= 1 / float64(n)
	}
	m.Backward(&ws, dlog, wh, grad)
	checkGrad(t, "model", m.Params, grad, f)

	// nll's own gradient path agrees with the explicit one when the hidden term is absent.
	g2 := make([]float64, len(m.Params))
	m.nll(&ws, in, tg, nb, T, 1.0/float64(nb*T), g2)
	g3 := make([]float64, len(m.Params))
	m.nll(&ws, in, tg, nb, T, 1.0/float64(nb*T), nil)
	m.Backward(&ws, dlog, nil, g3)
	for i := range g2 {
		if math.Abs(g2[i]-g3[i]) > 1e-12 {
			t.Fatalf("param %d: nll gradient %v, explicit %v", i, g2[i], g3[i])
		}
	}
}

func TestNumParamsAnchor(t *testing.T) {
	if n := NumParams(DefaultConfig()); n != 136960 {
		t.Errorf("anchor shape has %d parameters, want 136960 (nanoGPT's count for it)", n)
	}
}
