package loop

import (
	"slices"
	"testing"

	"github.com/prefer-rlhf/prefer/core/ppo"
)

// actionReward pays 1 for each step whose action is a and 0 otherwise.
func actionReward(a float64) ppo.Reward {
	return ppo.RewardFunc(func(_, act, _ []float64, n int, out []float64) {
		for i := range n {
			out[i] = 0
			if act[i] == a {
				out[i] = 1
			}
		}
	})
}

// TestTrainFresh: a fresh policy trained on the reward replaces the current one only when the
// reward ranks it higher. Under imitate(current) nothing beats the current policy, so it stays;
// a policy trained to push left, judged by a reward for pushing right, loses to a fresh one
// trained on that reward.
func TestTrainFresh(t *testing.T) {
	l, err := NewLearner(shortRun(7), false)
	if err != nil {
		t.Fatal(err)
	}
	set := func(r ppo.Reward) {
		l.current = r
		l.ppo.SetReward(r)
	}
	set(actionReward(0))
	if err := l.Train(4096, 0, nil); err != nil {
		t.Fatal(err)
	}
	set(imitate(l.Policy().Clone()))
	tr, params := l.Trainer(), slices.Clone(l.Policy().Params())
	f, err := l.TrainFresh(2048, 7)
	if err != nil {
		t.Fatal(err)
	}
	if f.Kept || l.Trainer() != tr || !slices.Equal(l.Policy().Params(), params) || f.Continued != 500 {
		t.Fatalf("under imitate(current) the fresh policy replaced it or the current one scored below 500: %+v", f)
	}
	if f.Steps < 2048 {
		t.Errorf("fresh policy trained %d env steps, want >= 2048", f.Steps)
	}

	set(actionReward(1))
	f, err = l.TrainFresh(4096, 7)
	if err != nil {
		t.Fatal(err)
	}
	if !f.Kept || l.Trainer() == tr || !(f.Fresh > f.Continued) {
		t.Fatalf("a fresh policy trained to push right did not replace one trained to push left: %+v", f)
	}
	if got := l.Trainer().EnvSteps(); got != f.Steps {
		t.Errorf("the kept trainer has %d env steps, want the fresh run's %d", got, f.Steps)
	}
	g, err := func() (Fresh, error) {
		m, err := NewLearner(shortRun(7), false)
		if err != nil {
			return Fresh{}, err
		}
		m.current = actionReward(1)
		m.ppo.SetReward(m.current)
		return m.TrainFresh(4096, 7)
	}()
	if err != nil {
		t.Fatal(err)
	}
	if g.Fresh != f.Fresh {
		t.Errorf("the fresh policy is not fixed by its seed: learned return %v, then %v", f.Fresh, g.Fresh)
	}
}

// TestRunFinalFresh: with FinalFresh the run reports the choice, counts both policies' env
// steps and ends with the policy it chose; without it there is no report.
func TestRunFinalFresh(t *testing.T) {
	c := quick(2048, 2)
	plain, err := Run(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	if plain.Fresh != nil {
		t.Fatalf("FinalFresh 0 reported a fresh policy: %+v", plain.Fresh)
	}
	c.FinalFresh = 1024
	rep, err := Run(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	f := rep.Fresh
	if f == nil || f.Steps < 1024 {
		t.Fatalf("fresh report %+v, want one with >= 1024 env steps", f)
	}
	if rep.EnvSteps != plain.EnvSteps+f.Steps {
		t.Errorf("%d env steps, want the loop's %d + the fresh policy's %d", rep.EnvSteps, plain.EnvSteps, f.Steps)
	}
	if f.Kept != (f.Fresh > f.Continued) {
		t.Errorf("kept %v with learned returns %v (fresh) and %v (loop's)", f.Kept, f.Fresh, f.Continued)
	}
	if !f.Kept && rep.EvalReturn != plain.EvalReturn {
		t.Errorf("the loop's policy was kept but the eval return moved: %v, was %v", rep.EvalReturn, plain.EvalReturn)
	}
}

func TestDefaultFinalFresh(t *testing.T) {
	for _, tc := range []struct {
		env         string
		steps, want int
	}{
		{"CartPole-v1", 150000, 150000},
		{"CartPole-v1", 2048, 2048},
		{"Pendulum-v1", 120000, 0},
		{"CartPoleLeft-v0", 150000, 0},
		{"checker/CartPoleLeft-v0", 150000, 0},
	} {
		if got := DefaultFinalFresh(tc.env, tc.steps); got != tc.want {
			t.Errorf("DefaultFinalFresh(%q, %d) = %d, want %d", tc.env, tc.steps, got, tc.want)
		}
	}
	if Defaults("CartPole-v1").FinalFresh != 0 {
		t.Error("Defaults turned the fresh policy on: the hub and the classroom would get it")
	}
}
