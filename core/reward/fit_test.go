package reward

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/prefer-rlhf/prefer/core/nn"
	"github.com/prefer-rlhf/prefer/core/oracle"
	"github.com/prefer-rlhf/prefer/core/prefs"
)

var cartShape = Shape{ObsDim: 4, ActDim: 1, ActN: 2}

// smallConfig is a quick ensemble for tests.
func smallConfig(seed uint64) Config {
	c := Defaults()
	c.Hidden = []int{16, 16}
	c.Seed = seed
	return c
}

// cartData returns a dataset of about n comparisons split by Add, and a held-out set.
func cartData(seed uint64, n, segLen int, rater oracle.Rater) (*Dataset, []Comparison) {
	rng := rand.New(rand.NewPCG(seed, 99))
	d := &Dataset{}
	for _, c := range CartPoleComparisons(rng, n, segLen, rater) {
		d.Add(c)
	}
	return d, CartPoleComparisons(rng, 300, segLen, oracle.Rater{})
}

func TestBTLossDerivative(t *testing.T) {
	for _, eps := range []float64{0, 0.1, 0.5} {
		for _, mu := range []float64{0, 0.5, 1, 0.3} {
			for _, d := range []float64{-30, -3, -0.2, 0, 0.7, 4, 30} {
				_, g := btLoss(d, mu, eps)
				const h = 1e-5
				lp, _ := btLoss(d+h, mu, eps)
				lm, _ := btLoss(d-h, mu, eps)
				if fd := (lp - lm) / (2 * h); math.Abs(fd-g) > 1e-6*(1+math.Abs(g)) {
					t.Errorf("eps=%v mu=%v Δ=%v: dL/dΔ = %v, finite difference %v", eps, mu, d, g, fd)
				}
			}
		}
	}
}

func TestBTLossValues(t *testing.T) {
	// ε = 0 is eq. 1's cross-entropy: -log σ(Δ) for a left preference.
	for _, d := range []float64{-5, 0, 2} {
		l, _ := btLoss(d, 1, 0)
		if want := -math.Log(1 / (1 + math.Exp(-d))); math.Abs(l-want) > 1e-12 {
			t.Errorf("loss(Δ=%v, μ=1) = %v, want %v", d, l, want)
		}
	}
	// Far in the tail, ε = 0 is still finite and linear (no log(0)).
	if l, g := btLoss(-800, 1, 0); math.Abs(l-800) > 1e-9 || math.Abs(g+1) > 1e-12 {
		t.Errorf("loss(Δ=-800) = %v, %v; want 800, -1", l, g)
	}
	// "Equally good" (μ = ½) is minimised at Δ = 0 and symmetric.
	if _, g := btLoss(0, 0.5, 0.1); g != 0 {
		t.Errorf("dL/dΔ at Δ=0, μ=½ = %v, want 0", g)
	}
	a, _ := btLoss(1.5, 0.5, 0.1)
	b, _ := btLoss(-1.5, 0.5, 0.1)
	if math.Abs(a-b) > 1e-12 {
		t.Errorf("μ=½ loss not symmetric: %v vs %v", a, b)
	}
	// The random-response ε bounds the cost of a confidently contradicted label by -log(ε/2),
	// and the reward of confidence by -log(1-ε/2).
	const eps = 0.1
	if l, _ := btLoss(-50, 1, eps); math.Abs(l+math.Log(eps/2)) > 1e-9 {
		t.Errorf("contradicted label: loss %v, want -log(ε/2) = %v", l, -math.Log(eps/2))
	}
	if l, _ := btLoss(50, 1, eps); math.Abs(l+math.Log(1-eps/2)) > 1e-9 {
		t.Errorf("confirmed label: loss %v, want -log(1-ε/2) = %v", l, -math.Log(1-eps/2))
	}
}

