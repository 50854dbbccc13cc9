package redteam

import (
	"math"
	"testing"

	"github.com/prefer-rlhf/prefer/core/env"
)

// scorer returns a hand-built scorer of CartPole-v1 clips: r̂ is rhat of the clip's states,
// the truth is env.ScoreClip.
func scorer(t *testing.T, rhat func(states [][]float64, truth float64) float64) Scorer {
	return func(start []float64, actions [][]float64) (float64, float64, error) {
		states, _, _, err := env.Replay("CartPole-v1", start, actions)
		if err != nil {
			return 0, 0, err
		}
		truth, err := env.ScoreClip("CartPole-v1", start, actions)
		return rhat(states, truth), truth, err
	}
}

func TestFindsAFlawedModelsFailures(t *testing.T) {
	// A model that likes a leaning pole, which the true reward punishes once it falls.
	flawed := scorer(t, func(states [][]float64, _ float64) float64 {
		s := 0.0
		for _, st := range states {
			s += math.Abs(st[2])
		}
		return s
	})
	cfg := DefaultConfig()
	cfg.Budget = 20000
	res, err := Search(Problem{Env: "CartPole-v1", Score: flawed}, cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Pairs) == 0 || res.Effort <= 0 || res.Effort > cfg.Budget {
		t.Fatalf("no failure found: %+v", res)
	}
	t.Logf("%d failures, effort %d env steps", len(res.Pairs), res.Effort)
	for _, p := range res.Pairs {
		f := p.Failing
		if !(f.RHat > res.RHatBar && f.Truth < res.Threshold) || p.Ordinary.RHat >= f.RHat || p.Ordinary.Truth <= f.Truth {
			t.Fatalf("pair is no failure: %+v (bar %g, threshold %g)", p, res.RHatBar, res.Threshold)
		}
		// The clip is replayable: its scores come back from its start state and actions.
		r, tr, err := flawed(f.Clip.StartState, f.Clip.Actions)
		if err != nil || r != f.RHat || tr != f.Truth || len(f.Clip.Actions) != cfg.Steps {
			t.Fatalf("replay gives %g %g %v, want %g %g", r, tr, err, f.RHat, f.Truth)
		}
	}
	again, _ := Search(Problem{Env: "CartPole-v1", Score: flawed}, cfg, 1)
	if again.Effort != res.Effort || len(again.Pairs) != len(res.Pairs) {
		t.Fatalf("not deterministic: effort %d then %d", res.Effort, again.Effort)
	}
}

func TestFindsNoFailureOfTheTrueReward(t *testing.T) {
	exact := scorer(t, func(_ [][]float64, truth float64) float64 { return truth })
	cfg := DefaultConfig()
	cfg.Budget = 20000
	res, err := Search(Problem{Env: "CartPole-v1", Score: exact}, cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Pairs) != 0 || res.Effort != -1 || res.Steps < cfg.Budget-cfg.Steps {
		t.Fatalf("found %d failures of the true reward in %d steps (effort %d)", len(res.Pairs), res.Steps, res.Effort)
	}
}

func TestThresholds(t *testing.T) {
	for _, name := range []string{"CartPole-v1", "Pendulum-v1", "Acrobot-v1", "MountainCarContinuous-v0",
		"PendulumSpin-v0", "CartPoleLeft-v0", "MountainCarRock-v0"} {
		if _, err := Threshold(name, 50); err != nil {
			t.Error(err)
		}
	}
	if _, err := Threshold("Nope-v0", 50); err == nil {
		t.Error("unknown env has a threshold")
	}
}

// On a box action space (Pendulum-v1), a model that prefers what the true reward punishes
// (r̂ = −true) is exposed, and every action of a failing clip stays in the box.
func TestBoxActions(t *testing.T) {
	inverted := func(start []float64, actions [][]float64) (float64, float64, error) {
		truth, err := env.ScoreClip("Pendulum-v1", start, actions)
		return -truth, truth, err
	}
	cfg := DefaultConfig()
	cfg.Budget = 5000
	res, err := Search(Problem{Env: "Pendulum-v1", Score: inverted}, cfg, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Pairs) == 0 {
		t.Fatalf("no failure of an inverted model: %+v", res)
	}
	for _, p := range res.Pairs {
		for _, a := range p.Failing.Clip.Actions {
			if len(a) != 1 || a[0] < -2 || a[0] > 2 {
				t.Fatalf("action %v outside Pendulum's box", a)
			}
		}
	}
}
