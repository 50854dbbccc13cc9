package failure

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
)

// ISConfig sets the importance-sampling estimator.
type ISConfig struct {
	// Episodes is how many episodes of the target policy the estimate runs.
	Episodes int
	// TrainEpisodes is how many episodes of each weaker policy train the predictor.
	TrainEpisodes int
	// Pool is how many candidate x are drawn from the nominal distribution; the proposal
	// picks among them. Its finite size adds variance p/Pool, which the interval includes.
	Pool int
	// Defensive is the share of the proposal that stays uniform over the pool, so that no
	// weight exceeds 1/Defensive however wrong the predictor is (Hesterberg 1995).
	Defensive float64
	// L2 is the predictor's penalty on its weights.
	L2 float64
}

// DefaultISConfig returns the settings prefer failure-rate uses.
func DefaultISConfig() ISConfig {
	return ISConfig{Episodes: 2000, TrainEpisodes: 4000, Pool: 1_000_000, Defensive: 0.1, L2: 1}
}

// ISResult is the importance-sampling estimate, the weaker policies' episodes that trained
// the predictor, and their failures.
type ISResult struct {
	Estimate
	TrainEpisodes int
	TrainFailures int
	Predictor     *Predictor
}

// ImportanceSampling estimates the target's failure probability (Uesato et al. 2018, §3):
// learn a failure predictor f from episodes of weaker policies under the nominal
// distribution; draw a pool of candidates from that distribution; run the target on
// candidates picked with probability q_j = (1-ε) f_j/Σf + ε/M; and weight each failure by
// (1/M)/q_j. The estimate is unbiased for the pool's failure share, which is unbiased for p.
func ImportanceSampling(target Problem, weak []Problem, cfg ISConfig, seed uint64) (ISResult, error) {
	if cfg.Episodes <= 0 || cfg.Pool <= 0 || !(cfg.Defensive > 0 && cfg.Defensive <= 1) {
		return ISResult{}, fmt.Errorf("failure: importance sampling needs episodes > 0, a pool > 0 and a defensive share in (0, 1], got %+v", cfg)
	}
	// 1. The predictor, from the weaker policies' episodes.
	var xs [][]float64
	var ys []bool
	for w, pr := range weak {
		if pr.Dim != target.Dim {
			return ISResult{}, fmt.Errorf("failure: weaker policy %d has episodes of %d numbers, the target %d", w, pr.Dim, target.Dim)
		}
		base := len(xs)
		for i := 0; i < cfg.TrainEpisodes; i++ {
			xs = append(xs, make([]float64, pr.Dim))
		}
		fails, err := parallel(pr, cfg.TrainEpisodes, func(i int, x []float64) {
			Draw(episodeRand(seed^0x5bd1e995+uint64(w), i), x)
			copy(xs[base+i], x)
		})
		if err != nil {
			return ISResult{}, err
		}
		ys = append(ys, fails...)
	}
	res := ISResult{TrainEpisodes: len(xs)}
	for _, f := range ys {
		if f {
			res.TrainFailures++
		}
	}
	pred := &Predictor{W: make([]float64, 1+2*target.Dim)} // no data: uniform proposal
	if res.TrainFailures > 0 && res.TrainFailures < len(ys) {
		var err error
		if pred, err = FitPredictor(xs, ys, cfg.L2); err != nil {
			return ISResult{}, err
		}
	}
	res.Predictor = pred

	// 2. The pool and its proposal. Candidate j is regenerated from its own stream, so only
	// the cumulative proposal is kept.
	m := cfg.Pool
	cum := make([]float64, m)
	x := make([]float64, target.Dim)
	total := 0.0
	for j := 0; j < m; j++ {
		Draw(poolRand(seed, j), x)
		total += pred.Prob(x)
		cum[j] = total
	}
	q := func(j int) float64 {
		f := cum[j]
		if j > 0 {
			f -= cum[j-1]
		}
		return (1-cfg.Defensive)*f/total + cfg.Defensive/float64(m)
	}
	// 3. The target's episodes on candidates drawn from q.
	rng := rand.New(rand.NewPCG(seed, 0x1f123bb5))
	picks := make([]int, cfg.Episodes)
	for i := range picks {
		if rng.Float64() < cfg.Defensive {
			picks[i] = rng.IntN(m)
		} else {
			picks[i] = min(sort.SearchFloat64s(cum, rng.Float64()*total), m-1)
		}
	}
	fails, err := parallel(target, cfg.Episodes, func(i int, x []float64) { Draw(poolRand(seed, picks[i]), x) })
	if err != nil {
		return ISResult{}, err
	}
	n := float64(cfg.Episodes)
	sum, sum2, maxW := 0.0, 0.0, 0.0
	for i, f := range fails {
		w := 1 / (float64(m) * q(picks[i]))
		maxW = max(maxW, w)
		if f {
			res.Failures++
			sum += w
			sum2 += w * w
		}
	}
	p := sum / n
	v := (sum2/n - p*p) / n // the sampling variance of the weighted mean
	v += p * (1 - p) / float64(m)
	half := 1.96 * math.Sqrt(max(v, 0))
	res.Estimate = Estimate{P: p, Lo: max(0, p-half), Hi: p + half, Episodes: cfg.Episodes, Failures: res.Failures}
	if res.Failures == 0 {
		// No failure seen: the rule of three on the largest weight a failure could have had.
		res.Hi = 3 * maxW / n
	}
	return res, nil
}

// poolRand is the random stream of pool candidate j.
func poolRand(seed uint64, j int) *rand.Rand {
	return rand.New(rand.NewPCG(seed^0xa0761d6478bd642f, uint64(j)))
}