// TestGradient checks the full gradient of the minibatch loss, through the networks and the
// segment sums, and the L2 term, against central finite differences.
func TestGradient(t *testing.T) {
	c := smallConfig(3)
	c.Hidden = []int{5, 4}
	c.Features = Obs | Act | Next
	c.Members = 1
	c.Activation = nn.Tanh
	m, err := New(c, cartShape)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 3))
	cs := CartPoleComparisons(rng, 3, 4, oracle.Rater{})
	cs[1].Mu = 0.5
	cs = append(cs, Comparison{Left: cs[0].Right, Right: cs[2].Left, Mu: 0}) // segments of different comparisons
	idx := []int32{0, 1, 2, 3, 1}
	mb := m.members[0]
	mb.l2 = 0.3
	p := mb.net.Params
	// total is the regularised objective whose gradient step uses.
	total := func() float64 {
		l := mb.lossGrad(m, cs, idx, nil, nil)
		off := 0
		for k := 0; k+1 < len(mb.net.Sizes); k++ {
			nw := mb.net.Sizes[k] * mb.net.Sizes[k+1]
			for _, w := range p[off : off+nw] {
				l += mb.l2 / 2 * w * w
			}
			off += nw + mb.net.Sizes[k+1]
		}
		return l
	}
	grad := make([]float64, len(p))
	mb.lossGrad(m, cs, idx, grad, nil)
	off := 0
	for k := 0; k+1 < len(mb.net.Sizes); k++ {
		nw := mb.net.Sizes[k] * mb.net.Sizes[k+1]
		for i := off; i < off+nw; i++ {
			grad[i] += mb.l2 * p[i]
		}
		off += nw + mb.net.Sizes[k+1]
	}
	for i := range p {
		const h = 1e-6
		old := p[i]
		p[i] = old + h
		lp := total()
		p[i] = old - h
		lm := total()
		p[i] = old
		if fd := (lp - lm) / (2 * h); math.Abs(fd-grad[i]) > 1e-6*(1+math.Abs(fd)) {
			t.Errorf("param %d: gradient %v, finite difference %v", i, grad[i], fd)
		}
	}
}

func TestLabelAndSplit(t *testing.T) {
	seg := Segment{Obs: make([]float64, 4), Act: []float64{1}, Len: 1}
	for _, c := range []struct {
		ch prefs.Choice
		mu float64
		ok bool
	}{{prefs.Left, 1, true}, {prefs.Right, 0, true}, {prefs.Equal, 0.5, true}, {prefs.CantTell, 0, false}} {
		cmp, ok := Label(seg, seg, c.ch)
		if ok != c.ok || (ok && cmp.Mu != c.mu) {
			t.Errorf("Label(%v) = %v, %v; want μ=%v, %v", c.ch, cmp.Mu, ok, c.mu, c.ok)
		}
	}
	var d Dataset
	if d.AddChoice(seg, seg, prefs.CantTell) || d.Len() != 0 {
		t.Fatalf("can't tell was kept")
	}
	d.AddChoice(seg, seg, prefs.Equal)
	if len(d.Train) != 1 {
		t.Fatalf("the first label must train, got train %d val %d", len(d.Train), len(d.Val))
	}
	for i := 1; i < 1000; i++ {
		d.Add(Comparison{Left: seg, Right: seg, Mu: 1})
		if n := d.Len(); n >= 10 {
			if share := float64(len(d.Val)) / float64(n); math.Abs(share-1/math.E) > 2.0/float64(n) {
				t.Fatalf("after %d labels the validation share is %.3f, want 1/e within %d labels", n, share, 2)
			}
		}
	}
}

