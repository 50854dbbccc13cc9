package overopt

import (
	"math"
	"testing"

	"github.com/prefer-rlhf/prefer/core/ppo"
	"github.com/prefer-rlhf/prefer/core/sweep"
)

func TestSummarizeFindsPeakAndDrop(t *testing.T) {
	g := sweep.Gao{Alpha: 2, Beta: 1} // peak at d* = e, gain 1·e
	rep := &Report{Points: []Point{{TrueReturn: 10}}}
	for _, d := range []float64{0.5, 1, 2, 3, 4, 6, 8} {
		rep.Points = append(rep.Points, Point{D: d, KL: d * d, TrueReturn: 10 + g.At(d)})
	}
	rep.summarize()
	if !rep.FitOK || math.Abs(rep.PeakD-math.E) > 1e-6 || math.Abs(rep.PeakTrue-(10+math.E)) > 1e-6 {
		t.Errorf("peak (%v, %v), want (e, 10+e)", rep.PeakD, rep.PeakTrue)
	}
	if want := 10 + math.E - (10 + g.At(8)); math.Abs(rep.Drop-want) > 1e-6 {
		t.Errorf("drop %v, want %v", rep.Drop, want)
	}
	// Stopped before the peak: no drop.
	rep.Points = rep.Points[:4]
	rep.summarize()
	if rep.Drop != 0 {
		t.Errorf("drop before the peak %v", rep.Drop)
	}
}

// TestRunOnAHackableReward trains CartPole on a reward for pushing right, which has nothing to
// do with balancing: the policy moves away from its start (KL grows from 0) and earns the
// learned return.
func TestRunOnAHackableReward(t *testing.T) {
	pc := ppo.DefaultConfig("CartPole-v1")
	pc.Env, pc.FixedHorizon = "CartPole-v1", 200
	tr, err := ppo.New(pc, 1)
	if err != nil {
		t.Fatal(err)
	}
	right := ppo.RewardFunc(func(obs, act, next []float64, n int, out []float64) {
		for i := 0; i < n; i++ {
			out[i] = act[i] // 1 for pushing right
		}
	})
	var seen int
	rep, err := Run(tr, right, Config{Steps: 16384, Points: 4, EvalEpisodes: 3, Seed: 1}, func(Point) { seen++ })
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Points) != 5 || seen != 5 {
		t.Fatalf("%d points, %d progress calls, want 5", len(rep.Points), seen)
	}
	first, last := rep.Points[1], rep.Points[len(rep.Points)-1]
	if rep.Points[0].KL != 0 || !(last.KL > first.KL) || math.Abs(last.D-math.Sqrt(last.KL)) > 1e-12 {
		t.Errorf("KL %v then %v then %v (d %v)", rep.Points[0].KL, first.KL, last.KL, last.D)
	}
	// Pushing right at every one of the 200 steps earns 200.
	if !(last.LearnedReturn > 0.9*200) {
		t.Errorf("learned return %v at the end: PPO did not optimise it", last.LearnedReturn)
	}
	if _, err := Run(tr, right, Config{Steps: 0, Points: 4, EvalEpisodes: 1}, nil); err == nil {
		t.Error("zero steps accepted")
	}
}
