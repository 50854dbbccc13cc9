package ppo

import (
	"fmt"
	"runtime"
	"sync"

	"github.com/prefer-rlhf/prefer/core/env"
)

// LearnedReturnMeaning defines the learned return, for help texts and API docs.
const LearnedReturnMeaning = "learned_return is the mean over the evaluation episodes of the learned reward summed over " +
	"one fixed-horizon episode (the env's TimeLimit steps, no early termination), acting deterministically " +
	"from the same starts as eval_return's episodes"

// LearnedReturns is the learned return, the one meaning `prefer train`, `prefer eval` and the
// hub's trainer give it: p's return under r in each of episodes fixed-horizon episodes of
// envName, the sum of r over Spec().MaxEpisodeSteps transitions with no early termination
// (Christiano et al. 2017, App. A.1: the mode the learned reward is trained and used in),
// acting deterministically as Evaluate does. Episode i starts from the reset that Evaluate's
// episode i starts from with the same seed, so the two measure the same episodes up to the
// first termination. Episodes run in parallel shards; r must be safe for concurrent use (a
// reward.Model is).
func LearnedReturns(p *Policy, r Reward, envName string, episodes int, seed uint64) ([]float64, error) {
	if episodes <= 0 {
		return nil, fmt.Errorf("ppo: learned return needs a positive number of episodes, got %d", episodes)
	}
	probe, err := p.Fits(envName)
	if err != nil {
		return nil, err
	}
	if _, err := env.FixedHorizon(probe, 0); err != nil {
		return nil, fmt.Errorf("ppo: %w", err)
	}
	rets := make([]float64, episodes)
	w := min(runtime.GOMAXPROCS(0), episodes)
	var wg sync.WaitGroup
	for k := 0; k < w; k++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := k * episodes / w; i < (k+1)*episodes/w; i++ {
				rets[i] = learnedReturn(p, r, envName, seed, i)
			}
		}()
	}
	wg.Wait()
	return rets, nil
}

// learnedReturn runs episode i of LearnedReturns. envName has been checked.
func learnedReturn(p *Policy, r Reward, envName string, seed uint64, i int) float64 {
	e, _ := env.Lookup(envName)
	fh, _ := env.FixedHorizon(e, 0)
	H, od, ad := fh.Spec().MaxEpisodeSteps, p.ObsDim, p.Action.Dim()
	obs := make([]float64, 0, H*od)
	act := make([]float64, 0, H*ad)
	next := make([]float64, 0, H*od)
	o := fh.Reset(EvalRand(seed, i)) // the start of Evaluate's episode i
	for t := 0; t < H; t++ {
		a := p.Act(o, nil, true)
		obs = append(obs, o...)
		act = append(act, a...)
		o, _, _ = fh.Step(a)
		next = append(next, o...)
	}
	out := make([]float64, H)
	r.Rewards(obs, act, next, H, out)
	s := 0.0
	for _, v := range out {
		s += v
	}
	return s
}
