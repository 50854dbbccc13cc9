package sweep

import (
	"math"
	"math/rand/v2"
	"slices"
)

// Result is the outcome of one run: one JSONL line of a sweep.
type Result struct {
	Run
	EvalReturn   float64 `json:"eval_return"`   // final true return, fresh episodes of the standard task
	RandomReturn float64 `json:"random_return"` // a uniformly random policy's on the same episodes
	ExpertReturn float64 `json:"expert_return"` // PPO's on the true reward, same env and seed
	Normalized   float64 `json:"normalized"`    // Normalize(EvalReturn, RandomReturn, ExpertReturn)
	LabelsUsed   int     `json:"labels_used"`   // labels the teacher answered, skipped ones included
	WallSeconds  float64 `json:"wall_seconds"`
	// FreshKept says, for a run with Cell.FinalFresh, whether the fresh policy was kept.
	FreshKept *bool `json:"fresh_kept,omitempty"`
}

// Normalize scores a return on B-Pref's scale: 0 for a random policy, 1 for PPO trained on
// the true reward (Lee et al. 2021, §5: "normalized returns" against SAC on the true reward).
func Normalize(ret, random, expert float64) float64 {
	return (ret - random) / (expert - random)
}

// Summary is one cell of a sweep: its mean normalised return over seeds with a 95%
// bootstrap confidence interval.
type Summary struct {
	Cell
	Runs           int     `json:"runs"`
	NormalizedMean float64 `json:"normalized_mean"`
	CILow          float64 `json:"ci_low"`
	CIHigh         float64 `json:"ci_high"`
}

// Resamples is the number of bootstrap resamples of a confidence interval.
const Resamples = 10000

// Summarize groups results by cell, in the order cells first appear, and gives each the mean
// normalised return and its 95% percentile-bootstrap interval over seeds (Efron & Tibshirani
// 1993, §13.3), drawn from rng.
func Summarize(rng *rand.Rand, results []Result) []Summary {
	var order []Cell
	by := map[string][]float64{}
	for _, r := range results {
		k := r.Cell.Key()
		if _, ok := by[k]; !ok {
			order = append(order, r.Cell)
		}
		by[k] = append(by[k], r.Normalized)
	}
	out := make([]Summary, 0, len(order))
	for _, c := range order {
		xs := by[c.Key()]
		lo, hi := BootstrapCI(rng, xs, Resamples, 0.95)
		out = append(out, Summary{
			Cell: c,
			Runs: len(xs), NormalizedMean: mean(xs), CILow: lo, CIHigh: hi,
		})
	}
	return out
}

// BootstrapCI is the percentile bootstrap interval of the mean of xs at the given level:
// the (1-level)/2 and (1+level)/2 quantiles of the means of resamples of xs drawn with
// replacement. One value gives a zero-width interval at it; none gives NaNs.
func BootstrapCI(rng *rand.Rand, xs []float64, resamples int, level float64) (lo, hi float64) {
	if len(xs) == 0 {
		return math.NaN(), math.NaN()
	}
	means := make([]float64, resamples)
	for b := range means {
		s := 0.0
		for range xs {
			s += xs[rng.IntN(len(xs))]
		}
		means[b] = s / float64(len(xs))
	}
	slices.Sort(means)
	return quantile(means, (1-level)/2), quantile(means, (1+level)/2)
}

// quantile interpolates linearly between order statistics of sorted xs.
func quantile(xs []float64, q float64) float64 {
	pos := q * float64(len(xs)-1)
	i := int(pos)
	if i+1 >= len(xs) {
		return xs[len(xs)-1]
	}
	f := pos - float64(i)
	return xs[i]*(1-f) + xs[i+1]*f
}

func mean(xs []float64) float64 {
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}
