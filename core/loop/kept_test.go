package loop

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/prefer-rlhf/prefer/core/ppo"
)

// imitate is a reward of 1 for each step where the action is the one p takes there, acting
// deterministically, and 0 elsewhere: p itself earns the most there is.
func imitate(p *ppo.Policy) ppo.Reward {
	od := p.ObsDim
	return ppo.RewardFunc(func(obs, act, next []float64, n int, out []float64) {
		for i := range n {
			out[i] = 0
			if p.Act(obs[i*od:(i+1)*od], nil, true)[0] == act[i] {
				out[i] = 1
			}
		}
	})
}

// TestTrainKept: TrainKept keeps an update that does not lower the return PPO optimises, and
// puts back the policy, its optimiser and the old policies when one does, with the env steps
// counted.
func TestTrainKept(t *testing.T) {
	cfg := shortRun(5)
	cfg.OldPolicies = 2
	l, err := NewLearner(cfg, true)
	if err != nil {
		t.Fatal(err)
	}
	set := func(r ppo.Reward) {
		l.current = r
		l.ppo.SetReward(r)
	}
	// Under a reward of 0 everywhere every policy's return is the same: the update is kept.
	set(ppo.RewardFunc(func(_, _, _ []float64, n int, out []float64) { clear(out[:n]) }))
	k, err := l.TrainKept(1024, 1, 4, 9, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !k.Kept || k.After < k.Before-k.SE {
		t.Fatalf("an update that kept the return was not kept: %+v", k)
	}
	if slices.Equal(l.Policy().Params(), l.Initial().Params()) || len(l.Old) != 1 {
		t.Fatalf("a kept update changed nothing (old policies %d)", len(l.Old))
	}

	// The policy earns the most under imitate(itself); an update that scrambles it lowers
	// its return: it is not kept.
	set(imitate(l.Policy().Clone()))
	params := slices.Clone(l.Policy().Params())
	state := l.Trainer().State()
	rng := rand.New(rand.NewPCG(1, 2))
	scramble := func(ppo.Stats) {
		for i, p := range l.Policy().Params() {
			l.Policy().Params()[i] = p + 3*rng.NormFloat64()
		}
	}
	k, err = l.TrainKept(1024, 2, 4, 9, scramble)
	if err != nil {
		t.Fatal(err)
	}
	if k.Kept || !(k.After < k.Before) {
		t.Fatalf("a scrambled policy was kept: %+v", k)
	}
	if !slices.Equal(l.Policy().Params(), params) {
		t.Fatal("the policy was not put back")
	}
	now := l.Trainer().State()
	if !slices.Equal(now.AdamM, state.AdamM) || !slices.Equal(now.AdamV, state.AdamV) || now.AdamT != state.AdamT {
		t.Fatal("the optimiser's moments were not put back")
	}
	if now.EnvSteps != state.EnvSteps+1024 {
		t.Fatalf("env steps %d, want %d: the update's steps were spent", now.EnvSteps, state.EnvSteps+1024)
	}
	if len(l.Old) != 1 || l.Old[0].Version != 1 {
		t.Fatalf("old policies %v after an update not kept", l.Old)
	}
}

// TestTrainKeptBringsBack: when an update is not kept and r̂ ranks an old policy above the
// policy before it, the old policy comes back.
func TestTrainKeptBringsBack(t *testing.T) {
	cfg := shortRun(6)
	l, err := NewLearner(cfg, true)
	if err != nil {
		t.Fatal(err)
	}
	// q is another policy; the reward is doing what q does. flipped(q), q with its actor's
	// output layer negated, takes the other action of two everywhere: it earns nothing.
	other, err := NewLearner(shortRun(7), true)
	if err != nil {
		t.Fatal(err)
	}
	q := other.Policy().Clone()
	flip := func(p *ppo.Policy) {
		a := p.Actor
		n := a.Sizes[len(a.Sizes)-2]*a.Sizes[len(a.Sizes)-1] + a.Sizes[len(a.Sizes)-1]
		for i := len(a.Params) - n; i < len(a.Params); i++ {
			a.Params[i] = -a.Params[i]
		}
	}
	r := imitate(q)
	l.current = r
	l.ppo.SetReward(r)
	l.Old = []OldPolicy{{Version: 7, Policy: q}}
	// The update turns the policy into flipped(q), below the policy before (which agrees with
	// q somewhere): not kept, and q, above both, comes back.
	toFlipped := func(ppo.Stats) {
		copy(l.Policy().Params(), q.Params())
		flip(l.Policy())
	}
	k, err := l.TrainKept(512, 3, 4, 9, toFlipped)
	if err != nil {
		t.Fatal(err)
	}
	if k.Kept || k.After != 0 || k.Back != 7 {
		t.Fatalf("%+v: want not kept, after 0, policy 7 back", k)
	}
	if !slices.Equal(l.Policy().Params(), q.Params()) {
		t.Fatal("the old policy's weights did not come back")
	}
}
