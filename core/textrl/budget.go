package textrl

import (
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/prefer-rlhf/prefer/core/lm"
)

// budgetStep is the step of η by which PPO's result walks back toward the reference to meet
// its KL budget (Config.PPOKLBudget): at a KL near 6 nats a step moves it about 0.1 nats.
const budgetStep = 0.01

// klCheck measures a policy's KL from the reference on a fixed set of continuations' prompts,
// each time drawing the continuations from the same stream, so that two checks differ by the
// policy, not by the draw.
type klCheck struct {
	ref     *lm.Model
	prompts [][]int
	L       int
	seed    uint64
}

// newValCheck returns a check on n prompts drawn (with replacement) from the world's
// validation prompts val: prompts that are neither trained on nor measured, so that the KL
// on them stands for the KL on the held-out prompts without the held-out prompts choosing
// anything.
func newValCheck(ref *lm.Model, val [][]int, n, L int, seed uint64) klCheck {
	rng := rand.New(rand.NewPCG(seed, 0x76616c6b6c))
	c := klCheck{ref: ref, L: L, seed: seed}
	for range n {
		c.prompts = append(c.prompts, val[rng.IntN(len(val))])
	}
	return c
}

// kl is m's mean KL from the reference on the check's continuations, in nats.
func (c klCheck) kl(m *lm.Model) (float64, error) {
	conts, err := sample(m, rand.New(rand.NewPCG(c.seed, 0x76616c636f6e74)), c.prompts, c.L)
	if err != nil {
		return 0, err
	}
	return meanKL(m, c.ref, c.prompts, conts)
}

// withinBudget returns θ_ref + η·(θ − θ_ref) for the largest η on the grid 1, 1 − budgetStep,
// ..., 0 whose KL on check is within budget, with η, the KL there and the KL at η 1: the
// policy θ pulled back along the line through weight space from the reference, which WiSE-FT
// (Wortsman et al. 2022) and WARP's LITI step (Ramé et al. 2024, §3.3) use to trade reward for
// KL after training. The KL falls toward 0 along the line, so the walk stops at the first η
// within. policy is returned as it is (η 1) when it is within the budget already.
func withinBudget(ref, policy *lm.Model, check klCheck, budget float64, logf func(string)) (p *lm.Model, eta, kl, kl1 float64, err error) {
	for k := 0; ; k++ {
		eta = max(1-budgetStep*float64(k), 0)
		p = policy
		if k > 0 {
			p = interpolate(ref, policy, eta)
		}
		if kl, err = check.kl(p); err != nil {
			return nil, 0, 0, 0, err
		}
		if k == 0 {
			kl1 = kl
		}
		logf(fmt.Sprintf("ppo kl budget η %.2f: kl on %d validation continuations %.2f (budget %.2f)", eta, len(check.prompts), kl, budget))
		if kl <= budget || eta == 0 {
			return p, eta, kl, kl1, nil
		}
	}
}

// valPrompts are the world's prompts that a run neither trains on nor measures: its training
// prompts (text.World.TrainPrompts, from the corpus's training sentences) other than the
// measured ones eval. Run trains on them only with Config.TrainPrompts, which PPO's KL budget
// therefore rules out (Config.Validate).
func valPrompts(trainPrompts, eval [][]int) [][]int {
	var val [][]int
	for _, p := range trainPrompts {
		if !slices.ContainsFunc(eval, func(e []int) bool { return slices.Equal(e, p) }) {
			val = append(val, p)
		}
	}
	return val
}
