package ppo

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"

	"github.com/prefer-rlhf/prefer/core/env"
	"github.com/prefer-rlhf/prefer/core/nn"
)

// Evaluate returns the mean true return of p over fresh episodes of the standard Gymnasium
// task (its own termination, TimeLimit and reward, never the fixed-horizon mode), acting
// deterministically (the most likely action, the Gaussian's mean). Episode i starts from a
// reset drawn from its own stream of seed. It returns NaN if the env is unknown or does not match p;
// EvaluateReturns reports why.
func Evaluate(p *Policy, envName string, episodes int, seed uint64) float64 {
	rets, err := EvaluateReturns(p, envName, episodes, seed)
	if err != nil || len(rets) == 0 {
		return math.NaN()
	}
	s := 0.0
	for _, r := range rets {
		s += r
	}
	return s / float64(len(rets))
}

// EvalRand returns the random stream that episode i of Evaluate with seed resets from, so that
// other measures of a policy can start from the same states.
func EvalRand(seed uint64, i int) *rand.Rand {
	return rand.New(rand.NewPCG(seed, streamEval+uint64(i)))
}

// EvaluateReturns is Evaluate's per-episode returns. Episodes run as one batch (every step
// feeds all unfinished episodes through the network together), in parallel shards.
func EvaluateReturns(p *Policy, envName string, episodes int, seed uint64) ([]float64, error) {
	if episodes <= 0 {
		return nil, fmt.Errorf("ppo: Evaluate needs a positive number of episodes, got %d", episodes)
	}
	probe, err := p.Fits(envName)
	if err != nil {
		return nil, err
	}
	sp := probe.Spec()
	rets := make([]float64, episodes)
	w := min(runtime.GOMAXPROCS(0), episodes)
	errs := make([]error, w)
	var wg sync.WaitGroup
	for k := 0; k < w; k++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[k] = evalShard(p, envName, sp, k*episodes/w, (k+1)*episodes/w, seed, rets)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return rets, nil
}

// evalShard runs episodes [lo, hi) to the end and writes their returns to rets.
func evalShard(p *Policy, name string, sp env.Spec, lo, hi int, seed uint64, rets []float64) error {
	n, od, ad, k := hi-lo, p.ObsDim, sp.Action.Dim(), p.outDim()
	envs := make([]env.Env, n)
	active := make([]int, 0, n) // indices into envs of unfinished episodes
	obs := make([]float64, n*od)
	steps := make([]int, n)
	for j := range envs {
		e, err := env.Lookup(name)
		if err != nil {
			return fmt.Errorf("ppo: %w", err)
		}
		envs[j] = e
		copy(obs[j*od:(j+1)*od], e.Reset(EvalRand(seed, lo+j)))
		active = append(active, j)
	}
	var tape nn.Tape
	x := make([]float64, n*od)
	raw, act := make([]float64, ad), make([]float64, ad)
	for len(active) > 0 {
		m := len(active)
		for r, j := range active {
			copy(x[r*od:(r+1)*od], obs[j*od:(j+1)*od])
		}
		p.normalize(x, x, m)
		out := p.Actor.Forward(&tape, x[:m*od], m)
		next := active[:0]
		for r, j := range active {
			p.sample(out[r*k:(r+1)*k], p.LogStd, nil, true, raw, act)
			o, rew, term := envs[j].Step(act)
			rets[lo+j] += rew
			steps[j]++
			if term || (sp.MaxEpisodeSteps > 0 && steps[j] >= sp.MaxEpisodeSteps) {
				continue
			}
			copy(obs[j*od:(j+1)*od], o)
			next = append(next, j)
		}
		active = next
	}
	return nil
}
