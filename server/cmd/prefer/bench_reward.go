package main

import (
	"fmt"
	"io"

	"github.com/prefer-rlhf/prefer/core/reward"
)

func init() {
	registerBench("reward_t1", func(stderr io.Writer) (any, error) {
		const seeds = 5
		var secs, accs []float64
		for s := uint64(1); s <= seeds; s++ {
			sec, acc := reward.T1(s)
			fmt.Fprintf(stderr, "bench reward_t1: seed %d: %.3fs, held-out accuracy %.3f\n", s, sec, acc)
			secs, accs = append(secs, sec), append(accs, acc)
		}
		return map[string]any{
			"task":                     "T1: ensemble of 3, 4-64-64-1 tanh, 500 comparisons of 25-step segments, batch 64, Adam 1e-3, 10 epochs",
			"seeds":                    seeds,
			"fit_seconds_median":       median(secs),
			"fit_seconds":              secs,
			"heldout_accuracy_median":  median(accs),
			"goal_fit_seconds_at_most": 1.3,
		}, nil
	})
}