// TestEqualLabels: "equally good" (μ = ½) pulls a pair's predicted returns together, so a model
// fitted on the same pairs labelled equal is far less decided on them than one fitted on the
// true labels.
func TestEqualLabels(t *testing.T) {
	d, _ := cartData(4, 100, 10, oracle.Rater{})
	eq := &Dataset{}
	for _, c := range append(append([]Comparison{}, d.Train...), d.Val...) {
		c.Mu = 0.5
		eq.Add(c)
	}
	c := smallConfig(4)
	c.Epochs = 150
	c.Members = 1
	decided := func(d *Dataset) float64 {
		m, _ := New(c, cartShape)
		if _, err := m.Fit(d); err != nil {
			t.Fatal(err)
		}
		// Only the pairs in the member's bootstrap resample were fitted.
		x, n := 0.0, 0.0
		for i, cmp := range d.Train {
			if m.members[0].counts[i] > 0 {
				p, _ := m.Prefer(cmp.Left, cmp.Right)
				x += math.Abs(p - 0.5)
				n++
			}
		}
		return x / n
	}
	if e, l := decided(eq), decided(d); !(e < 0.1 && l > 0.25) {
		t.Errorf("mean |P(left) - ½| on training pairs: %.3f labelled equal, %.3f labelled truly; want < 0.1 and > 0.25", e, l)
	}
}

func TestDeterministicBootstrap(t *testing.T) {
	d, _ := cartData(5, 80, 8, oracle.Rater{})
	fit := func(seed uint64, parallel bool) *Model {
		c := smallConfig(seed)
		c.Epochs = 3
		c.Parallel = parallel
		m, _ := New(c, cartShape)
		if _, err := m.Fit(d); err != nil {
			t.Fatal(err)
		}
		return m
	}
	a, b, serial, other := fit(7, true), fit(7, true), fit(7, false), fit(8, true)
	for i := range a.members {
		for j, v := range a.members[i].net.Params {
			if b.members[i].net.Params[j] != v || serial.members[i].net.Params[j] != v {
				t.Fatalf("member %d param %d differs between runs with one seed", i, j)
			}
		}
	}
	same := func(x, y []int32) bool {
		for i := range x {
			if x[i] != y[i] {
				return false
			}
		}
		return true
	}
	if same(a.members[0].counts, a.members[1].counts) || same(a.members[0].counts, other.members[0].counts) {
		t.Errorf("bootstrap counts repeat across members or seeds")
	}
	// Poisson(1) counts: mean 1 and about 1/e zeros.
	zeros, total := 0, 0
	for _, mb := range a.members {
		for _, k := range mb.counts {
			total += int(k)
			if k == 0 {
				zeros++
			}
		}
	}
	n := float64(len(a.members) * len(d.Train))
	if mean := float64(total) / n; math.Abs(mean-1) > 0.2 {
		t.Errorf("mean bootstrap count %.2f, want ≈ 1", mean)
	}
	if z := float64(zeros) / n; math.Abs(z-1/math.E) > 0.12 {
		t.Errorf("share left out of a resample %.2f, want ≈ 1/e", z)
	}
}

// TestL2Adaptation: an overfitting fit (few noisy labels, many epochs, little L2) raises L2; a
// fit crushed by a huge L2 (validation no worse than training) lowers it.
func TestL2Adaptation(t *testing.T) {
	d, _ := cartData(6, 40, 10, oracle.Rater{Temperature: 2})
	c := smallConfig(6)
	c.Hidden = []int{32, 32}
	c.Epochs = 150
	c.ValEvery = 0
	c.L2 = 1e-6
	c.LR = 3e-3
	c.Epsilon = 0
	m, _ := New(c, cartShape)
	s, err := m.Fit(d)
	if err != nil {
		t.Fatal(err)
	}
	if !(s.ValLoss > c.RatioHigh*s.TrainLoss) || !(s.L2 > c.L2) {
		t.Errorf("overfit: train %.3f val %.3f, L2 %g -> %g; want val > 1.5 train and L2 up", s.TrainLoss, s.ValLoss, c.L2, s.L2)
	}

	d, _ = cartData(7, 100, 10, oracle.Rater{})
	c = smallConfig(7)
	c.Epochs = 5
	c.ValEvery = 0
	c.L2 = 5
	m, _ = New(c, cartShape)
	if s, err = m.Fit(d); err != nil {
		t.Fatal(err)
	}
	if !(s.ValLoss < c.RatioLow*s.TrainLoss) || !(s.L2 < c.L2) {
		t.Errorf("underfit: train %.3f val %.3f, L2 %g -> %g; want val < 1.1 train and L2 down", s.TrainLoss, s.ValLoss, c.L2, s.L2)
	}
}

