package lm

import (
	"math"
	"math/rand/v2"
	"testing"
)

func perturbed(t *testing.T, seed uint64) *Model {
	t.Helper()
	m, err := New(tinyConfig(), seed)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(seed, 1))
	for i := range m.Params {
		m.Params[i] += rng.NormFloat64() * 0.3
	}
	return m
}

// TestKVCacheMatchesForward: sampling with the KV cache draws the same tokens, with the same
// log-probabilities, as recomputing a full forward pass over the prefix at every step.
func TestKVCacheMatchesForward(t *testing.T) {
	m := perturbed(t, 11)
	nb, tp, n, temp := 3, 2, 4, 0.8
	prompts := []int{1, 2, 3, 4, 5, 6}
	s := m.NewSampler(nb)
	got, gotLp, err := s.Generate(rand.New(rand.NewPCG(5, 5)), prompts, n, temp)
	if err != nil {
		t.Fatal(err)
	}
	hidden := append([]float64(nil), s.Hidden...)

	rng := rand.New(rand.NewPCG(5, 5))
	seqs := make([][]int, nb)
	for i := range nb {
		seqs[i] = append([]int(nil), prompts[i*tp:(i+1)*tp]...)
	}
	var ws Workspace
	V, d := m.Config.Vocab, m.Config.Dim
	lp, ex := make([]float64, V), make([]float64, V)
	for j := range n {
		T := tp + j
		flat := make([]int, 0, nb*T)
		for i := range nb {
			flat = append(flat, seqs[i]...)
		}
		if err := m.Forward(&ws, flat, nb, T); err != nil {
			t.Fatal(err)
		}
		for i := range nb {
			r := i*T + T - 1
			tok, l := draw(rng, lp, ex, ws.Logits[r*V:(r+1)*V], temp)
			if tok != got[i*n+j] {
				t.Fatalf("sequence %d step %d: cache drew %d, full forward %d", i, j, got[i*n+j], tok)
			}
			if math.Abs(l-gotLp[i*n+j]) > 1e-9 {
				t.Fatalf("sequence %d step %d: log-prob %v with cache, %v without", i, j, gotLp[i*n+j], l)
			}
			if j == n-1 {
				for c := range d {
					if math.Abs(ws.Hidden[r*d+c]-hidden[i*d+c]) > 1e-9 {
						t.Fatalf("hidden state differs at sequence %d", i)
					}
				}
			}
			seqs[i] = append(seqs[i], tok)
		}
	}
	// The batched scorer gives the sampled tokens the log-probabilities they were drawn with.
	T := tp + n
	flat := make([]int, 0, nb*T)
	for i := range nb {
		flat = append(flat, seqs[i]...)
	}
	scores := make([]float64, nb*(T-1))
	if err := m.LogProbs(&ws, flat, nb, T, temp, scores); err != nil {
		t.Fatal(err)
	}
	for i := range nb {
		for j := range n {
			if s, g := scores[i*(T-1)+tp-1+j], gotLp[i*n+j]; math.Abs(s-g) > 1e-9 {
				t.Fatalf("sequence %d token %d: scored %v, sampled with %v", i, j, s, g)
			}
		}
	}
}

// TestSamplerDeterministic: the same seed draws the same tokens; another seed does not.
func TestSamplerDeterministic(t *testing.T) {
	m := perturbed(t, 12)
	s := m.NewSampler(4)
	p := []int{1, 2, 3, 4}
	a, _, _ := s.Generate(rand.New(rand.NewPCG(1, 1)), p, 5, 1)
	b, _, _ := s.Generate(rand.New(rand.NewPCG(1, 1)), p, 5, 1)
	c, _, _ := s.Generate(rand.New(rand.NewPCG(2, 1)), p, 5, 1)
	same := func(x, y []int) bool {
		for i := range x {
			if x[i] != y[i] {
				return false
			}
		}
		return true
	}
	if !same(a, b) {
		t.Fatal("same seed, different samples")
	}
	if same(a, c) {
		t.Fatal("different seeds, same 20 samples")
	}
	if _, _, err := s.Generate(rand.New(rand.NewPCG(1, 1)), p, 7, 1); err == nil {
		t.Fatal("a prompt and continuation longer than the context was accepted")
	}
}

