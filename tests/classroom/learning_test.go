// Package classroom_test checks that the classroom behaviours, which have no built-in reward,
// are learned from preferences alone: demo raters (noiseless synthetic raters answering from
// the scripted checker) label at most 600 pairs, and the checker's score of the trained
// policy must rise clearly above a random policy's.
package classroom_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/prefer-rlhf/prefer/core/env"
	"github.com/prefer-rlhf/prefer/core/loop"
)

// behaviourConfig returns the loop's settings for behaviour b: the base task's tuned defaults
// (PPO, clip length), on the checker env, so that the loop's synthetic rater answers from the
// checker's return and its evaluation measures the checker's score. The reward model never
// sees the checker: it learns from the rater's choices alone.
func behaviourConfig(b env.Behaviour, seed uint64) loop.Config {
	c := loop.Defaults(b.Base)
	c.Env = env.CheckerPrefix + b.Name
	c.PPO.Env = c.Env
	c.Seed = seed
	c.Labels = 600
	c.CurveEpisodes = 5
	c.EvalEpisodes = 20
	switch b.Name {
	case "PendulumSpin-v0":
		c.Steps, c.Labels = 100000, 300
	case "CartPoleLeft-v0":
		c.Steps = 200000
	case "MountainCarRock-v0":
		c.Steps, c.Rounds = 150000, 15
	}
	return c
}

// margin is how far above the random policy's checker score the trained policy must be, as a
// fraction of the span from random to the best score the test knows of.
var best = map[string]float64{
	"PendulumSpin-v0":    8 * 0.05 * 200 / (2 * 3.14159), // top speed all episode: 12.7 turns
	"CartPoleLeft-v0":    500,                            // upright on the left every step
	"MountainCarRock-v0": 500,                            // top speed every step (unreachable)
}

func TestBehavioursAreLearned(t *testing.T) {
	if testing.Short() {
		t.Skip("learning check: minutes of PPO")
	}
	// PREFER_BEHAVIOUR=NAME runs one behaviour; by default every one runs (about 2.5 minutes
	// on 2 cores). The figures are in README and docs/experiments.md.
	only := os.Getenv("PREFER_BEHAVIOUR")
	for _, b := range env.Behaviours() {
		if only != "" && only != "all" && only != b.Name {
			continue
		}
		t.Run(b.Name, func(t *testing.T) {
			cfg := behaviourConfig(b, 1)
			rep, err := loop.Run(cfg, func(p loop.Point) {
				t.Logf("round %2d steps %6d labels %3d checker %8.2f val acc %.2f (%.0fs)",
					p.Round, p.EnvSteps, p.Labels, p.TrueReturn, p.ValAccuracy, p.Seconds)
			})
			if err != nil {
				t.Fatal(err)
			}
			gain := (rep.EvalReturn - rep.RandomReturn) / (best[b.Name] - rep.RandomReturn)
			t.Logf("%s: checker score %.2f, random policy %.2f, gain %.0f%% of the way to %.1f; %d labels, %d env steps, val acc %.2f, %.0fs",
				b.Name, rep.EvalReturn, rep.RandomReturn, 100*gain, best[b.Name], rep.LabelsUsed, rep.EnvSteps,
				rep.RewardModelValAccuracy, rep.WallSeconds)
			if rep.LabelsUsed > 600 {
				t.Fatalf("%d labels, the budget is 600", rep.LabelsUsed)
			}
			if !(gain > 0.25) {
				t.Fatal(fmt.Sprintf("not learned: the checker's score rose %.0f%% of the way from random to best (want > 25%%)", 100*gain))
			}
		})
	}
}
