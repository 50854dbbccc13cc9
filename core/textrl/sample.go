package textrl

import (
	"math/rand/v2"

	"github.com/prefer-rlhf/prefer/core/lm"
)

// chunk is the batch size of sampling and scoring.
const chunk = 64

// sample draws one continuation of length L from m at temperature 1 (a tempered reference
// carries its temperature in its weights, lm.Model.Temper) for each prompt (all of
// one length), in batches.
func sample(m *lm.Model, rng *rand.Rand, prompts [][]int, L int) ([][]int, error) {
	out := make([][]int, 0, len(prompts))
	for lo := 0; lo < len(prompts); lo += chunk {
		batch := prompts[lo:min(lo+chunk, len(prompts))]
		flat := make([]int, 0, len(batch)*len(batch[0]))
		for _, p := range batch {
			flat = append(flat, p...)
		}
		toks, _, err := m.NewSampler(len(batch)).Generate(rng, flat, L, 1)
		if err != nil {
			return nil, err
		}
		for i := range batch {
			out = append(out, toks[i*L:(i+1)*L:(i+1)*L])
		}
	}
	return out, nil
}

// logProbs returns log m(cont_i | prompt_i) for each pair, summed over the continuation's
// tokens (prompts of one length, continuations of one length).
func logProbs(m *lm.Model, prompts, conts [][]int) ([]float64, error) {
	out := make([]float64, len(prompts))
	if len(prompts) == 0 {
		return out, nil
	}
	P, L := len(prompts[0]), len(conts[0])
	T := P + L
	var ws lm.Workspace
	for lo := 0; lo < len(prompts); lo += chunk {
		hi := min(lo+chunk, len(prompts))
		seqs := make([]int, 0, (hi-lo)*T)
		for i := lo; i < hi; i++ {
			seqs = append(append(seqs, prompts[i]...), conts[i]...)
		}
		lp := make([]float64, (hi-lo)*(T-1))
		if err := m.LogProbs(&ws, seqs, hi-lo, T, 1, lp); err != nil {
			return nil, err
		}
		for i := lo; i < hi; i++ {
			for _, v := range lp[(i-lo)*(T-1)+P-1 : (i-lo+1)*(T-1)] {
				out[i] += v
			}
		}
	}
	return out, nil
}

// dpoModel is a language model as core/dpo trains it: sequence log-probabilities, and their
// gradients accumulated in grad until the optimiser steps.
type dpoModel struct {
	m    *lm.Model
	ws   lm.Workspace
	grad []float64
}

func (d *dpoModel) seq(prompt, cont []int) ([]int, []float64) {
	s := append(append([]int{}, prompt...), cont...)
	lp := make([]float64, len(s)-1)
	if err := d.m.LogProbs(&d.ws, s, 1, len(s), 1, lp); err != nil {
		panic(err) // unreachable: the pairs are the reference's own samples
	}
	return s, lp
}

// LogProb is log π(cont | prompt).
func (d *dpoModel) LogProb(prompt, cont []int) float64 {
	_, lp := d.seq(prompt, cont)
	t := 0.0
	for _, v := range lp[len(prompt)-1:] {
		t += v
	}
	return t
}

// Backward adds weight × ∇ log π(cont | prompt) to grad.
func (d *dpoModel) Backward(prompt, cont []int, weight float64) {
	_, lp := d.seq(prompt, cont)
	w := make([]float64, len(lp))
	for i := len(prompt) - 1; i < len(w); i++ {
		w[i] = weight
	}
	if err := d.m.LogProbsBackward(&d.ws, 1, w, nil, d.grad); err != nil {
		panic(err)
	}
}
