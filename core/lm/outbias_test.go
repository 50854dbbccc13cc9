package lm

import (
	"math"
	"math/rand/v2"
	"testing"
)

// biased is perturbed(seed) with an output bias drawn at random.
func biased(t *testing.T, seed uint64) *Model {
	t.Helper()
	m := perturbed(t, seed).WithOutputBias()
	rng := rand.New(rand.NewPCG(seed, 2))
	for i := range m.Config.Vocab {
		m.Params[m.lay.bout+i] = rng.NormFloat64()
	}
	return m
}

// TestWithOutputBiasKeepsDistribution: a zero bias added to a model changes none of its
// log-probabilities, and the copy's parameters are the model's plus Vocab zeros.
func TestWithOutputBiasKeepsDistribution(t *testing.T) {
	m := perturbed(t, 3)
	b := m.WithOutputBias()
	if !b.Config.OutBias || len(b.Params) != len(m.Params)+m.Config.Vocab || NumParams(b.Config) != len(b.Params) {
		t.Fatalf("OutBias %v with %d parameters from %d", b.Config.OutBias, len(b.Params), len(m.Params))
	}
	tokens := []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	var ws Workspace
	lm, lb := make([]float64, 2*4), make([]float64, 2*4)
	if err := m.LogProbs(&ws, tokens, 2, 5, 1, lm); err != nil {
		t.Fatal(err)
	}
	if err := b.LogProbs(&ws, tokens, 2, 5, 1, lb); err != nil {
		t.Fatal(err)
	}
	for i := range lm {
		if lm[i] != lb[i] {
			t.Fatalf("log-prob %d: %v without a bias, %v with a zero one", i, lm[i], lb[i])
		}
	}
}

// TestOutBiasGrad: the backward pass's gradient of every parameter, the bias included, matches
// central differences.
func TestOutBiasGrad(t *testing.T) {
	m := biased(t, 4)
	c := m.Config
	rng := rand.New(rand.NewPCG(8, 10))
	nb, T := 2, 5
	in, tg := make([]int, nb*T), make([]int, nb*T)
	for i := range in {
		in[i], tg[i] = rng.IntN(c.Vocab), rng.IntN(c.Vocab)
	}
	var ws Workspace
	f := func() float64 { return m.nll(&ws, in, tg, nb, T, 1.0/float64(nb*T), nil) }
	grad := make([]float64, len(m.Params))
	m.nll(&ws, in, tg, nb, T, 1.0/float64(nb*T), grad)
	checkGrad(t, "model with output bias", m.Params, grad, f)
	var norm float64
	for _, g := range grad[m.lay.bout:] {
		norm += g * g
	}
	if norm == 0 {
		t.Fatal("the output bias got no gradient")
	}
}

// TestOutBiasSampler: the KV-cached sampler reads the bias: it draws tokens with the
// log-probabilities the full forward pass gives them, and a large bias on one token makes it
// the only one drawn.
func TestOutBiasSampler(t *testing.T) {
	m := biased(t, 5)
	nb, tp, n := 2, 2, 3
	prompts := []int{1, 2, 3, 4}
	toks, lps, err := m.NewSampler(nb).Generate(rand.New(rand.NewPCG(1, 1)), prompts, n, 1)
	if err != nil {
		t.Fatal(err)
	}
	T := tp + n
	flat := make([]int, 0, nb*T)
	for i := range nb {
		flat = append(append(flat, prompts[i*tp:(i+1)*tp]...), toks[i*n:(i+1)*n]...)
	}
	var ws Workspace
	scores := make([]float64, nb*(T-1))
	if err := m.LogProbs(&ws, flat, nb, T, 1, scores); err != nil {
		t.Fatal(err)
	}
	for i := range nb {
		for j := range n {
			if s, g := scores[i*(T-1)+tp-1+j], lps[i*n+j]; math.Abs(s-g) > 1e-9 {
				t.Fatalf("sequence %d token %d: scored %v, sampled with %v", i, j, s, g)
			}
		}
	}
	m.Params[m.lay.bout+7] = 60
	toks, _, err = m.NewSampler(nb).Generate(rand.New(rand.NewPCG(1, 1)), prompts, n, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range toks {
		if tok != 7 {
			t.Fatalf("drew %v with a bias of 60 on token 7", toks)
		}
	}
}

// TestOutBiasCodecAndTemper: the bias survives encoding (the flag and the parameters), a
// model with an unknown flag is rejected, and Temper divides the bias with the logits.
func TestOutBiasCodecAndTemper(t *testing.T) {
	m := biased(t, 6)
	b, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	d, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if !d.Config.OutBias || len(d.Params) != len(m.Params) || d.Params[len(d.Params)-1] != m.Params[len(m.Params)-1] {
		t.Fatalf("decoded OutBias %v, %d parameters of %d", d.Config.OutBias, len(d.Params), len(m.Params))
	}
	bad := append([]byte(nil), b...)
	bad[6] |= 2
	if _, err := Decode(bad); err == nil {
		t.Error("an unknown flag was accepted")
	}
	v := m.Params[m.lay.bout+3]
	if err := m.Temper(0.5); err != nil {
		t.Fatal(err)
	}
	if got := m.Params[m.lay.bout+3]; math.Abs(got-2*v) > 1e-12 {
		t.Errorf("bias %v after Temper(0.5), want %v", got, 2*v)
	}
}
