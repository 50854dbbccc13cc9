package dpo

import (
	"math"
	"testing"
)

// tabular is a policy over K one-token continuations of one prompt: π = softmax(θ).
type tabular struct{ theta, grad []float64 }

func (m *tabular) logZ() float64 {
	mx := math.Inf(-1)
	for _, v := range m.theta {
		mx = math.Max(mx, v)
	}
	s := 0.0
	for _, v := range m.theta {
		s += math.Exp(v - mx)
	}
	return mx + math.Log(s)
}

func (m *tabular) LogProb(_, cont []int) float64 { return m.theta[cont[0]] - m.logZ() }

func (m *tabular) Backward(_, cont []int, w float64) {
	z := m.logZ()
	for k := range m.theta {
		m.grad[k] -= w * math.Exp(m.theta[k]-z)
	}
	m.grad[cont[0]] += w
}

func TestLossGradient(t *testing.T) {
	const h = 1e-6
	for _, c := range [][6]float64{{0.1, 1, -3, -2.5, -4, -3}, {0.5, 0, -1, -2, -0.5, -0.7}, {2, 0.5, -10, -3, -2, -8}} {
		_, gl, gr := Loss(c[0], c[1], c[2], c[3], c[4], c[5])
		lp, _, _ := Loss(c[0], c[1], c[2]+h, c[3], c[4], c[5])
		lm, _, _ := Loss(c[0], c[1], c[2]-h, c[3], c[4], c[5])
		rp, _, _ := Loss(c[0], c[1], c[2], c[3], c[4]+h, c[5])
		rm, _, _ := Loss(c[0], c[1], c[2], c[3], c[4]-h, c[5])
		if math.Abs((lp-lm)/(2*h)-gl) > 1e-6 || math.Abs((rp-rm)/(2*h)-gr) > 1e-6 {
			t.Errorf("%v: gradient (%v, %v), numerical (%v, %v)", c, gl, gr, (lp-lm)/(2*h), (rp-rm)/(2*h))
		}
	}
	// At the reference, z = 0: the loss is log 2 whatever the label.
	if l, _, _ := Loss(0.1, 1, -3, -3, -5, -5); math.Abs(l-math.Ln2) > 1e-12 {
		t.Errorf("loss at the reference %v, want log 2", l)
	}
}

// TestDPOReachesTheKLOptimum trains a tabular policy on comparisons labelled by a
// Bradley-Terry rater with reward r (soft labels μ = σ(r_i − r_j), every ordered pair) and
// checks that it reaches DPO's optimum, π ∝ π_ref·exp(r/β) (Rafailov et al. 2023, eq. 4).
func TestDPOReachesTheKLOptimum(t *testing.T) {
	r := []float64{0, 0.4, 0.8, -0.5}
	refTheta := []float64{0.3, -0.2, 0, 0.5}
	const beta = 0.5
	ref := &tabular{theta: refTheta}
	m := &tabular{theta: append([]float64(nil), refTheta...), grad: make([]float64, 4)}
	var pairs []Pair
	for i := range r {
		for j := range r {
			if i != j {
				pairs = append(pairs, Pair{Left: []int{i}, Right: []int{j}, Mu: sigmoid(r[i] - r[j])})
			}
		}
	}
	tr, err := New(Config{Beta: beta, Batch: 4, Seed: 3}, m, ref, pairs)
	if err != nil {
		t.Fatal(err)
	}
	step := func() {
		for k := range m.theta {
			m.theta[k] -= 2 * m.grad[k]
			m.grad[k] = 0
		}
	}
	first := tr.Epoch(step)
	var last Stats
	for range 3000 {
		last = tr.Epoch(step)
	}
	if !(last.Loss < first.Loss) {
		t.Errorf("loss %v -> %v", first.Loss, last.Loss)
	}
	// π* ∝ π_ref·exp(r/β).
	want := make([]float64, 4)
	s := 0.0
	for k := range want {
		want[k] = math.Exp(refTheta[k] + r[k]/beta)
		s += want[k]
	}
	for k := range want {
		got := math.Exp(m.LogProb(nil, []int{k}))
		if math.Abs(got-want[k]/s) > 0.01 {
			t.Errorf("π(%d) = %.4f, want %.4f", k, got, want[k]/s)
		}
	}
	if last.Accuracy != 1 || !(last.Margin > 0) {
		t.Errorf("stats %+v", last)
	}
}

func TestNewRejects(t *testing.T) {
	m := &tabular{theta: []float64{0, 0}, grad: make([]float64, 2)}
	good := []Pair{{Left: []int{0}, Right: []int{1}, Mu: 1}}
	for _, c := range []struct {
		cfg   Config
		pairs []Pair
	}{
		{Config{Beta: 0, Batch: 1}, good},
		{Config{Beta: 0.1, Batch: 0}, good},
		{Config{Beta: 0.1, Batch: 1}, nil},
		{Config{Beta: 0.1, Batch: 1}, []Pair{{Left: []int{0}, Right: []int{1}, Mu: 2}}},
		{Config{Beta: 0.1, Batch: 1}, []Pair{{Left: []int{0}, Mu: 1}}},
	} {
		if _, err := New(c.cfg, m, m, c.pairs); err == nil {
			t.Errorf("New(%+v, %v) accepted", c.cfg, c.pairs)
		}
	}
}

