package ppo

import (
	"math"
	"testing"

	"github.com/prefer-rlhf/prefer/core/env"
	"github.com/prefer-rlhf/prefer/core/nn"
)

// smallConfig is a cheap configuration for wiring tests.
func smallConfig(name string) Config {
	c := DefaultConfig(name)
	c.NumEnvs, c.NumSteps, c.NumMinibatches, c.UpdateEpochs = 4, 64, 2, 2
	c.Hidden = []int{16, 16}
	return c
}

func mustTrainer(t *testing.T, c Config, seed uint64) *Trainer {
	t.Helper()
	tr, err := New(c, seed)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// TestDeterminism checks that a seed gives bit-identical parameters and rollouts, whatever the
// number of worker goroutines, and that another seed gives something else.
func TestDeterminism(t *testing.T) {
	for _, name := range []string{"CartPole-v1", "Pendulum-v1"} {
		run := func(workers int, seed uint64) *Trainer {
			c := smallConfig(name)
			c.Workers = workers
			c.NumMinibatches = 1 // 256-row minibatches: several gradient shards
			tr := mustTrainer(t, c, seed)
			if err := tr.Train(3*c.BatchSize(), nil); err != nil {
				t.Fatal(err)
			}
			return tr
		}
		a, b, c, d := run(1, 5), run(1, 5), run(3, 5), run(1, 6)
		same := func(x, y *Trainer) bool {
			for i := range x.pol.params {
				if x.pol.params[i] != y.pol.params[i] {
					return false
				}
			}
			for i := range x.roll.Actions {
				if x.roll.Actions[i] != y.roll.Actions[i] {
					return false
				}
			}
			return true
		}
		if !same(a, b) {
			t.Errorf("%s: two runs with seed 5 differ", name)
		}
		if !same(a, c) {
			t.Errorf("%s: 1 and 3 workers differ", name)
		}
		if same(a, d) {
			t.Errorf("%s: seeds 5 and 6 give the same run", name)
		}
	}
}

// TestRolloutReplays checks the Rollout's bookkeeping: each (state, action) replays to the
// recorded next observation and reward, an episode's next observation is the following
// step's observation, and episode starts follow episode ends.
func TestRolloutReplays(t *testing.T) {
	for _, name := range []string{"CartPole-v1", "Pendulum-v1"} {
		c := smallConfig(name)
		tr := mustTrainer(t, c, 1)
		if tr.Rollout() != nil {
			t.Fatal("Rollout before training is not nil")
		}
		if err := tr.Train(2*c.BatchSize(), nil); err != nil {
			t.Fatal(err)
		}
		r := tr.Rollout()
		e, _ := env.Lookup(name)
		od, ad, sd := r.ObsDim, r.ActDim, r.StateDim
		ends := 0
		for i := 0; i < r.T*r.E; i++ {
			if err := e.SetState(r.States[i*sd : (i+1)*sd]); err != nil {
				t.Fatal(err)
			}
			if !equal(e.Obs(), r.Obs[i*od:(i+1)*od]) {
				t.Fatalf("%s row %d: the state does not give the observation", name, i)
			}
			obs, rew, term := e.Step(r.Actions[i*ad : (i+1)*ad])
			if !equal(obs, r.NextObs[i*od:(i+1)*od]) || rew != r.TrueRewards[i] || term != r.Terminated[i] {
				t.Fatalf("%s row %d: replay gives %v %v %v, rollout has %v %v %v", name, i,
					obs, rew, term, r.NextObs[i*od:(i+1)*od], r.TrueRewards[i], r.Terminated[i])
			}
			if !r.Done(i) && i+r.E < r.T*r.E {
				if !equal(r.NextObs[i*od:(i+1)*od], r.Obs[(i+r.E)*od:(i+r.E+1)*od]) || r.Start[i+r.E] {
					t.Fatalf("%s row %d: the episode does not continue in row %d", name, i, i+r.E)
				}
			}
			if r.Done(i) {
				ends++
				if i+r.E < r.T*r.E && !r.Start[i+r.E] {
					t.Fatalf("%s row %d: no episode start after an episode end", name, i)
				}
			}
		}
		// Pendulum is truncated at 200 steps, after these 128; CartPole's random episodes are short.
		if wantEnds := name == "CartPole-v1"; (ends > 0) != wantEnds {
			t.Errorf("%s: %d episode ends in the last rollout", name, ends)
		}
	}
}

func equal(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestLearnedRewardPlugsIn checks that a Reward gets the whole rollout in one call, with the
// rollout's observations, actions and next observations, and that PPO trains on its output.
func TestLearnedRewardPlugsIn(t *testing.T) {
	c := smallConfig("Pendulum-v1")
	c.NormReward, c.BootstrapTruncation = false, false
	tr := mustTrainer(t, c, 2)
	calls := 0
	var seen struct{ obs, act, next []float64 }
	tr.SetReward(RewardFunc(func(obs, act, next []float64, n int, out []float64) {
		calls++
		if n != c.BatchSize() || len(out) != n {
			t.Fatalf("Rewards got n = %d (len(out) %d), want the rollout's %d", n, len(out), c.BatchSize())
		}
		seen.obs, seen.act, seen.next = append([]float64(nil), obs...), append([]float64(nil), act...), append([]float64(nil), next...)
		for i := range out {
			out[i] = -act[i] * act[i] // a reward that only cares about the torque
		}
	}))
	if err := tr.Train(c.BatchSize(), nil); err != nil {
		t.Fatal(err)
	}
	r := tr.Rollout()
	if calls != 1 || !equal(seen.obs, r.Obs) || !equal(seen.act, r.Actions) || !equal(seen.next, r.NextObs) {
		t.Fatalf("Rewards was called %d times, or with other data than the rollout's", calls)
	}
	for i, a := range r.Actions {
		if r.Rewards[i] != -a*a || a < -2 || a > 2 {
			t.Fatalf("row %d: trained on %v for action %v", i, r.Rewards[i], a)
		}
	}
	tr.SetReward(RewardFunc(func(obs, act, next []float64, n int, out []float64) { out[3] = math.NaN() }))
	if err := tr.Train(1, nil); err == nil {
		t.Error("a NaN reward was accepted")
	}
}

// TestKLPenaltyToReference checks Ziegler et al.'s penalty: with a zero reward, the reward PPO
// trains on is −β·(log π(a|s) − log ρ(a|s)) for the rollout's policy π and the reference ρ.
func TestKLPenaltyToReference(t *testing.T) {
	c := smallConfig("CartPole-v1")
	c.KLCoef, c.KLTarget, c.BootstrapTruncation = 0.5, 0.01, false
	tr := mustTrainer(t, c, 3)
	ref := tr.Policy().Clone()
	// A reward for pushing right moves π away from ρ.
	tr.SetReward(RewardFunc(func(_, act, _ []float64, _ int, out []float64) { copy(out, act) }))
	if err := tr.Train(5*c.BatchSize(), nil); err != nil {
		t.Fatal(err)
	}
	tr.SetReference(ref)
	tr.SetReward(RewardFunc(func(_, _, _ []float64, _ int, out []float64) { clear(out) }))
	pi := tr.Policy().Clone()
	var st Stats
	if err := tr.Train(1, func(s Stats) { st = s }); err != nil {
		t.Fatal(err)
	}
	r := tr.Rollout()
	sum := 0.0
	for i := 0; i < r.T*r.E; i++ {
		obs := r.Obs[i*r.ObsDim : (i+1)*r.ObsDim]
		a := int(r.Actions[i])
		lp := categoricalLogProb(pi.Actor.Forward(new(nn.Tape), obs, 1), a)
		lr := categoricalLogProb(ref.Actor.Forward(new(nn.Tape), obs, 1), a)
		sum += lp - lr
		if want := -0.5 * (lp - lr); math.Abs(r.Rewards[i]-want) > 1e-12 {
			t.Fatalf("row %d: reward %v, want −β·log(π/ρ) = %v", i, r.Rewards[i], want)
		}
	}
	if kl := sum / float64(r.T*r.E); math.Abs(st.RefKL-kl) > 1e-12 || !(kl > 0) {
		t.Errorf("reported KL %v, computed %v (want > 0)", st.RefKL, kl)
	}
	if st.KLCoef != 0.5 || tr.kl.Beta == 0.5 {
		t.Errorf("β was %v during the rollout and %v after; want 0.5, then adapted", st.KLCoef, tr.kl.Beta)
	}
}

// TestFixedHorizon checks that in fixed-horizon mode episodes last exactly the horizon and
// never terminate, even for a policy that drops the pole at once.
func TestFixedHorizon(t *testing.T) {
	c := smallConfig("CartPole-v1")
	c.FixedHorizon = 30
	tr := mustTrainer(t, c, 4)
	if err := tr.Train(c.BatchSize(), nil); err != nil {
		t.Fatal(err)
	}
	r := tr.Rollout()
	zeros := 0
	for t0 := 0; t0 < r.T; t0++ {
		for e := 0; e < r.E; e++ {
			i := t0*r.E + e
			if r.Terminated[i] || r.Truncated[i] != ((t0+1)%30 == 0) || r.Start[i] != (t0%30 == 0) {
				t.Fatalf("step %d env %d: terminated %v truncated %v start %v", t0, e, r.Terminated[i], r.Truncated[i], r.Start[i])
			}
			if r.TrueRewards[i] == 0 {
				zeros++
			}
		}
	}
	if zeros == 0 {
		t.Error("no step outside the bounds: the test does not exercise running past termination")
	}
}

// TestLearnsCartPole checks that a short run with a fixed seed clearly beats the untrained,
// near-uniform policy (whose CartPole episodes last about 22 steps).
func TestLearnsCartPole(t *testing.T) {
	c := DefaultConfig("CartPole-v1")
	tr := mustTrainer(t, c, 1)
	first := math.NaN()
	if err := tr.Train(25000, func(s Stats) {
		if math.IsNaN(first) && s.RecentCount >= 10 {
			first = s.RecentReturn
		}
	}); err != nil {
		t.Fatal(err)
	}
	got := Evaluate(tr.Policy(), "CartPole-v1", 20, 1)
	recent, _ := tr.RecentReturn()
	t.Logf("CartPole: first 10 training episodes %.1f, last 20 after 25k steps %.1f; eval %.1f", first, recent, got)
	if !(first < 50) || recent < 150 || got < 200 {
		t.Errorf("CartPole: first 10 training episodes %.1f, last 20 after 25k steps %.1f, eval %.1f; want < 50, ≥ 150, ≥ 200",
			first, recent, got)
	}
}
