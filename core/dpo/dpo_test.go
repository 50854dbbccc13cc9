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
