// Package query chooses which pairs of segments to ask raters about, as Christiano et al. 2017,
// §2.2.4: draw many candidate pairs from recent rollouts, have every member of the reward
// ensemble predict which segment of each pair is better, and ask about the pairs on which the
// members disagree most. Uniformly random pairs are the baseline. Before training starts, a
// share of the labels is asked about segments of a random policy (App. A).
//
// Everything here is a pure function of its arguments and a random stream: the caller owns the
// pool of segments and refers to them by index.
package query

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/prefer-rlhf/prefer/core/reward"
)

// Strategy is how pairs are chosen among candidates.
type Strategy string

// The strategies.
const (
	Disagreement Strategy = "disagreement" // highest variance of the members' P(left) (§2.2.4)
	Random       Strategy = "random"       // uniformly random pairs, the baseline
	Uniform      Strategy = "uniform"      // Random under B-Pref's name
	// The strategies of strategies.go (B-Pref, Lee et al. 2021, §4; Bıyık et al. 2019).
	Entropy             Strategy = "entropy"              // highest entropy of the ensemble's mean P(left)
	KCenter             Strategy = "kcenter"              // greedy k-center on the pairs' features
	KCenterDisagreement Strategy = "kcenter_disagreement" // k-center among the more disputed half
	KCenterEntropy      Strategy = "kcenter_entropy"      // k-center among the higher-entropy half
	InfoGain            Strategy = "infogain"             // mutual information between answer and member
)

// Strategies lists every strategy name ParseStrategy accepts.
var Strategies = []Strategy{Random, Uniform, Disagreement, Entropy, KCenter, KCenterDisagreement, KCenterEntropy, InfoGain}

// ParseStrategy returns the strategy named s.
func ParseStrategy(s string) (Strategy, error) {
	for _, st := range Strategies {
		if Strategy(s) == st {
			return st, nil
		}
	}
	return "", fmt.Errorf("query: unknown strategy %q (want one of %v)", s, Strategies)
}

// Config holds the query-selection settings. Start from Defaults.
type Config struct {
	// Strategy picks pairs by ensemble disagreement (§2.2.4) or at random (the baseline).
	Strategy Strategy
	// Oversample is the number of candidate pairs drawn per pair wanted: 10, so the chosen
	// pairs are the most disputed tenth.
	Oversample int
	// InitialShare is the share of the label budget asked about segments of a random policy
	// before the policy trains: 25% (App. A.1, MuJoCo).
	InitialShare float64
}

// Defaults returns disagreement selection with 10x oversampling and a 25% initial share.
func Defaults() Config {
	return Config{Strategy: Disagreement, Oversample: 10, InitialShare: 0.25}
}

// Validate reports a setting out of range.
func (c Config) Validate() error {
	if _, err := ParseStrategy(string(c.Strategy)); err != nil {
		return err
	}
	if c.Oversample < 1 {
		return fmt.Errorf("query: Oversample must be at least 1, got %d", c.Oversample)
	}
	if !(c.InitialShare >= 0 && c.InitialShare <= 1) {
		return fmt.Errorf("query: InitialShare must be in [0, 1], got %v", c.InitialShare)
	}
	return nil
}

// InitialLabels returns how many labels of a budget come from a random policy's segments
// before training starts.
func (c Config) InitialLabels(budget int) int {
	return int(math.Round(c.InitialShare * float64(max(budget, 0))))
}

// Pair indexes two different segments of a pool: Left is shown on the left.
type Pair struct{ Left, Right int }

// Candidates draws up to n distinct pairs of distinct segments uniformly from a pool of the
// given size, each in a random left-right order; all pool·(pool-1)/2 pairs if n is that many
// or more.
func Candidates(rng *rand.Rand, pool, n int) ([]Pair, error) {
	if pool < 2 {
		return nil, fmt.Errorf("query: need at least 2 segments, got %d", pool)
	}
	if n < 0 {
		return nil, fmt.Errorf("query: negative number of pairs %d", n)
	}
	all := pool * (pool - 1) / 2
	if n >= all/2 {
		// Dense: shuffle the list of all pairs and keep a prefix.
		ps := make([]Pair, 0, all)
		for i := 0; i < pool; i++ {
			for j := i + 1; j < pool; j++ {
				ps = append(ps, Pair{i, j})
			}
		}
		rng.Shuffle(len(ps), func(a, b int) { ps[a], ps[b] = ps[b], ps[a] })
		ps = ps[:min(n, all)]
		for k := range ps {
			if rng.IntN(2) == 1 {
				ps[k] = Pair{ps[k].Right, ps[k].Left}
			}
		}
		return ps, nil
	}
	// Sparse: rejection sampling; fewer than half of the pairs are wanted, so it is quick.
	seen := make(map[[2]int]bool, n)
	ps := make([]Pair, 0, n)
	for len(ps) < n {
		i, j := rng.IntN(pool), rng.IntN(pool)
		if i == j || seen[[2]int{min(i, j), max(i, j)}] {
			continue
		}
		seen[[2]int{min(i, j), max(i, j)}] = true
		ps = append(ps, Pair{i, j})
	}
	return ps, nil
}

// Variance returns the disagreement about a pair: the variance across ensemble members of
// member i's Bradley-Terry probability that the left segment is better, σ(Rᵢ(left) -
// Rᵢ(right)) (eq. 1), where returns[s][i] is member i's predicted return of segment s.
func Variance(returns [][]float64, p Pair) float64 {
	l, r := returns[p.Left], returns[p.Right]
	mean, sq := 0.0, 0.0
	for i := range l {
		q := sigmoid(l[i] - r[i])
		mean += q
		sq += q * q
	}
	k := float64(len(l))
	mean /= k
	return math.Max(sq/k-mean*mean, 0)
}

// Select chooses k pairs from a pool of segments by a strategy that reads only the members'
// returns: SelectFrom with Inputs{Returns: returns}.
func Select(rng *rand.Rand, pool, k int, cfg Config, returns [][]float64) ([]Pair, error) {
	return SelectFrom(rng, pool, k, cfg, Inputs{Returns: returns})
}

// top returns the n candidates with the highest score, ties broken by draw order.
func top(cands []Pair, score func(Pair) float64, n int) []Pair {
	type scored struct {
		p Pair
		v float64
		i int
	}
	sc := make([]scored, len(cands))
	for i, p := range cands {
		sc[i] = scored{p, score(p), i}
	}
	slices.SortFunc(sc, func(a, b scored) int {
		switch {
		case a.v > b.v:
			return -1
		case a.v < b.v:
			return 1
		}
		return a.i - b.i
	})
	out := make([]Pair, 0, min(n, len(sc)))
	for _, s := range sc[:min(n, len(sc))] {
		out = append(out, s.p)
	}
	return out
}

// Ensemble is what MemberReturns needs of a reward model; *reward.Model has it.
type Ensemble interface {
	Members() int
	MemberReturns(s reward.Segment, out []float64)
}

// MemberReturns computes each member's predicted return of every segment, one forward pass
// per segment, so that Select can score all candidate pairs without touching the networks.
func MemberReturns(m Ensemble, segs []reward.Segment) [][]float64 {
	out := make([][]float64, len(segs))
	flat := make([]float64, len(segs)*m.Members())
	for i, s := range segs {
		out[i] = flat[i*m.Members() : (i+1)*m.Members()]
		m.MemberReturns(s, out[i])
	}
	return out
}

func sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}
