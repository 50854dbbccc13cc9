package textrl

import (
	"math/rand/v2"
	"slices"

	"github.com/prefer-rlhf/prefer/core/sweep"
	"github.com/prefer-rlhf/prefer/core/text"
)

// distinctBlock is how many continuations per held-out prompt one distinct-2 is taken over.
// Distinct-2 falls as texts are added (more bigrams repeat), so it is comparable only at a
// fixed sample size: with more continuations per prompt, measureTexts averages it over blocks
// of this many per prompt, keeping the scale of the 8 per prompt the goal's figures were
// taken at (README, "RLHF on text").
const distinctBlock = 8

// measureTexts measures texts, per continuations of each prompt in a row (prompt-major, as
// Run lays out its held-out prompts), with Distinct2 the mean over blocks of distinctBlock
// continuations per prompt (the last block takes the remainder).
func measureTexts(w *text.World, t text.Task, texts []string, per int) text.Measures {
	m := w.Measure(t, texts)
	if per <= distinctBlock {
		return m
	}
	prompts := len(texts) / per
	sum, blocks := 0.0, 0
	for lo := 0; lo < per; lo += distinctBlock {
		hi := min(lo+distinctBlock, per)
		block := make([]string, 0, prompts*(hi-lo))
		for p := range prompts {
			block = append(block, texts[p*per+lo:p*per+hi]...)
		}
		sum += text.Distinct2(block)
		blocks++
	}
	m.Distinct2 = sum / float64(blocks)
	return m
}

// ciResamples is the number of bootstrap resamples of a confidence interval.
const ciResamples = 10000

// shareCI is the 95% interval of the share of texts for which hit holds (meanCI of 1 for a
// hit and 0 for a miss).
func shareCI(seed uint64, texts []string, per int, hit func(string) bool) [2]float64 {
	xs := make([]float64, len(texts))
	for i, s := range texts {
		if hit(s) {
			xs[i] = 1
		}
	}
	return meanCI(seed, xs, per)
}

// meanCI is the 95% percentile-bootstrap interval of the mean of xs, one value per text,
// resampling held-out prompts (per texts each, prompt-major) rather than texts: the
// continuations of one prompt are not independent, and the goal is a mean over prompts, so
// the prompts are the unit (the cluster bootstrap; Davison & Hinkley 1997, §3.8). Its seed is
// fixed, so a report is reproducible.
func meanCI(seed uint64, xs []float64, per int) [2]float64 {
	prompts := len(xs) / per
	means := make([]float64, prompts)
	for p := range prompts {
		means[p] = meanOf(xs[p*per : (p+1)*per])
	}
	lo, hi := sweep.BootstrapCI(rand.New(rand.NewPCG(seed, 0x63693935)), means, ciResamples, 0.95)
	return [2]float64{lo, hi}
}

// promptResults measures each of the prompts on its per continuations before and after
// (prompt-major, as Run lays out its held-out prompts), with hit the goal's test of a
// continuation; kls, each tuned continuation's KL, may be nil (best-of-n).
func promptResults(tok *text.BPE, prompts [][]int, before, after []string, kls []float64, per int, hit func(string) bool) []PromptResult {
	share := func(texts []string) float64 {
		n := 0
		for _, s := range texts {
			if hit(s) {
				n++
			}
		}
		return float64(n) / float64(len(texts))
	}
	out := make([]PromptResult, len(prompts))
	for p, prompt := range prompts {
		lo, hi := p*per, (p+1)*per
		r := PromptResult{Prompt: tok.Decode(prompt), GoalShareBefore: share(before[lo:hi]), GoalShareAfter: share(after[lo:hi])}
		if kls != nil {
			kl := meanOf(kls[lo:hi])
			r.KL = &kl
		}
		if i := slices.IndexFunc(after[lo:hi], func(s string) bool { return !hit(s) }); i >= 0 {
			r.Miss = after[lo+i]
		}
		out[p] = r
	}
	return out
}

// goal reports whether a continuation with gold score g meets task t's goal: no e on
// TextNoE-v0 (its score is minus the count of e), a positive sentiment otherwise.
func goal(t text.Task, g float64) bool {
	if t.NoReward {
		return g == 0
	}
	return g > 0
}