// TestLearning fits the default ensemble on labels of a hidden reward and checks held-out
// accuracy and that the learned per-step reward tracks the true one.
func TestLearning(t *testing.T) {
	d, test := cartData(8, 400, 15, oracle.Rater{})
	c := Defaults()
	c.Features = Obs
	c.Epochs = 20
	c.Seed = 8
	m, _ := New(c, cartShape)
	s, err := m.Fit(d)
	if err != nil {
		t.Fatal(err)
	}
	acc := Accuracy(m, test)
	t.Logf("%+v held-out accuracy %.3f", s, acc)
	if acc < 0.9 || s.ValAccuracy < 0.85 {
		t.Errorf("held-out accuracy %.3f, validation accuracy %.3f; want > 0.9 and > 0.85", acc, s.ValAccuracy)
	}
	// Pearson correlation of r̂ and the true reward over the held-out transitions.
	var obs []float64
	for _, c := range test {
		obs = append(append(obs, c.Left.Obs...), c.Right.Obs...)
	}
	n := len(obs) / 4
	got := make([]float64, n)
	m.Rewards(obs, nil, nil, n, got)
	want := make([]float64, n)
	for i := range want {
		want[i] = CartPoleReward(obs[i*4 : i*4+4])
	}
	if r := pearson(got, want); r < 0.85 {
		t.Errorf("correlation of learned and true reward %.3f, want > 0.85", r)
	}
}

func pearson(a, b []float64) float64 {
	ma, sa := meanStdOf(a)
	mb, sb := meanStdOf(b)
	s := 0.0
	for i := range a {
		s += (a[i] - ma) * (b[i] - mb)
	}
	return s / float64(len(a)) / (sa * sb)
}

// TestUpdate: after a fit on few labels, a cheap Update takes in new ones: their loss drops
// and held-out accuracy does not fall.
func TestUpdate(t *testing.T) {
	d, test := cartData(9, 40, 10, oracle.Rater{})
	c := smallConfig(9)
	c.Hidden = []int{32, 32}
	c.Features = Obs
	c.Epochs = 20
	m, _ := New(c, cartShape)
	if _, err := m.Fit(d); err != nil {
		t.Fatal(err)
	}
	before := Accuracy(m, test)
	rng := rand.New(rand.NewPCG(10, 10))
	fresh := CartPoleComparisons(rng, 30, 10, oracle.Rater{})
	d.Train = append(d.Train, fresh...) // into the training share, so Update must fit them
	idx := make([]int32, len(fresh))
	for i := range idx {
		idx[i] = int32(i)
	}
	lossOn := func() float64 {
		l := 0.0
		for _, mb := range m.members {
			l += mb.lossGrad(m, fresh, idx, nil, nil) / float64(len(m.members))
		}
		return l
	}
	l0 := lossOn()
	s, err := m.Update(d)
	if err != nil {
		t.Fatal(err)
	}
	l1 := lossOn()
	after := Accuracy(m, test)
	t.Logf("loss on new labels %.3f -> %.3f, held-out accuracy %.3f -> %.3f", l0, l1, before, after)
	if s.Steps != c.UpdateSteps*c.Members {
		t.Errorf("Update took %d steps, want %d", s.Steps, c.UpdateSteps*c.Members)
	}
	if !(l1 < l0-0.02) {
		t.Errorf("loss on the new labels went %.3f -> %.3f; want a drop", l0, l1)
	}
	if after < before-0.02 {
		t.Errorf("held-out accuracy fell %.3f -> %.3f after taking in new labels", before, after)
	}
	// A second Update with nothing new still runs and keeps the counts aligned.
	if _, err := m.Update(d); err != nil || len(m.members[0].counts) != len(d.Train) {
		t.Errorf("idle Update: %v, counts %d for %d comparisons", err, len(m.members[0].counts), len(d.Train))
	}
	d.Train = d.Train[:10]
	if _, err := m.Update(d); err == nil {
		t.Errorf("Update on a shrunk dataset: want an error")
	}
}