// TestLogProbsGrad checks LogProbsBackward (weights on log-probabilities and on hidden states,
// at a temperature) against central differences.
func TestLogProbsGrad(t *testing.T) {
	m := perturbed(t, 13)
	nb, T, temp := 2, 4, 0.7
	tokens := []int{1, 5, 2, 9, 3, 3, 10, 0}
	rng := rand.New(rand.NewPCG(2, 3))
	wl, wh := randVec(rng, nb*(T-1), 1), randVec(rng, nb*T*m.Config.Dim, 1)
	var ws Workspace
	lp := make([]float64, nb*(T-1))
	f := func() float64 {
		if err := m.LogProbs(&ws, tokens, nb, T, temp, lp); err != nil {
			t.Fatal(err)
		}
		s := 0.0
		for i, v := range lp {
			s += wl[i] * v
		}
		for i, v := range ws.Hidden {
			s += wh[i] * v
		}
		return s
	}
	f()
	grad := make([]float64, len(m.Params))
	if err := m.LogProbsBackward(&ws, temp, wl, wh, grad); err != nil {
		t.Fatal(err)
	}
	checkGrad(t, "logprobs", m.Params, grad, f)
}

// TestParallelSamplerMatches: splitting the batch over goroutines draws the same samples.
func TestParallelSamplerMatches(t *testing.T) {
	m := perturbed(t, 14)
	p := []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	a, la, err := m.NewSampler(5).Generate(rand.New(rand.NewPCG(3, 3)), p, 4, 0.9)
	if err != nil {
		t.Fatal(err)
	}
	b, lb, err := m.NewParallelSampler(5, 2).Generate(rand.New(rand.NewPCG(3, 3)), p, 4, 0.9)
	if err != nil {
		t.Fatal(err)
	}
	for i := range a {
		if a[i] != b[i] || math.Abs(la[i]-lb[i]) > 1e-9 {
			t.Fatalf("token %d: %d (%v) on one goroutine, %d (%v) on two", i, a[i], la[i], b[i], lb[i])
		}
	}
}

// TestTemperIsTemperatureSampling: a model tempered at T scores every token as the original
// does at temperature T, and the sampler at temperature 1 draws from it what the original's
// draws at T, token for token; a temperature that is not positive is refused.
func TestTemperIsTemperatureSampling(t *testing.T) {
	m := perturbed(t, 12)
	const temp = 0.7
	hot := m.Clone()
	if err := hot.Temper(temp); err != nil {
		t.Fatal(err)
	}
	nb, tp, n := 4, 2, 4
	prompts := []int{1, 2, 3, 4, 5, 6, 7, 8}
	want, wantLp, err := m.NewSampler(nb).Generate(rand.New(rand.NewPCG(3, 3)), prompts, n, temp)
	if err != nil {
		t.Fatal(err)
	}
	got, gotLp, err := hot.NewSampler(nb).Generate(rand.New(rand.NewPCG(3, 3)), prompts, n, 1)
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if got[i] != want[i] || math.Abs(gotLp[i]-wantLp[i]) > 1e-9 {
			t.Fatalf("draw %d: tempered model %d (%v), original at %g %d (%v)", i, got[i], gotLp[i], temp, want[i], wantLp[i])
		}
	}
	T := tp + n
	flat := make([]int, 0, nb*T)
	for i := range nb {
		flat = append(append(flat, prompts[i*tp:(i+1)*tp]...), want[i*n:(i+1)*n]...)
	}
	var ws Workspace
	a, b := make([]float64, nb*(T-1)), make([]float64, nb*(T-1))
	if err := m.LogProbs(&ws, flat, nb, T, temp, a); err != nil {
		t.Fatal(err)
	}
	if err := hot.LogProbs(&ws, flat, nb, T, 1, b); err != nil {
		t.Fatal(err)
	}
	for i := range a {
		if math.Abs(a[i]-b[i]) > 1e-9 {
			t.Fatalf("token %d: log-prob %v at temperature %g, %v tempered", i, a[i], temp, b[i])
		}
	}
	for _, bad := range []float64{0, -1, math.Inf(1), math.NaN()} {
		if err := m.Clone().Temper(bad); err == nil {
			t.Fatalf("Temper(%v) accepted", bad)
		}
	}
}
