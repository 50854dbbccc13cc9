package query

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/prefer-rlhf/prefer/core/oracle"
	"github.com/prefer-rlhf/prefer/core/reward"
)

func TestCandidates(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, c := range []struct{ pool, n, want int }{{50, 100, 100}, {10, 30, 30}, {5, 100, 10}, {2, 1, 1}, {40, 0, 0}} {
		ps, err := Candidates(rng, c.pool, c.n)
		if err != nil {
			t.Fatal(err)
		}
		if len(ps) != c.want {
			t.Errorf("pool %d, n %d: %d pairs, want %d", c.pool, c.n, len(ps), c.want)
		}
		seen := map[[2]int]bool{}
		for _, p := range ps {
			key := [2]int{min(p.Left, p.Right), max(p.Left, p.Right)}
			if p.Left == p.Right || p.Left < 0 || p.Right >= c.pool || seen[key] {
				t.Fatalf("bad or repeated pair %v in a pool of %d", p, c.pool)
			}
			seen[key] = true
		}
	}
	// Every segment is equally likely to be drawn, on either side.
	counts := make([]float64, 20)
	lefts := 0.0
	for i := 0; i < 200; i++ {
		ps, _ := Candidates(rng, 20, 10)
		for _, p := range ps {
			counts[p.Left]++
			counts[p.Right]++
			if p.Left < p.Right {
				lefts++
			}
		}
	}
	for s, c := range counts {
		if math.Abs(c-200) > 4.5*math.Sqrt(200) {
			t.Errorf("segment %d drawn %v times, want ≈ 200", s, c)
		}
	}
	if math.Abs(lefts-1000) > 4.5*math.Sqrt(500) {
		t.Errorf("lower index on the left %v of 2000 times, want ≈ 1000", lefts)
	}
	if _, err := Candidates(rng, 1, 3); err == nil {
		t.Errorf("pool of 1: want an error")
	}
}

func TestVariance(t *testing.T) {
	returns := [][]float64{{0, 0, 0}, {0, 0, 0}, {5, -5, 0}}
	if v := Variance(returns, Pair{0, 1}); v != 0 {
		t.Errorf("agreeing members: variance %v, want 0", v)
	}
	s := 1 / (1 + math.Exp(-5))
	want := ((s-0.5)*(s-0.5) + (1-s-0.5)*(1-s-0.5)) / 3
	if v := Variance(returns, Pair{2, 0}); math.Abs(v-want) > 1e-12 {
		t.Errorf("variance %v, want %v", v, want)
	}
}

// TestSelectPrefersDisagreement builds a pool where a tenth of the segments split the members
// (member 0 thinks them great, member 1 awful) and the rest do not; disagreement selection must
// pick pairs with far higher variance than random selection, and the top pairs among its
// candidates.
func TestSelectPrefersDisagreement(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	const pool = 60
	returns := make([][]float64, pool)
	for s := range returns {
		x := rng.NormFloat64()
		if s%10 == 0 {
			returns[s] = []float64{x + 4, x - 4, x}
		} else {
			returns[s] = []float64{x, x, x}
		}
	}
	mean := func(ps []Pair) float64 {
		v := 0.0
		for _, p := range ps {
			v += Variance(returns, p) / float64(len(ps))
		}
		return v
	}
	cfg := Defaults()
	dis, err := Select(rand.New(rand.NewPCG(3, 3)), pool, 20, cfg, returns)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Strategy = Random
	rnd, err := Select(rand.New(rand.NewPCG(3, 3)), pool, 20, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(dis) != 20 || len(rnd) != 20 {
		t.Fatalf("got %d and %d pairs, want 20", len(dis), len(rnd))
	}
	if !(mean(dis) > 2*mean(rnd)) {
		t.Errorf("mean variance: disagreement %.4f, random %.4f; want disagreement clearly higher", mean(dis), mean(rnd))
	}
	// The chosen pairs are the top 20 of the same 200 candidates.
	cands, _ := Candidates(rand.New(rand.NewPCG(3, 3)), pool, 200)
	worstChosen := math.Inf(1)
	for _, p := range dis {
		worstChosen = math.Min(worstChosen, Variance(returns, p))
	}
	better := 0
	for _, p := range cands {
		if Variance(returns, p) > worstChosen {
			better++
		}
	}
	if better > 20 {
		t.Errorf("%d candidates beat the least disputed chosen pair, want at most 20", better)
	}
	// Deterministic for a seed.
	again, _ := Select(rand.New(rand.NewPCG(3, 3)), pool, 20, Defaults(), returns)
	for i := range dis {
		if dis[i] != again[i] {
			t.Fatalf("same seed, different selection")
		}
	}
}

// TestWithModel scores real segments through a fitted reward ensemble.
func TestWithModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	c := reward.Defaults()
	c.Hidden = []int{16}
	c.Epochs = 3
	m, err := reward.New(c, reward.Shape{ObsDim: 4, ActDim: 1, ActN: 2})
	if err != nil {
		t.Fatal(err)
	}
	d := &reward.Dataset{}
	for _, cmp := range reward.CartPoleComparisons(rng, 20, 5, oracle.Rater{}) {
		d.Add(cmp)
	}
	if _, err := m.Fit(d); err != nil {
		t.Fatal(err)
	}
	var segs []reward.Segment
	for _, cmp := range d.Train {
		segs = append(segs, cmp.Left, cmp.Right)
	}
	returns := MemberReturns(m, segs)
	ps, err := Select(rng, len(segs), 5, Defaults(), returns)
	if err != nil || len(ps) != 5 {
		t.Fatalf("Select: %v, %d pairs", err, len(ps))
	}
	for _, p := range ps {
		_, spread := m.Prefer(segs[p.Left], segs[p.Right])
		if v := Variance(returns, p); math.Abs(v-spread*spread) > 1e-9 {
			t.Errorf("Variance %v, model's spread² %v", v, spread*spread)
		}
	}
}

func TestConfig(t *testing.T) {
	if n := Defaults().InitialLabels(700); n != 175 {
		t.Errorf("InitialLabels(700) = %d, want 175", n)
	}
	rng := rand.New(rand.NewPCG(5, 5))
	for _, c := range []Config{{Strategy: "best", Oversample: 10}, {Strategy: Random, Oversample: 0}, {Strategy: Random, Oversample: 1, InitialShare: 2}} {
		if _, err := Select(rng, 10, 2, c, nil); err == nil {
			t.Errorf("Select with %+v: want an error", c)
		}
	}
	if _, err := Select(rng, 10, 2, Defaults(), [][]float64{{1}}); err == nil {
		t.Errorf("returns for the wrong pool size: want an error")
	}
	if s, err := ParseStrategy("random"); err != nil || s != Random {
		t.Errorf("ParseStrategy(random) = %v, %v", s, err)
	}
}
