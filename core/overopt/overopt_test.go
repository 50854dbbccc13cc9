package overopt

import (
	"math"
	"testing"

	"github.com/prefer-rlhf/prefer/core/env"
	"github.com/prefer-rlhf/prefer/core/ppo"
	"github.com/prefer-rlhf/prefer/core/reward"
)

// cartPoleTrainer is a CartPole trainer in fixed-horizon mode, as the loop trains.
func cartPoleTrainer(t *testing.T) *ppo.Trainer {
	t.Helper()
	pc := ppo.DefaultConfig("CartPole-v1")
	pc.Env, pc.FixedHorizon = "CartPole-v1", 200
	tr, err := ppo.New(pc, 1)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// pushRight is a deliberately flawed reward: 1 for pushing right, whatever becomes of the pole.
var pushRight = ppo.RewardFunc(func(obs, act, next []float64, n int, out []float64) {
	for i := 0; i < n; i++ {
		out[i] = act[i]
	}
})

// TestMeanOverOptimisesAFlawedReward optimises a flawed reward that pays for pushing right,
// from a fresh policy that happens to keep the pole up for a while (its deterministic
// return is well above a random policy's ~20): the learned return rises while the true return
// falls from its peak, the policy moves away from the start (KL grows from 0), and Summarize
// measures the drop.
func TestMeanOverOptimisesAFlawedReward(t *testing.T) {
	tr := cartPoleTrainer(t)
	var seen int
	cfg := Config{Steps: 16384, Points: 4, EvalEpisodes: 5, KLEpisodes: 4, Seed: 1}
	pts, err := Run(tr, pushRight, nil, cfg, func(Point) { seen++ })
	if err != nil {
		t.Fatal(err)
	}
	if len(pts) != 5 || seen != 5 {
		t.Fatalf("%d points, %d progress calls, want 5", len(pts), seen)
	}
	first, last := pts[0], pts[len(pts)-1]
	if first.KL != 0 || !(last.KL > pts[1].KL) || math.Abs(last.D-math.Sqrt(last.KL)) > 1e-12 {
		t.Errorf("KL %v then %v then %v (d %v)", first.KL, pts[1].KL, last.KL, last.D)
	}
	for _, p := range pts {
		if p.LearnedReturn != p.ProxyReturn {
			t.Errorf("proxy %v differs from the learned return %v with no proxy given", p.ProxyReturn, p.LearnedReturn)
		}
	}
	// Pushing right at every one of the 200 steps earns 200.
	if !(last.LearnedReturn > 0.9*200 && last.LearnedReturn > first.LearnedReturn) {
		t.Errorf("learned return %v then %v: PPO did not optimise it", first.LearnedReturn, last.LearnedReturn)
	}
	s, err := Summarize([][]Point{pts})
	if err != nil {
		t.Fatal(err)
	}
	if !(first.TrueReturn > 100) || !(s.Drop > 0.5*s.PeakTrue) || s.PeakIndex == len(pts)-1-Window/2 {
		t.Errorf("true return %v → %v: peak %v at %d, drop %v; want the balancing policy's return to fall",
			first.TrueReturn, last.TrueReturn, s.PeakTrue, s.PeakIndex, s.Drop)
	}
	if _, err := Run(tr, pushRight, nil, Config{Steps: 0, Points: 4, EvalEpisodes: 1, KLEpisodes: 1}, nil); err == nil {
		t.Error("zero steps accepted")
	}
}

// TestConservativeLearnedReturnBelowMean optimises an ensemble's worst case and its
// uncertainty-weighted mean: on the same episodes, what PPO optimises is never more than the
// ensemble's mean, and is less where the members disagree.
func TestConservativeLearnedReturnBelowMean(t *testing.T) {
	e, err := env.Lookup("CartPole-v1")
	if err != nil {
		t.Fatal(err)
	}
	sp := e.Spec()
	rc := reward.Defaults()
	m, err := reward.New(rc, reward.Shape{ObsDim: sp.ObsDim, ActDim: sp.Action.Dim(), ActN: sp.Action.N})
	if err != nil {
		t.Fatal(err)
	}
	for _, obj := range []reward.Objective{reward.ObjectiveMin, reward.ObjectiveUWO} {
		r, err := m.WithObjective(obj, 1)
		if err != nil {
			t.Fatal(err)
		}
		pts, err := Run(cartPoleTrainer(t), r, m, Config{Steps: 2048, Points: 2, EvalEpisodes: 2, KLEpisodes: 2, Seed: 3}, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range pts {
			if !(p.LearnedReturn < p.ProxyReturn) {
				t.Errorf("%s: learned return %v, ensemble mean's %v: want it below", obj, p.LearnedReturn, p.ProxyReturn)
			}
		}
	}
}
