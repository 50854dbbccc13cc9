package query

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestParseStrategyAll(t *testing.T) {
	for _, s := range Strategies {
		if got, err := ParseStrategy(string(s)); err != nil || got != s {
			t.Errorf("ParseStrategy(%q) = %q, %v", s, got, err)
		}
	}
	if _, err := ParseStrategy("smart"); err == nil {
		t.Error("unknown strategy accepted")
	}
}

// A pool in which segment 0 is the reference: the member returns of segment s against it make
// a known P(left) per member.
func poolOf(rows ...[]float64) [][]float64 {
	out := [][]float64{make([]float64, len(rows[0]))}
	return append(out, rows...)
}

func TestEntropyAndInformationGain(t *testing.T) {
	// Segment 1: every member unsure (P = ½ each): entropy ln 2, no information gain.
	// Segment 2: members sure but opposed (P ≈ 0 and ≈ 1): entropy ≈ ln 2, gain ≈ ln 2.
	// Segment 3: members agree and are sure: entropy ≈ 0, gain ≈ 0.
	r := poolOf([]float64{0, 0}, []float64{20, -20}, []float64{20, 20})
	ln2 := math.Log(2)
	if h := MeanEntropy(r, Pair{1, 0}); math.Abs(h-ln2) > 1e-12 {
		t.Errorf("entropy of unsure members %v, want ln 2", h)
	}
	if g := InformationGain(r, Pair{1, 0}); g > 1e-12 {
		t.Errorf("information gain of unsure members %v, want 0", g)
	}
	if g := InformationGain(r, Pair{2, 0}); math.Abs(g-ln2) > 1e-6 {
		t.Errorf("information gain of opposed sure members %v, want ln 2", g)
	}
	if h, g := MeanEntropy(r, Pair{3, 0}), InformationGain(r, Pair{3, 0}); h > 1e-6 || g > 1e-6 {
		t.Errorf("agreeing sure members: entropy %v, gain %v, want 0", h, g)
	}
}

func TestSelectFromPicksTheKnownPairs(t *testing.T) {
	// Pair {0, 1}: every member unsure (P = ½ each): the highest entropy, no information gain,
	// no disagreement. Pair {2, 3}: members lean opposite ways (P = 0.95 and 0.27): lower
	// entropy, but information gain and disagreement. Every other pair is settled: the groups
	// are 1000 apart and the other segments further.
	rows := [][]float64{{1000, 1000}, {1000, 1000}, {-997, -1001}, {-1000, -1000}}
	for s := 4; s < 12; s++ {
		rows = append(rows, []float64{5000 * float64(s), 5000 * float64(s)})
	}
	key := func(p Pair) [2]int { return [2]int{min(p.Left, p.Right), max(p.Left, p.Right)} }
	cfg := Defaults()
	cfg.Oversample = 1000 // every pair is a candidate
	for _, c := range []struct {
		s    Strategy
		want [2]int
	}{{Entropy, [2]int{0, 1}}, {InfoGain, [2]int{2, 3}}, {Disagreement, [2]int{2, 3}}} {
		cfg.Strategy = c.s
		ps, err := SelectFrom(rand.New(rand.NewPCG(1, 1)), len(rows), 1, cfg, Inputs{Returns: rows})
		if err != nil {
			t.Fatal(err)
		}
		if len(ps) != 1 || key(ps[0]) != c.want {
			t.Errorf("%s picked %v, want %v", c.s, ps, c.want)
		}
	}
}

func TestKCenterGreedy(t *testing.T) {
	// Three tight clusters on a line; k-center picks one from each before a second from any.
	var pts [][]float64
	for _, c := range []float64{0, 10, 20} {
		for j := 0; j < 5; j++ {
			pts = append(pts, []float64{c + 0.01*float64(j)})
		}
	}
	got := KCenterGreedy(pts, nil, 3)
	clusters := []int{}
	for _, i := range got {
		clusters = append(clusters, i/5)
	}
	slices.Sort(clusters)
	if !slices.Equal(clusters, []int{0, 1, 2}) {
		t.Errorf("k-center picked %v (clusters %v), want one per cluster", got, clusters)
	}
	// With the clusters at 0 and 10 already covered, the first pick is in the one at 20.
	if got := KCenterGreedy(pts, [][]float64{{0}, {10}}, 1); got[0]/5 != 2 {
		t.Errorf("with existing centres picked %v, want cluster 2", got)
	}
	if got := KCenterGreedy(pts, nil, 100); len(got) != len(pts) {
		t.Errorf("k beyond the points: %d picks", len(got))
	}
}

func TestSelectFromKCenterHybrids(t *testing.T) {
	// 20 segments at positions 0..19; members disagree about every pair of segments of
	// different parity (100 pairs) and are unsure alike about the others (90 pairs, variance
	// 0). With every pair a candidate, the more disputed half (95) is all of different
	// parity, and k-center spreads the picks along the line.
	n := 20
	feats := make([][]float64, n)
	rows := make([][]float64, n)
	for s := 0; s < n; s++ {
		feats[s] = []float64{float64(s)}
		rows[s] = []float64{float64(s % 2 * 40), float64((s + 1) % 2 * 40)}
	}
	cfg := Defaults()
	cfg.Oversample = 100
	for _, st := range []Strategy{KCenterDisagreement, KCenter} {
		cfg.Strategy = st
		ps, err := SelectFrom(rand.New(rand.NewPCG(2, 2)), n, 4, cfg, Inputs{Returns: rows, Features: feats})
		if err != nil {
			t.Fatal(err)
		}
		if len(ps) != 4 {
			t.Fatalf("%s: %d pairs, want 4", st, len(ps))
		}
		same := 0
		for _, p := range ps {
			if p.Left%2 == p.Right%2 {
				same++
			}
		}
		if st == KCenterDisagreement && same > 0 {
			t.Errorf("k-center+disagreement picked %d undisputed pairs: %v", same, ps)
		}
		// Spread: the picks' pair features are far apart; no two pairs share both ends' region.
		for a := range ps {
			for b := a + 1; b < len(ps); b++ {
				d := math.Hypot(float64(ps[a].Left-ps[b].Left), float64(ps[a].Right-ps[b].Right))
				if d < 3 {
					t.Errorf("%s: picks %v and %v are close (%.1f)", st, ps[a], ps[b], d)
				}
			}
		}
	}
	// Plain k-center needs features.
	cfg.Strategy = KCenter
	if _, err := SelectFrom(rand.New(rand.NewPCG(2, 2)), n, 4, cfg, Inputs{}); err == nil {
		t.Error("k-center without features accepted")
	}
}