// TestUpdateFromScratch: a browser can start with Update alone, one label at a time, and learn
// about as well as a full Fit on the same labels.
func TestUpdateFromScratch(t *testing.T) {
	c := smallConfig(11)
	c.Features = Obs
	c.Batch = 32
	m, _ := New(c, cartShape)
	d := &Dataset{}
	rng := rand.New(rand.NewPCG(11, 11))
	test := CartPoleComparisons(rng, 200, 10, oracle.Rater{})
	for _, cmp := range CartPoleComparisons(rng, 80, 10, oracle.Rater{}) {
		d.Add(cmp)
		if _, err := m.Update(d); err != nil {
			t.Fatal(err)
		}
	}
	acc := Accuracy(m, test)
	full, _ := New(c, cartShape)
	if _, err := full.Fit(d); err != nil {
		t.Fatal(err)
	}
	fitted := Accuracy(full, test)
	t.Logf("accuracy after 80 single-label updates %.3f, after a Fit %.3f", acc, fitted)
	if acc < 0.62 || acc < fitted-0.05 {
		t.Errorf("accuracy after 80 single-label updates %.3f, after one Fit on the same labels %.3f; want well above chance and close to the Fit", acc, fitted)
	}
}

func TestBadInput(t *testing.T) {
	for _, c := range []func(*Config){
		func(c *Config) { c.Members = 0 },
		func(c *Config) { c.Epsilon = 1 },
		func(c *Config) { c.Features = 0 },
		func(c *Config) { c.Hidden = []int{0} },
		func(c *Config) { c.RatioHigh = 1 },
		func(c *Config) { c.Batch = 0 },
	} {
		cfg := Defaults()
		c(&cfg)
		if _, err := New(cfg, cartShape); err == nil {
			t.Errorf("New(%+v) = nil error", cfg)
		}
	}
	if _, err := New(Defaults(), Shape{ObsDim: 0, ActDim: 1}); err == nil {
		t.Errorf("ObsDim 0: want an error")
	}
	if _, err := New(Defaults(), Shape{ObsDim: 3, ActDim: 2, ActN: 4}); err == nil {
		t.Errorf("discrete ActDim 2: want an error")
	}
	m, _ := New(Defaults(), cartShape)
	good := Segment{Obs: make([]float64, 8), Act: []float64{0, 1}, Len: 2}
	for name, d := range map[string]*Dataset{
		"empty":        {},
		"short obs":    {Train: []Comparison{{Left: Segment{Obs: make([]float64, 7), Act: []float64{0, 1}, Len: 2}, Right: good, Mu: 1}}},
		"bad action":   {Train: []Comparison{{Left: Segment{Obs: make([]float64, 8), Act: []float64{0, 2}, Len: 2}, Right: good, Mu: 1}}},
		"mu":           {Train: []Comparison{{Left: good, Right: good, Mu: 1.5}}},
		"mu NaN":       {Train: []Comparison{{Left: good, Right: good, Mu: math.NaN()}}},
		"zero length":  {Train: []Comparison{{Left: Segment{}, Right: good, Mu: 1}}},
		"bad val only": {Train: []Comparison{{Left: good, Right: good, Mu: 1}}, Val: []Comparison{{Left: good, Right: good, Mu: -1}}},
	} {
		if _, err := m.Fit(d); err == nil {
			t.Errorf("Fit(%s) = nil error", name)
		}
	}
}
