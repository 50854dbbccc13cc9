package query

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Inputs is what the strategies read about a pool of segments.
type Inputs struct {
	// Returns[s][i] is member i's predicted return of segment s (MemberReturns). Every
	// strategy but Random, Uniform and KCenter needs it.
	Returns [][]float64
	// Features[s] describes segment s for k-center: B-Pref uses its observations, flattened.
	// The k-center strategies need it; a pair's features are its two segments' in order.
	Features [][]float64
	// Labelled holds the pair features (left then right) of pairs asked before: k-center
	// picks pairs far from them as well as from each other, as B-Pref's KCenterGreedy does
	// with its buffer of labelled queries. It may be empty.
	Labelled [][]float64
}

// NeedsReturns says whether s reads Inputs.Returns.
func (s Strategy) NeedsReturns() bool {
	switch s {
	case Random, Uniform, KCenter:
		return false
	}
	return true
}

// NeedsFeatures says whether s reads Inputs.Features.
func (s Strategy) NeedsFeatures() bool {
	return s == KCenter || s == KCenterDisagreement || s == KCenterEntropy
}

// SelectFrom chooses k pairs from a pool of segments as cfg.Strategy says:
//
//   - Random, Uniform: k uniformly random pairs.
//   - Disagreement: of Oversample·k candidates, the k with the highest Variance (§2.2.4).
//   - Entropy: the k with the highest binary entropy of the ensemble's mean P(left).
//   - InfoGain: the k with the highest mutual information between the answer and the member
//     (Bıyık et al. 2019; BALD): H(mean pᵢ) - mean H(pᵢ). Pairs on which every member is
//     sure but members disagree score high; pairs on which every member is unsure score low.
//   - KCenter: greedy k-center (Sener & Savarese 2018) on the candidates' pair features.
//   - KCenterDisagreement, KCenterEntropy: B-Pref's hybrids (Lee et al. 2021, §4): keep the
//     more uncertain half of the Oversample·k candidates, then greedy k-center among them.
//
// Fewer than k pairs come back only if the pool has fewer.
func SelectFrom(rng *rand.Rand, pool, k int, cfg Config, in Inputs) ([]Pair, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if k < 0 {
		return nil, fmt.Errorf("query: negative number of pairs %d", k)
	}
	s := cfg.Strategy
	if s == Random || s == Uniform {
		return Candidates(rng, pool, k)
	}
	if s.NeedsReturns() {
		if len(in.Returns) != pool {
			return nil, fmt.Errorf("query: %d rows of member returns for a pool of %d segments", len(in.Returns), pool)
		}
		for i, r := range in.Returns {
			if len(r) == 0 || len(r) != len(in.Returns[0]) {
				return nil, fmt.Errorf("query: segment %d has %d member returns, want %d > 0", i, len(r), len(in.Returns[0]))
			}
		}
	}
	if s.NeedsFeatures() {
		if len(in.Features) != pool {
			return nil, fmt.Errorf("query: %d feature rows for a pool of %d segments", len(in.Features), pool)
		}
		for i, f := range in.Features {
			if len(f) != len(in.Features[0]) {
				return nil, fmt.Errorf("query: segment %d has %d features, want %d", i, len(f), len(in.Features[0]))
			}
		}
		for i, f := range in.Labelled {
			if len(f) != 2*len(in.Features[0]) {
				return nil, fmt.Errorf("query: labelled pair %d has %d features, want %d", i, len(f), 2*len(in.Features[0]))
			}
		}
	}
	cands, err := Candidates(rng, pool, k*cfg.Oversample)
	if err != nil {
		return nil, err
	}
	variance := func(p Pair) float64 { return Variance(in.Returns, p) }
	entropy := func(p Pair) float64 { return MeanEntropy(in.Returns, p) }
	switch s {
	case Disagreement:
		return top(cands, variance, k), nil
	case Entropy:
		return top(cands, entropy, k), nil
	case InfoGain:
		return top(cands, func(p Pair) float64 { return InformationGain(in.Returns, p) }, k), nil
	case KCenterDisagreement:
		cands = top(cands, variance, max(len(cands)/2, k))
	case KCenterEntropy:
		cands = top(cands, entropy, max(len(cands)/2, k))
	}
	feats := make([][]float64, len(cands))
	for i, p := range cands {
		feats[i] = append(append([]float64(nil), in.Features[p.Left]...), in.Features[p.Right]...)
	}
	out := make([]Pair, 0, k)
	for _, i := range KCenterGreedy(feats, in.Labelled, k) {
		out = append(out, cands[i])
	}
	return out, nil
}

// MeanEntropy is the binary entropy (nats) of the ensemble's mean probability that the left
// segment is better, p̄ = mean over members of σ(Rᵢ(left) - Rᵢ(right)): highest at p̄ = ½.
// (B-Pref's entropy_sampling averages the members' entropies instead; the entropy of the
// mean is the total uncertainty that InformationGain splits.)
func MeanEntropy(returns [][]float64, p Pair) float64 {
	return binaryEntropy(meanP(returns, p))
}

// InformationGain is the mutual information between the rater's answer and which member of
// the ensemble is right, I = H(p̄) - mean H(pᵢ) (Bıyık et al. 2019, "Asking easy questions";
// Houlsby et al. 2011, BALD), in nats; it is never negative since H is concave.
func InformationGain(returns [][]float64, p Pair) float64 {
	l, r := returns[p.Left], returns[p.Right]
	h := 0.0
	for i := range l {
		h += binaryEntropy(sigmoid(l[i] - r[i]))
	}
	return math.Max(binaryEntropy(meanP(returns, p))-h/float64(len(l)), 0)
}

func meanP(returns [][]float64, p Pair) float64 {
	l, r := returns[p.Left], returns[p.Right]
	m := 0.0
	for i := range l {
		m += sigmoid(l[i] - r[i])
	}
	return m / float64(len(l))
}

func binaryEntropy(p float64) float64 {
	h := 0.0
	if p > 0 {
		h -= p * math.Log(p)
	}
	if p < 1 {
		h -= (1 - p) * math.Log(1-p)
	}
	return h
}

// KCenterGreedy picks k of the points greedily so that each is the point farthest (in
// Euclidean distance) from the centres so far, the centres starting as the points of
// existing (Sener & Savarese 2018, the 2-approximation of k-center that B-Pref's
// KCenterGreedy runs). With no existing centres the first pick is point 0. It returns the
// indices of the picks in order, fewer than k only if there are fewer points.
func KCenterGreedy(points, existing [][]float64, k int) []int {
	n := len(points)
	if n == 0 || k <= 0 {
		return nil
	}
	dist := make([]float64, n)
	for i := range dist {
		dist[i] = math.Inf(1)
		for _, c := range existing {
			dist[i] = math.Min(dist[i], sqDist(points[i], c))
		}
	}
	picked := make([]bool, n)
	var out []int
	for len(out) < min(k, n) {
		best := -1
		if len(out) == 0 && len(existing) == 0 {
			best = 0
		} else {
			for i := range points {
				if !picked[i] && (best < 0 || dist[i] > dist[best]) {
					best = i
				}
			}
		}
		picked[best] = true
		out = append(out, best)
		for i := range points {
			dist[i] = math.Min(dist[i], sqDist(points[i], points[best]))
		}
	}
	return out
}

func sqDist(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		d := a[i] - b[i]
		s += d * d
	}
	return s
}
