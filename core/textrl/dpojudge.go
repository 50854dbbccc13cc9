package textrl

import (
	"math/rand/v2"

	"github.com/prefer-rlhf/prefer/core/dpo"
	"github.com/prefer-rlhf/prefer/core/lm"
)

// judgedPairs is a round's pairs judged by the reward model (Config.DPOJudge): k
// continuations from m of each of n prompts drawn from train with rng, and for each prompt
// its best and worst continuation under score as a strict pair (Dong et al. 2024, "RLHF
// Workflow", §3.2: best-of-n against worst-of-n under the reward model; Xiong et al. 2024,
// GSHF, the reward model as the oracle of online DPO).
//
// With prefer non-nil each pair's μ is prefer(prompt, best, worst), the reward model's
// probability that best beats worst (Config.DPOJudgeSoft), instead of 1.
func judgedPairs(m *lm.Model, rng *rand.Rand, train [][]int, n, k, L int, score func(p, c []int) float64, prefer func(p, a, b []int) float64) ([]dpo.Pair, error) {
	prompts := make([][]int, 0, n*k)
	for range n {
		p := train[rng.IntN(len(train))]
		for range k {
			prompts = append(prompts, p)
		}
	}
	conts, err := sample(m, rng, prompts, L)
	if err != nil {
		return nil, err
	}
	pairs := bestWorst(prompts, conts, k, score)
	if prefer != nil {
		for i, p := range pairs {
			pairs[i].Mu = prefer(p.Prompt, p.Left, p.Right)
		}
	}
	return pairs, nil
}

// bestWorst pairs, in each run of k continuations of one prompt, the highest-scoring
// continuation (Left, the first of equals) against the lowest (Right), μ 1; a run whose
// continuations all score alike gives no pair, as it says nothing.
func bestWorst(prompts, conts [][]int, k int, score func(p, c []int) float64) []dpo.Pair {
	var out []dpo.Pair
	for i := 0; i+k <= len(prompts); i += k {
		best, worst := i, i
		hi := score(prompts[i], conts[i])
		lo := hi
		for j := i + 1; j < i+k; j++ {
			switch s := score(prompts[j], conts[j]); {
			case s > hi:
				best, hi = j, s
			case s < lo:
				worst, lo = j, s
			}
		}
		if hi > lo {
			out = append(out, dpo.Pair{Prompt: prompts[i], Left: conts[best], Right: conts[worst], Mu: 1})
		}
	}
	return out
}
