package loop

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/prefer-rlhf/prefer/core/reward"
)

// shortRun returns CartPole's defaults cut down to a few seconds of work.
func shortRun(seed uint64) Config {
	c := Defaults("CartPole-v1")
	c.Seed = seed
	c.Labels, c.Steps, c.Rounds, c.PoolClips = 24, 4096, 3, 24
	c.CurveEpisodes, c.EvalEpisodes = 2, 3
	return c
}

// TestRunIsALearnerDriven: Run is the Learner driven round after round. The same steps taken
// by hand (random-policy labels, a refit, then PPO, candidates, labels and a refit per round,
// and the final PPO) with the same seeds end in the same policy and the same reward model,
// weight for weight.
func TestRunIsALearnerDriven(t *testing.T) {
	cfg := shortRun(3)
	cfg.OldPolicies = 1
	rep, err := Run(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}

	l, err := NewLearner(cfg, false)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x6c6f6f70))
	asked := 0
	ask := func(pool []Clip, n int) {
		pairs, _, err := l.SelectPairs(rng, pool, n)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range pairs {
			a, b := pool[p.Left], pool[p.Right]
			l.Data.AddChoice(a.Seg, b.Seg, cfg.Rater.Choose(rng, a.TrueReturn, b.TrueReturn))
			asked++
		}
	}
	fit := func(recent []Clip) {
		if _, err := l.Fit(); err != nil {
			t.Fatal(err)
		}
		var segs []reward.Segment
		for _, c := range recent {
			segs = append(segs, c.Seg)
		}
		if err := l.Normalize(segs); err != nil {
			t.Fatal(err)
		}
	}
	random := l.RandomClips(rng, cfg.PoolClips)
	ask(random, cfg.Query.InitialLabels(cfg.Labels))
	fit(random)
	perRound := schedule(cfg.Labels-asked, cfg.Rounds, cfg.LabelDecay)
	for k := range cfg.Rounds {
		if err := l.Train((k+1)*cfg.Steps/cfg.Rounds-k*cfg.Steps/cfg.Rounds, k, nil); err != nil {
			t.Fatal(err)
		}
		if perRound[k] > 0 {
			pool, err := l.Candidates(rng, cfg.PoolClips, k+1)
			if err != nil {
				t.Fatal(err)
			}
			var recent []Clip
			for _, c := range pool {
				if c.Source == FromCurrent {
					recent = append(recent, c)
				}
			}
			ask(pool, perRound[k])
			fit(recent)
		}
	}
	if err := l.Train(cfg.finalSteps(), 0, nil); err != nil {
		t.Fatal(err)
	}

	if asked != rep.LabelsUsed || l.Trainer().EnvSteps() != rep.EnvSteps {
		t.Fatalf("by hand: %d labels, %d env steps; Run: %d, %d", asked, l.Trainer().EnvSteps(), rep.LabelsUsed, rep.EnvSteps)
	}
	if !slices.Equal(l.Policy().Params(), rep.Policy.Params()) {
		t.Error("the hand-driven policy differs from Run's")
	}
	if !slices.Equal(reward.Params(l.Model), reward.Params(rep.Model)) {
		t.Error("the hand-driven reward model differs from Run's")
	}
	if got := l.TrueReturn(cfg.EvalEpisodes, cfg.Seed^0xe7a1); got != rep.EvalReturn {
		t.Errorf("eval return by hand %v, Run %v", got, rep.EvalReturn)
	}
}

