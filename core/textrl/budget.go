package textrl

import (
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/prefer-rlhf/prefer/core/lm"
	"github.com/prefer-rlhf/prefer/core/text"
)

// budgetStep is the step of η by which a tuned policy walks along the line from the
// reference to meet the KL budget on validation prompts (Config.ValKLBudget): at a KL near 6
// nats a step moves it about 0.1 nats.
const budgetStep = 0.01

// klCheck measures a policy's KL from the reference on continuations of a fixed list of
// prompts, each time drawing them from the same stream (seed, stream), so that two checks
// differ by the policy, not by the draw. what names the continuations in progress lines.
type klCheck struct {
	ref          *lm.Model
	prompts      [][]int
	L            int
	seed, stream uint64
	what         string
}

// newValCheck returns a check on n prompts drawn (with replacement) from the validation
// prompts val, which are neither trained on nor measured, so that the KL on them stands for
// the KL on the held-out prompts without the held-out prompts choosing anything.
func newValCheck(ref *lm.Model, val [][]int, n, L int, seed uint64) klCheck {
	rng := rand.New(rand.NewPCG(seed, 0x76616c6b6c))
	c := klCheck{ref: ref, L: L, seed: seed, stream: 0x76616c636f6e74, what: fmt.Sprintf("%d validation continuations", n)}
	for range n {
		c.prompts = append(c.prompts, val[rng.IntN(len(val))])
	}
	return c
}

// measure is m's mean KL from the reference on the check's continuations, in nats, and the
// continuations.
func (c klCheck) measure(m *lm.Model) (float64, [][]int, error) {
	conts, err := sample(m, rand.New(rand.NewPCG(c.seed, c.stream)), c.prompts, c.L)
	if err != nil {
		return 0, nil, err
	}
	kl, err := meanKL(m, c.ref, c.prompts, conts)
	return kl, conts, err
}

// line is how withinBudget walks the line from the reference: in steps of step, with η
// between min and max (min <= 1 <= max).
type line struct{ step, min, max float64 }

// budgetResult is where withinBudget left a policy on the line from the reference.
type budgetResult struct {
	Eta     float64 // θ_ref + η·(θ − θ_ref); 1 is the policy as tuned
	KL      float64 // the check's KL there
	KLTuned float64 // the check's KL at η 1
}

// withinBudget moves policy θ along the line through weight space from the reference,
// θ_ref + η·(θ − θ_ref) on l's grid, to where its KL on check meets budget: if θ is over it,
// back toward the reference to the first η within, at least l.min (WiSE-FT, Wortsman et al.
// 2022; WARP's LITI step, Ramé et al. 2024, §3.3); if θ is within it, on past θ to the last η
// within, at most l.max (ExPO, Zheng et al. 2024, eq. 2 with α = η − 1). Along the line the
// KL grows with η, so each walk stops at the first η on the other side.
func withinBudget(ref, policy *lm.Model, check klCheck, budget float64, l line, logf func(string)) (*lm.Model, budgetResult, error) {
	at := func(eta float64) (*lm.Model, float64, error) {
		p := policy
		if eta != 1 {
			p = interpolate(ref, policy, eta)
		}
		kl, _, err := check.measure(p)
		logf(fmt.Sprintf("kl budget η %.2f: kl on %s %.2f (budget %.2f)", eta, check.what, kl, budget))
		return p, kl, err
	}
	best, kl, err := at(1)
	if err != nil {
		return nil, budgetResult{}, err
	}
	r := budgetResult{Eta: 1, KL: kl, KLTuned: kl}
	dir := -1.0 // over the budget: back toward the reference
	if kl <= budget {
		dir = 1
	}
	for k := 1; ; k++ {
		eta := max(1+dir*l.step*float64(k), l.min)
		if dir > 0 && eta > l.max+1e-9 || dir < 0 && eta >= 1 {
			return best, r, nil
		}
		p, kl, err := at(eta)
		if err != nil {
			return nil, budgetResult{}, err
		}
		switch {
		case dir > 0 && kl > budget: // past the budget: the last η within stands
			return best, r, nil
		case dir > 0:
			best, r.Eta, r.KL = p, eta, kl
		case kl <= budget || eta == l.min: // back within the budget, or as far back as allowed
			r.Eta, r.KL = eta, kl
			return p, r, nil
		}
	}
}

// valSplit returns the validation prompts of a run whose prompts w split into train and eval
// (splitPrompts), and train without them. Without trainPrompts (Config.TrainPrompts) they are
// the world's training prompts (text.World.TrainPrompts, from the corpus's training
// sentences), which the run does not train on; with it, every tenth of those, which the run
// then does not train on either. None is a measured prompt.
func valSplit(w *text.World, train, eval [][]int, trainPrompts bool) (rest, val [][]int) {
	for i, p := range w.TrainPrompts {
		if (!trainPrompts || i%10 == 0) && !slices.ContainsFunc(eval, func(e []int) bool { return slices.Equal(e, p) }) {
			val = append(val, p)
		}
	}
	if !trainPrompts {
		return train, val
	}
	for _, p := range train {
		if !slices.ContainsFunc(val, func(v []int) bool { return slices.Equal(v, p) }) {
			rest = append(rest, p)
		}
	}
	return rest, val
}
