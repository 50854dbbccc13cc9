// Package bestofn is best-of-n sampling, the baseline that RL from a learned reward is measured
// against (Stiennon et al. 2020; Gao et al. 2022): draw n samples from the reference policy and
// keep the one the reward model scores highest. It needs no training; its distance from the
// reference is known in closed form.
package bestofn

import "math"

// KL is the KL divergence from the reference of the best-of-n policy, log n − (n−1)/n nats
// (Stiennon et al. 2020, App. G.3; Gao et al. 2022, §2.2): exact when the scores of distinct
// samples are distinct, an upper bound otherwise. It is 0 for n = 1 and NaN for n < 1.
func KL(n int) float64 {
	if n < 1 {
		return math.NaN()
	}
	return math.Log(float64(n)) - float64(n-1)/float64(n)
}

// Best draws n samples with draw and returns the one score rates highest (the first among
// equals) and its score. It panics if n < 1.
func Best[T any](n int, draw func() T, score func(T) float64) (best T, bestScore float64) {
	if n < 1 {
		panic("bestofn: n must be at least 1")
	}
	for i := range n {
		x := draw()
		if s := score(x); i == 0 || s > bestScore {
			best, bestScore = x, s
		}
	}
	return best, bestScore
}
