package main

import (
	"fmt"
	"io"
	"math"
	"sort"
)

func init() {
	registerBench("ppo", func(stderr io.Writer) (any, error) {
		return benchPPOTo(5, stderr)
	})
}

// benchPPOSpeedSteps is how long each CleanRL-config run of the speed benchmark trains.
const benchPPOSpeedSteps = 100000

// benchPPO runs PPO on CartPole-v1 for seeds 1..seeds, with CleanRL's configuration (speed:
// env steps per second including updates, over benchPPOSpeedSteps steps) and with Prefer's
// defaults (the default budget, then eval_return over 100 fresh episodes), and returns the
// medians and the per-seed figures.
func benchPPO(seeds int) (map[string]any, error) { return benchPPOTo(seeds, nil) }

func benchPPOTo(seeds int, log io.Writer) (map[string]any, error) {
	if seeds <= 0 {
		return nil, fmt.Errorf("bench ppo: need at least one seed, got %d", seeds)
	}
	const envName = "CartPole-v1"
	var sps, solvedSec, solvedSteps, evalRet []float64
	solved := 0
	for s := 1; s <= seeds; s++ {
		res, _, err := trainPolicy(trainOptions{env: envName, config: "cleanrl", steps: benchPPOSpeedSteps, seed: uint64(s)})
		if err != nil {
			return nil, err
		}
		sps = append(sps, res.StepsPerSecond)
		if log != nil {
			fmt.Fprintf(log, "bench ppo: cleanrl seed %d: %.0f steps/s\n", s, res.StepsPerSecond)
		}
	}
	for s := 1; s <= seeds; s++ {
		res, _, err := trainPolicy(trainOptions{env: envName, config: "default", seed: uint64(s), evalEpisodes: 100})
		if err != nil {
			return nil, err
		}
		sec, steps := math.Inf(1), math.Inf(1)
		if res.SolvedAtSteps != nil {
			solved++
			sec, steps = *res.SolvedAtSeconds, float64(*res.SolvedAtSteps)
		}
		solvedSec, solvedSteps, evalRet = append(solvedSec, sec), append(solvedSteps, steps), append(evalRet, *res.EvalReturn)
		if log != nil {
			fmt.Fprintf(log, "bench ppo: default seed %d: %s, %s\n", s, solvedText(res), evalText(res))
		}
	}
	return map[string]any{
		"env":                                envName,
		"seeds":                              seeds,
		"cleanrl_env_steps":                  benchPPOSpeedSteps,
		"cleanrl_steps_per_second":           median(sps),
		"cleanrl_steps_per_second_per_seed":  sps,
		"default_solved_seeds":               solved,
		"default_solved_at_seconds":          median(solvedSec),
		"default_solved_at_steps":            median(solvedSteps),
		"default_eval_return":                median(evalRet),
		"default_solved_at_seconds_per_seed": nullInf(solvedSec),
		"default_solved_at_steps_per_seed":   nullInf(solvedSteps),
		"default_eval_return_per_seed":       evalRet,
	}, nil
}

// median returns the median of xs (the mean of the middle two for an even count), or nil if
// it is infinite (a seed that never solved counts as +Inf).
func median(xs []float64) any {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	n := len(s)
	m := s[n/2]
	if n%2 == 0 {
		m = (s[n/2-1] + s[n/2]) / 2
	}
	if math.IsInf(m, 0) || math.IsNaN(m) {
		return nil
	}
	return m
}

// nullInf maps +Inf (never solved) to nil, which JSON writes as null.
func nullInf(xs []float64) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		if !math.IsInf(x, 0) {
			out[i] = x
		}
	}
	return out
}
