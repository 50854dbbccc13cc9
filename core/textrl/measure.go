package textrl

import (
	"math/rand/v2"

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
