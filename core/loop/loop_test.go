package loop

import (
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/prefer-rlhf/prefer/core/env"
	"github.com/prefer-rlhf/prefer/core/oracle"
	"github.com/prefer-rlhf/prefer/core/query"
)

// small returns CartPole's defaults cut down to a budget a test can afford.
func small(seed uint64) Config {
	c := Defaults("CartPole-v1")
	c.Seed = seed
	c.Labels, c.Steps, c.Rounds = 120, 90000, 6
	c.CurveEpisodes, c.EvalEpisodes = 5, 20
	return c
}

// quick returns small(2) cut down to 12 labels over rounds rounds of steps PPO env steps in
// all, with half as many final steps: a run that tests what the loop does, not what it learns.
func quick(steps, rounds int) Config {
	c := small(2)
	c.Labels, c.Steps, c.Rounds, c.FinalShare = 12, steps, rounds, 0.5
	c.Reward.MinSteps = 5
	c.CurveEpisodes, c.EvalEpisodes = 2, 2
	return c
}

// TestLearnsCartPole: with a noiseless synthetic rater and 80 labels, PPO on the learned reward
// balances the pole far longer than a random policy does (about 22 steps), measured on the
// standard task with its true reward.
func TestLearnsCartPole(t *testing.T) {
	if testing.Short() {
		t.Skip("a learning run")
	}
	c := small(1)
	rep, err := Run(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.LabelsUsed != c.Labels || len(rep.Curve) != c.Rounds || rep.EnvSteps < c.Steps {
		t.Errorf("used %d labels, %d rounds, %d steps; want %d, %d, >= %d", rep.LabelsUsed, len(rep.Curve), rep.EnvSteps, c.Labels, c.Rounds, c.Steps)
	}
	if !(rep.RewardModelValAccuracy > 0.8) {
		t.Errorf("reward model held-out accuracy %.3f, want > 0.8", rep.RewardModelValAccuracy)
	}
	if !(rep.EvalReturn > 4*rep.RandomReturn) {
		t.Errorf("eval return %.1f, want > 4× the random policy's %.1f", rep.EvalReturn, rep.RandomReturn)
	}
	t.Logf("eval %.1f, random %.1f, val accuracy %.3f, %.1fs", rep.EvalReturn, rep.RandomReturn, rep.RewardModelValAccuracy, rep.WallSeconds)
}

// TestDeterministic: a seed fixes the whole run.
func TestDeterministic(t *testing.T) {
	c := small(3)
	c.Labels, c.Steps, c.Rounds = 12, 2048, 2
	c.Reward.MinSteps = 5
	c.CurveEpisodes, c.EvalEpisodes = 2, 2
	a, err := Run(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Run(c, nil)
	c.Query.Strategy = query.Random
	r, _ := Run(c, nil)
	if a.EvalReturn != b.EvalReturn || a.RewardModelValAccuracy != b.RewardModelValAccuracy && !math.IsNaN(a.RewardModelValAccuracy) {
		t.Errorf("two runs with one seed differ: eval %v and %v", a.EvalReturn, b.EvalReturn)
	}
	if r.Query != "random" || r.LabelsUsed != c.Labels {
		t.Errorf("random queries: report says %q with %d labels", r.Query, r.LabelsUsed)
	}
}

func TestSchedule(t *testing.T) {
	for _, tc := range []struct{ n, rounds int }{{150, 10}, {7, 3}, {525, 10}, {0, 5}, {10, 1}} {
		s := schedule(tc.n, tc.rounds, 0.25)
		sum := 0
		for k, v := range s {
			sum += v
			if k > 1 && v > s[k-1] {
				t.Errorf("schedule(%d, %d) = %v grows at round %d; it must decay", tc.n, tc.rounds, s, k)
			}
		}
		want := tc.n
		if tc.rounds < 2 {
			want = 0
		}
		if sum != want || s[0] != 0 {
			t.Errorf("schedule(%d, %d) = %v: sum %d (want %d), first round %d (want 0)", tc.n, tc.rounds, s, sum, want, s[0])
		}
	}
}

func TestValidate(t *testing.T) {
	for name, f := range map[string]func(*Config){
		"labels":  func(c *Config) { c.Labels = 0 },
		"steps":   func(c *Config) { c.Steps = 0 },
		"rounds":  func(c *Config) { c.Rounds = 0 },
		"decay":   func(c *Config) { c.LabelDecay = 0 },
		"clip":    func(c *Config) { c.ClipSteps = -1 },
		"pool":    func(c *Config) { c.PoolClips = 1 },
		"noise":   func(c *Config) { c.Rater.ErrorRate = 2 },
		"query":   func(c *Config) { c.Query.Strategy = "best" },
		"horizon": func(c *Config) { c.PPO.FixedHorizon = -1 },
		"final":   func(c *Config) { c.FinalShare = -1 },
		"keep":    func(c *Config) { c.KeepEpisodes = -1 },
		"fresh":   func(c *Config) { c.FinalFresh = -1 },
	} {
		c := Defaults("CartPole-v1")
		f(&c)
		if _, err := Run(c, nil); err == nil {
			t.Errorf("%s: bad config accepted", name)
		}
	}
	c := Defaults("NoSuchEnv-v0")
	if _, err := Run(c, nil); err == nil {
		t.Error("unknown env accepted")
	}
}

// TestClips: clips have the asked length, replay from their start state, and carry the
// fixed-horizon true return.
func TestClips(t *testing.T) {
	base, _ := env.Lookup("CartPole-v1")
	fixed, _ := env.FixedHorizon(base, 0)
	rng := rand.New(rand.NewPCG(1, 2))
	clips := Clips(fixed, nil, 5, 30, 40, rng)
	if len(clips) != 5 {
		t.Fatalf("%d clips, want 5", len(clips))
	}
	for i, c := range clips {
		if c.Seg.Len != 30 || len(c.Seg.Obs) != 30*4 || len(c.Actions) != 30 {
			t.Fatalf("clip %d: length %d, %d obs values, %d actions", i, c.Seg.Len, len(c.Seg.Obs), len(c.Actions))
		}
		if err := fixed.SetState(c.StartState); err != nil {
			t.Fatal(err)
		}
		ret := 0.0
		for k := 0; k < c.Seg.Len; k++ {
			o, r, _ := fixed.Step(c.Actions[k : k+1])
			ret += r
			for j := range o {
				if o[j] != c.Seg.Next[k*4+j] {
					t.Fatalf("clip %d step %d does not replay", i, k)
				}
			}
		}
		if ret != c.TrueReturn {
			t.Errorf("clip %d: true return %v, replayed %v", i, c.TrueReturn, ret)
		}
	}
}

// TestLearnsCartPoleAsTheREADME runs `prefer experiment --env CartPole-v1 --seed 1` (the
// defaults: 200 noiseless labels) and holds it to the README's figure: eval 500 on seeds 1-5,
// 500 on seeds 1-3 after the one-loop change, 499.3 / 499.8 / 500 with the final PPO steps
// (docs/experiments.md). 475 is Gymnasium's solved
// threshold; a policy that learned to balance scores 500, one that did not scores far below
// (the failures recorded there are 9-430), so the margin is set by the task, not by a seed.
// Natively only: under wasm the run takes many minutes, and TestLearnsCartPole covers it.
func TestLearnsCartPoleAsTheREADME(t *testing.T) {
	if testing.Short() || runtime.GOARCH == "wasm" {
		t.Skip("a full learning run (natively ~25 s)")
	}
	c := Defaults("CartPole-v1")
	c.Seed = 1
	rep, err := Run(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.EvalReturn < 475 {
		t.Errorf("eval return %.1f with %d labels, want >= 475 (README: 499.3)", rep.EvalReturn, rep.LabelsUsed)
	}
	t.Logf("eval %.1f, %d labels, %d env steps, %.1fs", rep.EvalReturn, rep.LabelsUsed, rep.EnvSteps, rep.WallSeconds)
}

// TestFinalSteps: FinalShare of Steps more PPO follows the last labels, the step size anneals
// over both, the last round's point comes after them, and a share of 0 adds nothing.
func TestFinalSteps(t *testing.T) {
	c := quick(2048, 2)
	spec := env.NewCartPole().Spec()
	if got := c.PPOConfig(spec, false).TotalSteps; got != 3072 {
		t.Errorf("PPO anneals over %d steps, want Steps + FinalShare·Steps = 3072", got)
	}
	rep, err := Run(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	last := rep.Curve[len(rep.Curve)-1]
	if len(rep.Curve) != c.Rounds || rep.EnvSteps < 3072 || last.EnvSteps != rep.EnvSteps || last.Labels != c.Labels {
		t.Errorf("%d points, %d env steps, last point at %d steps and %d labels; want %d points, >= 3072 steps, the last after all of them",
			len(rep.Curve), rep.EnvSteps, last.EnvSteps, last.Labels, c.Rounds)
	}
	c.FinalShare = 0
	if rep, err = Run(c, nil); err != nil || rep.EnvSteps >= 3072 {
		t.Errorf("FinalShare 0: %d env steps (%v), want under 3072", rep.EnvSteps, err)
	}
	if got := c.PPOConfig(spec, false).TotalSteps; got != c.Steps {
		t.Errorf("FinalShare 0: PPO anneals over %d steps, want Steps %d", got, c.Steps)
	}
}

// TestKeepGuardsEveryUpdate: with KeepEpisodes the guard checks every PPO update after the
// first round's (an untrained policy has nothing to keep) and the final steps in chunks of a
// round's steps; without it none. A run is still fixed by its seed.
func TestKeepGuardsEveryUpdate(t *testing.T) {
	c := quick(3000, 3)
	plain, err := Run(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	if plain.Guarded != 0 {
		t.Errorf("without KeepEpisodes %d updates were guarded", plain.Guarded)
	}
	c.KeepEpisodes = 2
	a, err := Run(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Rounds 2 and 3, then the final 1,500 steps in chunks of 1,000 and 500.
	if a.Guarded != 4 || a.NotKept > a.Guarded || a.Back > a.NotKept {
		t.Errorf("guarded %d updates (%d not kept, %d policies back), want 4", a.Guarded, a.NotKept, a.Back)
	}
	if a.EnvSteps < c.Steps+1500 {
		t.Errorf("%d env steps, want at least %d: a put-back update's steps stay spent", a.EnvSteps, c.Steps+1500)
	}
	b, err := Run(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	if a.EvalReturn != b.EvalReturn || a.NotKept != b.NotKept || a.Back != b.Back {
		t.Errorf("two runs of one seed differ: %v/%d/%d against %v/%d/%d", a.EvalReturn, a.NotKept, a.Back, b.EvalReturn, b.NotKept, b.Back)
	}
	t.Logf("guarded %d, not kept %d, back %d; eval %.1f (plain %.1f)", a.Guarded, a.NotKept, a.Back, a.EvalReturn, plain.EvalReturn)
}

// TestLearnsCartPoleLateLabels holds the Oracle teacher with disagreement queries, seed 4, to
// the solved threshold: before the final PPO steps (Config.FinalShare) this run ended at 139.6,
// its policy driving off the track after ~140 steps while r̂ ranked it below a balancing one,
// because PPO's step size had annealed to nearly 0 in the rounds that could have followed r̂
// (docs/experiments.md). 475 is Gymnasium's solved threshold; a policy that balances scores
// 500. Natively only, as TestLearnsCartPoleAsTheREADME.
func TestLearnsCartPoleLateLabels(t *testing.T) {
	if testing.Short() || runtime.GOARCH == "wasm" {
		t.Skip("a full learning run (natively ~15 s)")
	}
	c := Defaults("CartPole-v1")
	c.Seed = 4
	tch, err := oracle.ParseTeacher("oracle")
	if err != nil {
		t.Fatal(err)
	}
	c.Teacher, c.Query.Strategy = &tch, query.Disagreement
	rep, err := Run(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.EvalReturn < 475 {
		t.Errorf("eval return %.1f, want >= 475", rep.EvalReturn)
	}
	t.Logf("eval %.1f, %d env steps, %.1fs", rep.EvalReturn, rep.EnvSteps, rep.WallSeconds)
}

// TestSetHorizon: PPO at another horizon for the final steps goes on from where it was: the
// same weights, step count and optimiser state, episodes of the new horizon, the same reward.
func TestSetHorizon(t *testing.T) {
	l, err := NewLearner(small(5), false)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Train(512, 0, nil); err != nil {
		t.Fatal(err)
	}
	tr := l.Trainer()
	before := append([]float64(nil), tr.Policy().Params()...)
	if err := l.SetHorizon(500); err != nil {
		t.Fatal(err)
	}
	next := l.Trainer()
	if next == tr || next.Config().FixedHorizon != 500 || next.Spec().MaxEpisodeSteps != 500 {
		t.Errorf("horizon %d, episodes of %d steps; want a new trainer at 500", next.Config().FixedHorizon, next.Spec().MaxEpisodeSteps)
	}
	for i, w := range next.Policy().Params() {
		if w != before[i] {
			t.Fatalf("weight %d: %v, was %v", i, w, before[i])
		}
	}
	if s, n := tr.State(), next.State(); n.EnvSteps != s.EnvSteps || n.AdamT != s.AdamT || n.AdamV[0] != s.AdamV[0] {
		t.Errorf("state not carried over: %d steps, Adam t %d; want %d, %d", n.EnvSteps, n.AdamT, s.EnvSteps, s.AdamT)
	}
	if err := l.Train(256, 1, nil); err != nil {
		t.Fatal(err)
	}
}
