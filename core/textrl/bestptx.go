package textrl

import (
	"math/rand/v2"

	"github.com/prefer-rlhf/prefer/core/bestofn"
	"github.com/prefer-rlhf/prefer/core/lm"
)

// bestStream returns PPO-ptx's stream of best-of-n continuations (Config.PtxBestOf): for
// each of the prompts, draws times, n continuations of length L sampled from ref and the best
// of them under score, each written as its prompt, the continuation and sep, one after another.
func bestStream(ref *lm.Model, rng *rand.Rand, prompts [][]int, draws, n, L int, score func(p, c []int) float64, sep []int) ([]int, error) {
	many := make([][]int, 0, len(prompts)*draws*n)
	for _, p := range prompts {
		for range draws * n {
			many = append(many, p)
		}
	}
	cands, err := sample(ref, rng, many, L)
	if err != nil {
		return nil, err
	}
	return bestOfGroups(many, cands, n, score, sep), nil
}

// bestOfGroups writes the best under score of each group of n consecutive continuations
// (conts[g·n : (g+1)·n], all of prompts[g·n]) as its prompt, the continuation and sep.
func bestOfGroups(prompts, conts [][]int, n int, score func(p, c []int) float64, sep []int) []int {
	var out []int
	for g, best := range bestOf(prompts, conts, n, score) {
		out = append(append(append(out, prompts[g*n]...), best...), sep...)
	}
	return out
}

// bestOf returns the best under score of each group of n consecutive continuations
// (conts[g·n : (g+1)·n], all of prompts[g·n]): best-of-n's pick, group by group.
func bestOf(prompts, conts [][]int, n int, score func(p, c []int) float64) [][]int {
	out := make([][]int, 0, len(conts)/n)
	for g := 0; g+n <= len(conts); g += n {
		p, k := prompts[g], g
		best, _ := bestofn.Best(n, func() []int { k++; return conts[k-1] }, func(c []int) float64 { return score(p, c) })
		out = append(out, best)
	}
	return out
}