// TestEpochUntilStops: a step that asks to stop ends the pass after that minibatch, and the
// stats are of the pairs visited only.
func TestEpochUntilStops(t *testing.T) {
	ref := &tabular{theta: []float64{0, 0}}
	m := &tabular{theta: []float64{0, 0}, grad: make([]float64, 2)}
	pairs := make([]Pair, 10)
	for i := range pairs {
		pairs[i] = Pair{Left: []int{0}, Right: []int{1}, Mu: 1}
	}
	tr, err := New(Config{Beta: 1, Batch: 3, Seed: 1}, m, ref, pairs)
	if err != nil {
		t.Fatal(err)
	}
	steps := 0
	st := tr.EpochUntil(func() bool { steps++; clear(m.grad); return steps == 2 })
	// Two batches of 3 pairs at θ = ref: every loss is log 2 and every margin 0.
	if steps != 2 || math.Abs(st.Loss-math.Ln2) > 1e-12 || st.Accuracy != 0 {
		t.Errorf("%d steps, stats %+v", steps, st)
	}
	steps = 0
	tr.Epoch(func() { steps++ })
	if steps != 4 {
		t.Errorf("Epoch made %d steps over 10 pairs in batches of 3, want 4", steps)
	}
}

// TestNLLGradient: with RPO's term (Config.NLL) the gradient the trainer accumulates is the
// derivative of the mean loss it reports, checked by central differences on a tabular
// policy; a tie adds nothing to the loss.
func TestNLLGradient(t *testing.T) {
	ref := &tabular{theta: []float64{0.2, -0.1, 0.4}}
	m := &tabular{theta: []float64{0.5, -0.3, 0.1}, grad: make([]float64, 3)}
	pairs := []Pair{{Left: []int{0}, Right: []int{1}, Mu: 1}, {Left: []int{2}, Right: []int{0}, Mu: 0}, {Left: []int{1}, Right: []int{2}, Mu: 0.5}}
	cfg := Config{Beta: 0.7, Batch: len(pairs), Seed: 1, NLL: 0.6}
	loss := func() float64 {
		tr, err := New(cfg, m, ref, pairs)
		if err != nil {
			t.Fatal(err)
		}
		return tr.Epoch(func() {}).Loss
	}
	clear(m.grad)
	loss()
	grad := append([]float64(nil), m.grad...)
	const h = 1e-6
	for k := range m.theta {
		m.theta[k] += h
		lp := loss()
		m.theta[k] -= 2 * h
		lm := loss()
		m.theta[k] += h
		if num := (lp - lm) / (2 * h); math.Abs(num-grad[k]) > 1e-6 {
			t.Errorf("∂loss/∂θ%d = %v, numerical %v", k, grad[k], num)
		}
	}
	// The NLL term is there: the loss differs from DPO's on the strict pairs, not on the tie.
	withNLL := loss()
	cfg.NLL = 0
	if plain := loss(); !(withNLL > plain+0.1) {
		t.Errorf("loss with NLL %v, without %v", withNLL, plain)
	}
	tie := pairs[2:]
	pairs = tie
	plainTie := loss()
	cfg.NLL = 0.6
	if l := loss(); l != plainTie {
		t.Errorf("a tie's loss with NLL %v, without %v", l, plainTie)
	}
	cfg.NLL = -1
	if _, err := New(cfg, m, ref, pairs); err == nil {
		t.Error("New accepted a negative NLL weight")
	}
}

// TestSmoothingHasAFiniteOptimum: on one noiseless label, conservative DPO (Config.Smoothing
// ε) settles at the implicit-reward margin log((1−ε)/ε), where plain DPO's keeps growing.
func TestSmoothingHasAFiniteOptimum(t *testing.T) {
	margin := func(eps float64) float64 {
		ref := &tabular{theta: []float64{0.1, -0.2, 0.3}}
		m := &tabular{theta: append([]float64(nil), ref.theta...), grad: make([]float64, 3)}
		tr, err := New(Config{Beta: 0.5, Batch: 1, Seed: 1, Smoothing: eps}, m, ref, []Pair{{Left: []int{0}, Right: []int{1}, Mu: 1}})
		if err != nil {
			t.Fatal(err)
		}
		for range 5000 {
			tr.Epoch(func() {
				for k := range m.theta {
					m.theta[k] -= 0.5 * m.grad[k]
					m.grad[k] = 0
				}
			})
		}
		return 0.5 * ((m.LogProb(nil, []int{0}) - ref.LogProb(nil, []int{0})) - (m.LogProb(nil, []int{1}) - ref.LogProb(nil, []int{1})))
	}
	if got, want := margin(0.1), math.Log(9); math.Abs(got-want) > 1e-3 {
		t.Errorf("margin with ε 0.1: %v, want log 9 = %v", got, want)
	}
	if got := margin(0); !(got > math.Log(9)+2) {
		t.Errorf("plain DPO's margin %v, want it well past log 9", got)
	}
	m := &tabular{theta: []float64{0, 0}, grad: make([]float64, 2)}
	if _, err := New(Config{Beta: 1, Batch: 1, Smoothing: 0.5}, m, m, []Pair{{Left: []int{0}, Right: []int{1}, Mu: 1}}); err == nil {
		t.Error("New accepted ε 0.5")
	}
}
