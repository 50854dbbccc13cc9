package trainer

import (
	"math/rand/v2"
	"testing"

	"github.com/prefer-rlhf/prefer/core/query"
	"github.com/prefer-rlhf/prefer/core/reward"
	"github.com/prefer-rlhf/prefer/server/store"
)

// TestLoopConfigFromSettings: a project's query, robust, objective, uwo_lambda and reward_prior settings
// become the loop's configuration the trainer runs, and the defaults are today's.
func TestLoopConfigFromSettings(t *testing.T) {
	tr, err := New(nil, Config{Oversample: 7, Log: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	def, err := tr.loopConfig("p", "CartPole-v1", store.DefaultSettings())
	if err != nil {
		t.Fatal(err)
	}
	if def.Query.Strategy != query.Disagreement || def.Reward.Robust || def.Objective != reward.ObjectiveMean || def.Query.Oversample != 7 || def.Reward.Prior != 0 {
		t.Fatalf("defaults: query %s robust %v objective %s oversample %d prior %v", def.Query.Strategy, def.Reward.Robust, def.Objective, def.Query.Oversample, def.Reward.Prior)
	}
	set := store.DefaultSettings()
	set.Query, set.Robust, set.Objective, set.UWOLambda, set.RewardPrior = "kcenter_entropy", true, "uwo", 1.5, 3
	lc, err := tr.loopConfig("p", "CartPole-v1", set)
	if err != nil {
		t.Fatal(err)
	}
	if lc.Query.Strategy != query.KCenterEntropy || lc.Reward.RobustFit() != reward.DefaultRobust || lc.Objective != reward.ObjectiveUWO || lc.ObjectiveLambda != 1.5 || lc.Reward.Prior != 3 {
		t.Fatalf("settings: query %s robust %q objective %s λ %v prior %v", lc.Query.Strategy, lc.Reward.RobustFit(), lc.Objective, lc.ObjectiveLambda, lc.Reward.Prior)
	}
	if err := lc.Validate(); err != nil {
		t.Fatal(err)
	}
	set.Objective = "max"
	if _, err := tr.loopConfig("p", "CartPole-v1", set); err == nil {
		t.Fatal("an unknown objective was accepted")
	}
}

// TestSettingsReachRounds runs rounds of a project with k-center queries, the robust fit and
// the worst-case objective: the model fits robustly, pairs come from k-center (no disagreement
// priority), and switching robust off refits a plain model from scratch.
func TestSettingsReachRounds(t *testing.T) {
	st, p, rater := setup(t, func(s *store.Settings) {
		s.Query, s.Robust, s.Objective = "kcenter", true, "min"
	})
	rng := rand.New(rand.NewPCG(3, 4))
	tr := newTrainer(t, st)
	if err := tr.Step(bg); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		label(t, st, p.ID, rater, rng)
		if err := tr.Step(bg); err != nil {
			t.Fatal(err)
		}
	}
	pr := tr.projects[p.ID]
	if !pr.model.Config().Robust || pr.policyVersion != 2 {
		t.Fatalf("robust model %v, policy version %d", pr.model.Config().Robust, pr.policyVersion)
	}
	// The project's strategy picks the pairs: k-center reads no returns, so its pairs carry
	// no disagreement priority; disagreement picks the pairs the members dispute.
	set := p.Settings
	for _, q := range []string{"kcenter", "disagreement"} {
		set.Query = q
		lc, err := tr.loopConfig(p.ID, p.Env, set)
		if err != nil {
			t.Fatal(err)
		}
		if err := pr.clip.Configure(lc); err != nil {
			t.Fatal(err)
		}
		cands, err := tr.candidates(pr, set, rng)
		if err != nil {
			t.Fatal(err)
		}
		pairs, err := tr.selectPairs(pr, set, cands, rng)
		if err != nil || len(pairs) != 10 {
			t.Fatalf("%s: %d pairs %v", q, len(pairs), err)
		}
		scored := 0
		for _, c := range pairs {
			if c.score > 0 {
				scored++
			}
		}
		if (q == "kcenter") != (scored == 0) || q == "disagreement" && scored != len(pairs) {
			t.Fatalf("%s: %d of %d pairs with a disagreement priority", q, scored, len(pairs))
		}
	}
	// step stores set, labels a batch and runs a round; it returns the project after.
	step := func(set store.Settings) *project {
		t.Helper()
		if err := st.SetSettings(bg, p.ID, set); err != nil {
			t.Fatal(err)
		}
		label(t, st, p.ID, rater, rng)
		if err := tr.Step(bg); err != nil {
			t.Fatal(err)
		}
		return tr.projects[p.ID]
	}
	set.Query = "kcenter"
	set.Robust = false
	pr = step(set)
	if pr.model.Config().Robust || pr.lineage != pr.modelVersion || pr.data.Len() != 30 {
		t.Fatalf("after robust off: robust %v, lineage %d of version %d, %d labels", pr.model.Config().Robust, pr.lineage, pr.modelVersion, pr.data.Len())
	}
	// Random priors are the model's too: turning them on makes it afresh and refits it.
	set.RewardPrior = 3
	pr = step(set)
	if pr.model.Config().Prior != 3 || pr.lineage != pr.modelVersion || pr.data.Len() != 40 {
		t.Fatalf("after reward_prior 3: prior %v, lineage %d of version %d, %d labels", pr.model.Config().Prior, pr.lineage, pr.modelVersion, pr.data.Len())
	}
}
