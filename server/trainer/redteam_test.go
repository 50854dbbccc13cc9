package trainer

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/prefer-rlhf/prefer/core/loop"
	"github.com/prefer-rlhf/prefer/core/prefs"
	"github.com/prefer-rlhf/prefer/core/redteam"
	"github.com/prefer-rlhf/prefer/core/reward"
	"github.com/prefer-rlhf/prefer/server/store"
)

// TestRedTeamFindsAFlawedModelsFailures: against a CartPole model fitted on inverted labels
// (it prefers the pole down), a project's adversarial round returns pairs of a clip that fails
// the task and the model overrates against one that meets it, each replayable, and tags them
// red_team at the red-team priority.
func TestRedTeamFindsAFlawedModelsFailures(t *testing.T) {
	tr, err := New(nil, Config{Log: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	lc := loop.Defaults("CartPole-v1")
	lc.Seed = 1
	e, err := horizonEnv("CartPole-v1")
	if err != nil {
		t.Fatal(err)
	}
	l, err := loop.NewLearner(lc, false)
	if err != nil {
		t.Fatal(err)
	}
	p := &project{id: "p", spec: e.Spec(), clip: l, model: l.Model}
	rng := rand.New(rand.NewPCG(1, 2))
	clips := loop.Clips(e, nil, 80, 75, 0, rng)
	d := &reward.Dataset{}
	for i := 0; i+1 < len(clips); i += 2 {
		l, r := clips[i], clips[i+1]
		if l.TrueReturn == r.TrueReturn {
			continue
		}
		c := prefs.Left // inverted: the shorter balance wins
		if l.TrueReturn < r.TrueReturn {
			c = prefs.Right
		}
		d.AddChoice(r.Seg, l.Seg, c)
	}
	if _, err := p.model.Fit(d); err != nil {
		t.Fatal(err)
	}
	red, err := tr.redTeam(p, lc, 75, 3, 7)
	if err != nil {
		t.Fatal(err)
	}
	if len(red) == 0 {
		t.Fatal("no failure of a model that prefers the pole down")
	}
	thr, _ := redteam.Threshold("CartPole-v1", 75)
	for _, pair := range red {
		f, o := pair[0], pair[1]
		tf, _ := TrueReturn(f.clip)
		to, _ := TrueReturn(o.clip)
		if !(tf < thr && to >= thr) || !(p.model.Return(f.seg) > p.model.Return(o.seg)) || f.seg.Len != 75 || f.clip.PolicyVersion != 3 {
			t.Fatalf("pair: true %.1f vs %.1f (threshold %.1f), r̂ %.2f vs %.2f, %d steps", tf, to, thr, p.model.Return(f.seg), p.model.Return(o.seg), f.seg.Len)
		}
		np := redTeamPair(pair, false)
		if np.Tag != store.TagRedTeam || np.Priority != store.RedTeamPriority || np.Left != o.clip.ID || np.Right != f.clip.ID {
			t.Fatalf("store pair %+v", np)
		}
	}
	t.Logf("%d red-team pairs", len(red))
}

// TestAdversarialSettingOff: by default no round publishes a red-team pair.
func TestAdversarialSettingOff(t *testing.T) {
	st, p, rater := setup(t, nil)
	tr := newTrainer(t, st)
	rng := rand.New(rand.NewPCG(5, 6))
	for round := 0; round < 3; round++ {
		if err := tr.Step(bg); err != nil {
			t.Fatal(err)
		}
		label(t, st, p.ID, rater, rng)
	}
	pairs, err := st.PairsFor(bg, p.ID, rater, 1000, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, pr := range pairs {
		if pr.Tag != "" {
			t.Fatalf("pair tagged %q with adversarial off", pr.Tag)
		}
	}
}

// TestAdversarialRoundsPublishRedTeamPairs: in a project with adversarial on whose rater
// prefers the pole down (so the model is wrong), rounds publish red_team pairs of a failing
// clip against one that met the task, served before the other pairs.
func TestAdversarialRoundsPublishRedTeamPairs(t *testing.T) {
	st, p, rater := setup(t, func(s *store.Settings) { s.Adversarial = true })
	tr := newTrainer(t, st)
	thr, _ := redteam.Threshold(p.Env, 75)
	red := 0
	for round := 0; round < 4 && red == 0; round++ {
		if err := tr.Step(bg); err != nil {
			t.Fatal(err)
		}
		pairs, err := st.PairsFor(bg, p.ID, rater, 1000, nil)
		if err != nil {
			t.Fatal(err)
		}
		var cs []prefs.Comparison
		for i, pr := range pairs {
			var l, r prefs.Clip
			mustJSON(t, pr.Left, &l)
			mustJSON(t, pr.Right, &r)
			tl, _ := TrueReturn(l)
			trr, _ := TrueReturn(r)
			if pr.Tag == store.TagRedTeam {
				red++
				if i >= red || (tl < thr) == (trr < thr) {
					t.Fatalf("red-team pair %d of %d with true returns %.1f and %.1f (threshold %.1f)", i, len(pairs), tl, trr, thr)
				}
			}
			c := prefs.Left // inverted: the shorter balance wins
			if tl > trr {
				c = prefs.Right
			}
			cs = append(cs, prefs.Comparison{ID: uuid.NewString(), PairID: pr.ID, Choice: c, CreatedAt: time.Now(), ResponseMS: 900})
		}
		if _, err := st.AddComparisons(bg, p.ID, rater, cs, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if red == 0 {
		t.Fatal("no red-team pair in 4 rounds of a model taught to prefer the pole down")
	}
	t.Logf("%d red-team pairs", red)
}