// TestLearnerRound checks what a round of the Learner promises: clips of a random policy only
// before training, of the current and older policies after, each stamped with its version and
// of the clip length; at most OldPolicies old policies, frozen copies; random pairs until r̂ is
// fitted, the strategy's after; r̂ clamped for PPO after Normalize, with the objective that
// Configure sets; the KL from the initial policy measured once PPO has run.
func TestLearnerRound(t *testing.T) {
	cfg := shortRun(7)
	cfg.RandomShare, cfg.OldShare, cfg.OldPolicies = 0.2, 0.4, 2
	l, err := NewLearner(cfg, true)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	if !math.IsNaN(l.KL()) {
		t.Errorf("KL %v before any rollout, want NaN", l.KL())
	}
	if st, err := l.Fit(); err != nil || !math.IsNaN(st.ValAccuracy) || l.Fitted() {
		t.Fatalf("Fit with no labels: %+v %v, fitted %v", st, err, l.Fitted())
	}
	pool, err := l.Candidates(rng, 40, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range pool {
		if c.Source != FromRandom || c.PolicyVersion != 0 || c.Seg.Len != l.ClipLen() {
			t.Fatalf("an untrained learner's clip: source %d version %d, %d steps", c.Source, c.PolicyVersion, c.Seg.Len)
		}
	}
	if _, rets, err := l.SelectPairs(rng, pool, 5); err != nil || rets != nil {
		t.Fatalf("pairs before a fit read the members' returns (%v)", err)
	}
	for i := 0; i+1 < len(pool); i += 2 {
		a, b := pool[i], pool[i+1]
		l.Data.AddChoice(a.Seg, b.Seg, cfg.Rater.Choose(rng, a.TrueReturn, b.TrueReturn))
	}
	if _, err := l.Update(2); err != nil || !l.Fitted() {
		t.Fatalf("Update: %v, fitted %v", err, l.Fitted())
	}
	if err := l.Normalize([]reward.Segment{l.Transitions(rng, 600, false)}); err != nil {
		t.Fatal(err)
	}
	b, ok := l.current.(*Bounded)
	if !ok || b.obj != nil {
		t.Fatalf("PPO's reward after Normalize: %T; want the clamped mean", l.current)
	}
	next := l.Config()
	next.Objective = reward.ObjectiveMin
	if err := l.Configure(next); err != nil || b.obj == nil {
		t.Fatalf("Configure to the min objective: %v, objective %v", err, b.obj)
	}

	var frozen []float64
	for v := range 4 {
		if err := l.Train(512, v, nil); err != nil {
			t.Fatal(err)
		}
		if v == 2 {
			frozen = append(frozen, l.Old[len(l.Old)-1].Policy.Params()...) // version 2's copy
		}
	}
	if len(l.Old) != 2 || l.Old[0].Version != 2 || l.Old[1].Version != 3 {
		t.Fatalf("old policies %v, want versions 2 and 3", versionsOf(l.Old))
	}
	if !slices.Equal(frozen, l.Old[0].Policy.Params()) || slices.Equal(frozen, l.Policy().Params()) {
		t.Error("an old policy moved with training, or the policy did not")
	}
	if kl := l.KL(); !(kl > 0) || math.IsInf(kl, 0) {
		t.Errorf("KL from the initial policy after PPO: %v", kl)
	}
	pool, err = l.Candidates(rng, 200, 4)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[Source]int{}
	for _, c := range pool {
		seen[c.Source]++
		want := map[Source][]int{FromRandom: {0}, FromOld: {2, 3}, FromCurrent: {4}}[c.Source]
		if !slices.Contains(want, c.PolicyVersion) || c.Seg.Len != l.ClipLen() {
			t.Fatalf("clip from source %d has version %d, %d steps", c.Source, c.PolicyVersion, c.Seg.Len)
		}
	}
	if seen[FromRandom] == 0 || seen[FromOld] == 0 || seen[FromCurrent] == 0 {
		t.Fatalf("clip sources %v, want all three", seen)
	}
	if _, rets, err := l.SelectPairs(rng, pool, 5); err != nil || len(rets) == 0 {
		t.Fatalf("disagreement pairs after a fit read no members' returns (%v)", err)
	}
	// A reset model is untrained, with no data; PPO optimises it as it is.
	if err := l.ResetModel(); err != nil || l.Fitted() || l.Data.Len() != 0 || l.current.(*reward.Model) != l.Model {
		t.Fatalf("ResetModel: %v, fitted %v, %d labels", err, l.Fitted(), l.Data.Len())
	}
}

func versionsOf(old []OldPolicy) []int {
	var v []int
	for _, o := range old {
		v = append(v, o.Version)
	}
	return v
}
