package trainer

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/prefer-rlhf/prefer/core/env"
	"github.com/prefer-rlhf/prefer/core/loop"
	"github.com/prefer-rlhf/prefer/core/oracle"
	"github.com/prefer-rlhf/prefer/core/prefs"
	"github.com/prefer-rlhf/prefer/server/store"
)

var bg = context.Background()

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// setup opens a store with one CartPole project whose settings keep rounds small.
func setup(t *testing.T, mod func(*store.Settings)) (*store.Store, *store.Project, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "t.db")
	st, err := store.Open(path, store.Options{Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	set := store.DefaultSettings()
	set.PairsPerRound = 10
	set.PPOStepsPerRound = 1024
	if mod != nil {
		mod(&set)
	}
	// A fixed id per test: the trainer's seeds mix it in, so runs repeat.
	id := uuid.NewSHA1(uuid.NameSpaceURL, []byte(t.Name())).String()
	p := &store.Project{ID: id, Env: "CartPole-v1", Settings: set, JoinCode: "T1T1T1"}
	if err := st.CreateProject(bg, p); err != nil {
		t.Fatal(err)
	}
	r := &store.Rater{ID: uuid.NewString(), ProjectID: p.ID, Name: "oracle"}
	if err := st.CreateRater(bg, r, "h"); err != nil {
		t.Fatal(err)
	}
	return st, p, r.ID
}

func newTrainer(t *testing.T, st *store.Store) *Trainer {
	t.Helper()
	tr, err := New(st, Config{MinNewLabels: 1, EvalEpisodes: 5, RefitUpdates: 2, MinRefitSteps: 4, Workers: 1, Log: quiet(), KeepWorse: true})
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// label answers every active pair for the rater with a perfect synthetic rater on the clips'
// true fixed-horizon returns, through the store.
func label(t *testing.T, st *store.Store, pid, rater string, rng *rand.Rand) int {
	t.Helper()
	pairs, err := st.PairsFor(bg, pid, rater, 1000, nil)
	if err != nil {
		t.Fatal(err)
	}
	var cs []prefs.Comparison
	for _, p := range pairs {
		var l, r prefs.Clip
		mustJSON(t, p.Left, &l)
		mustJSON(t, p.Right, &r)
		rl, err := TrueReturn(l)
		if err != nil {
			t.Fatal(err)
		}
		rr, _ := TrueReturn(r)
		ch := oracle.Rater{}.Choose(rng, rl, rr)
		cs = append(cs, prefs.Comparison{ID: uuid.NewString(), PairID: p.ID, Choice: ch, CreatedAt: time.Now(), ResponseMS: 900})
	}
	if _, err := st.AddComparisons(bg, pid, rater, cs, time.Now()); err != nil {
		t.Fatal(err)
	}
	return len(cs)
}

func TestFirstRoundBootstraps(t *testing.T) {
	st, p, rater := setup(t, nil)
	tr := newTrainer(t, st)
	if err := tr.Step(bg); err != nil {
		t.Fatal(err)
	}
	pairs, _ := st.PairsFor(bg, p.ID, rater, 100, nil)
	if len(pairs) != 10 {
		t.Fatalf("%d pairs after the first round, want 10", len(pairs))
	}
	m, err := st.Model(bg, p.ID, 0)
	if err != nil || m.Version != 1 || m.NumParams == 0 {
		t.Fatalf("model %+v %v", m, err)
	}
	if v, _ := st.LatestPolicyVersion(bg, p.ID); v != 0 {
		t.Fatalf("policy version %d before any label", v)
	}
	// Every clip is a random-policy clip of 1.5 s of CartPole (75 steps) that replays.
	var c prefs.Clip
	mustJSON(t, pairs[0].Left, &c)
	if c.PolicyVersion != 0 || len(c.Actions) != 75 || c.Env != "CartPole-v1" {
		t.Fatalf("clip %+v", c)
	}
	if _, _, _, err := env.Replay(c.Env, c.StartState, c.Actions); err != nil {
		t.Fatal(err)
	}
	// Nothing new: no second round.
	if err := tr.Step(bg); err != nil {
		t.Fatal(err)
	}
	if v, _ := st.LatestModelVersion(bg, p.ID); v != 1 {
		t.Fatalf("a round ran with nothing new: model version %d", v)
	}
}

// TestRoundsLearnAndResume labels pairs with a synthetic rater for a few rounds: each round
// publishes a model and a policy with returns; then a new trainer on the same store (a
// restart) resumes from the checkpoint instead of starting over.
func TestRoundsLearnAndResume(t *testing.T) {
	st, p, rater := setup(t, nil)
	rng := rand.New(rand.NewPCG(1, 2))
	tr := newTrainer(t, st)
	if err := tr.Step(bg); err != nil {
		t.Fatal(err)
	}
	for round := 0; round < 3; round++ {
		if n := label(t, st, p.ID, rater, rng); n == 0 {
			t.Fatal("no pairs to label")
		}
		if err := tr.Step(bg); err != nil {
			t.Fatal(err)
		}
	}
	m, _ := st.Model(bg, p.ID, 0)
	if m.Version != 4 || m.Metrics["reward/labels"] != 30 {
		t.Fatalf("model version %d metrics %v", m.Version, m.Metrics)
	}
	if _, ok := m.Metrics["reward/val_accuracy"]; !ok {
		t.Fatalf("no validation accuracy in %v", m.Metrics)
	}
	pol, err := st.LatestPolicy(bg, p.ID)
	if err != nil || pol.Version != 3 || math.IsNaN(pol.TrueReturn) || math.IsNaN(pol.LearnedReturn) || pol.EnvSteps < 3*1024 || pol.Labels != 30 {
		t.Fatalf("policy %+v %v", pol, err)
	}
	// Each policy carries its KL from the initial policy: positive and finite once PPO has
	// moved it. (It need not grow round on round: a policy can move back towards its start
	// on a changing learned reward; ppo's own tests check that training raises it.)
	hist, _ := st.PolicyHistory(bg, p.ID, 10)
	if len(hist) != 3 {
		t.Fatalf("%d policies, want 3", len(hist))
	}
	for _, h := range hist {
		if !(h.KL > 0) || math.IsInf(h.KL, 0) {
			t.Fatalf("KL from the initial policy by version: %v", klOf(hist))
		}
	}
	// Later rounds mix clips of the newest, older and random policies.
	pairs, _ := st.PairsFor(bg, p.ID, rater, 100, nil)
	versions := map[int]bool{}
	for _, pr := range pairs {
		var c prefs.Clip
		mustJSON(t, pr.Left, &c)
		versions[c.PolicyVersion] = true
	}
	if !versions[3] {
		t.Fatalf("no clip from the newest policy: %v", versions)
	}

	// A restart: a new trainer resumes at round 4 with the same versions.
	round, _, err := st.Checkpoint(bg, p.ID)
	if err != nil || round != 4 {
		t.Fatalf("checkpoint round %d %v", round, err)
	}
	tr2 := newTrainer(t, st)
	// It resumes PPO where it stopped: the same optimiser moments and place in the step-size
	// schedule, not a fresh Adam at the top of it.
	want := tr.projects[p.ID].clip.Trainer().State()
	resumed, err := tr2.project(bg, p)
	if err != nil {
		t.Fatal(err)
	}
	if got := resumed.clip.Trainer().State(); got.EnvSteps != want.EnvSteps || got.AdamT != want.AdamT || got.AdamT == 0 ||
		!slices.Equal(got.AdamM, want.AdamM) || !slices.Equal(got.AdamV, want.AdamV) {
		t.Fatalf("resumed PPO at %d steps, %d Adam steps; saved at %d, %d", got.EnvSteps, got.AdamT, want.EnvSteps, want.AdamT)
	}
	label(t, st, p.ID, rater, rng)
	if err := tr2.Step(bg); err != nil {
		t.Fatal(err)
	}
	if v, _ := st.LatestModelVersion(bg, p.ID); v != 5 {
		t.Fatalf("after resume, model version %d, want 5", v)
	}
	pol2, _ := st.LatestPolicy(bg, p.ID)
	if pol2.Version != 4 || pol2.EnvSteps <= pol.EnvSteps {
		t.Fatalf("after resume, policy %d with %d steps (before: %d)", pol2.Version, pol2.EnvSteps, pol.EnvSteps)
	}
	// The resumed trainer measures the KL from the same initial policy, which it remade from
	// the project's seed rather than the checkpoint.
	a, b := tr.projects[p.ID].clip.Initial().Params(), tr2.projects[p.ID].clip.Initial().Params()
	if !slices.Equal(a, b) || !(pol2.KL > 0) || math.IsNaN(pol2.KL) {
		t.Fatalf("after resume: same initial policy %v, KL %v", slices.Equal(a, b), pol2.KL)
	}
}

func klOf(ps []store.Policy) []float64 {
	var out []float64
	for _, p := range ps {
		out = append(out, p.KL)
	}
	return out
}

func TestPausedProjectWaits(t *testing.T) {
	st, p, _ := setup(t, nil)
	st.SetPaused(bg, p.ID, true)
	tr := newTrainer(t, st)
	tr.Step(bg)
	if v, _ := st.LatestModelVersion(bg, p.ID); v != 0 {
		t.Fatal("a paused project trained")
	}
	st.SetPaused(bg, p.ID, false)
	tr.Step(bg)
	if v, _ := st.LatestModelVersion(bg, p.ID); v != 1 {
		t.Fatal("a resumed project did not train")
	}
}

func TestCadence(t *testing.T) {
	st, p, rater := setup(t, nil)
	now := time.Unix(1e9, 0)
	tr, _ := New(st, Config{Interval: time.Minute, MinNewLabels: 5, PausedSteps: 1, EvalEpisodes: 2, RefitUpdates: 1, Workers: 1, Log: quiet(),
		Now: func() time.Time { return now }})
	tr.Step(bg)
	rng := rand.New(rand.NewPCG(3, 4))
	label(t, st, p.ID, rater, rng)
	tr.Step(bg) // too soon
	if v, _ := st.LatestModelVersion(bg, p.ID); v != 1 {
		t.Fatalf("round before the interval: version %d", v)
	}
	now = now.Add(time.Minute)
	tr.Step(bg)
	if v, _ := st.LatestModelVersion(bg, p.ID); v != 2 {
		t.Fatalf("no round after the interval: version %d", v)
	}
	// Fewer new labels than MinNewLabels: no round.
	pairs, _ := st.PairsFor(bg, p.ID, rater, 2, nil)
	st.AddComparisons(bg, p.ID, rater, []prefs.Comparison{{ID: uuid.NewString(), PairID: pairs[0].ID, Choice: prefs.Left, CreatedAt: now, ResponseMS: 1}}, now)
	now = now.Add(time.Hour)
	tr.Step(bg)
	// Labels pause: PPO goes on on the same reward model, one round, until PausedSteps. (It
	// publishes a policy only if the update did not lower the return under r̂: TrainKept.)
	round, steps := checkpointed(t, st, p.ID)
	if v, _ := st.LatestModelVersion(bg, p.ID); v != 2 {
		t.Fatalf("round with too few labels refitted: model version %d", v)
	}
	now = now.Add(time.Hour)
	tr.Step(bg)
	if r, s := checkpointed(t, st, p.ID); r != round || s != steps {
		t.Fatalf("a round after the paused budget: round %d -> %d, env steps %d -> %d", round, r, steps, s)
	}
	if r, s := checkpointed(t, st, p.ID); r != 3 || s != 2*1024 {
		t.Fatalf("after the first round, one with labels and one paused: round %d, env steps %d", r, s)
	}
	if v, _ := st.LatestModelVersion(bg, p.ID); v != 2 {
		t.Fatalf("paused rounds refitted: model version %d", v)
	}
}

// checkpointed is the round and the PPO env steps of project pid's last checkpoint.
func checkpointed(t *testing.T, st *store.Store, pid string) (round int, envSteps int64) {
	t.Helper()
	round, b, err := st.Checkpoint(bg, pid)
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		EnvSteps int64 `json:"env_steps"`
	}
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return round, c.EnvSteps
}

func TestMergeAndReject(t *testing.T) {
	st, p, rater := setup(t, func(s *store.Settings) { s.MaxModelStaleness = 1 })
	tr := newTrainer(t, st)
	tr.Step(bg) // model v1
	m1, _ := st.Model(bg, p.ID, 1)
	n := m1.NumParams
	small := make([]float32, n)
	for i := range small {
		small[i] = 1e-3
	}
	add := func(base, length int) string {
		d := small
		if length != n {
			d = make([]float32, length)
		}
		u := &store.ModelUpdate{ID: uuid.NewString(), ProjectID: p.ID, RaterID: rater, BaseVersion: base, Labels: 5, Delta: d}
		if _, err := st.AddModelUpdate(bg, u); err != nil {
			t.Fatal(err)
		}
		return u.ID
	}
	good, short := add(1, n), add(1, 3)
	if err := tr.Step(bg); err != nil {
		t.Fatal(err)
	}
	ups, _ := st.ModelUpdates(bg, p.ID, "")
	status := map[string]store.ModelUpdate{}
	for _, u := range ups {
		status[u.ID] = u
	}
	if status[good].Status != "merged" || status[good].MergedInto != 2 {
		t.Fatalf("good update %+v", status[good])
	}
	if status[short].Status != "rejected" || status[short].Reason == "" {
		t.Fatalf("short update %+v", status[short])
	}
	// The merge moved the model by the (averaged) delta: version 2 = version 1 + delta.
	m2, _ := st.Model(bg, p.ID, 2)
	if m2.Metrics["merge/updates"] != 1 {
		t.Fatalf("merge metrics %v", m2.Metrics)
	}
	// An update against version 1 is now too old once version 3 exists (max staleness 1).
	label(t, st, p.ID, rater, rand.New(rand.NewPCG(5, 6)))
	tr.Step(bg) // v3 from labels
	stale := add(1, n)
	tr.Step(bg)
	ups, _ = st.ModelUpdates(bg, p.ID, "rejected")
	found := false
	for _, u := range ups {
		if u.ID == stale {
			found = true
			if u.Reason == "" {
				t.Fatal("no reason")
			}
		}
	}
	if !found {
		t.Fatalf("stale update not rejected: %+v", ups)
	}
}

// TestExclusionRefits: excluding a rater changes the label set other than by growth, so the
// next round refits from scratch without their labels; restoring brings them back.
func TestExclusionRefits(t *testing.T) {
	st, p, rater := setup(t, nil)
	other := &store.Rater{ID: uuid.NewString(), ProjectID: p.ID, Name: "other"}
	st.CreateRater(bg, other, "h2")
	tr := newTrainer(t, st)
	tr.Step(bg)
	rng := rand.New(rand.NewPCG(7, 8))
	label(t, st, p.ID, rater, rng)
	label(t, st, p.ID, other.ID, rng)
	tr.Step(bg)
	if pr := tr.projects[p.ID]; pr.data.Len() != 20 || pr.lineage != 1 {
		t.Fatalf("before exclusion: %d labels, lineage %d", pr.data.Len(), pr.lineage)
	}
	st.SetExcluded(bg, p.ID, rater, true)
	if err := tr.Step(bg); err != nil {
		t.Fatal(err)
	}
	pr := tr.projects[p.ID]
	if pr.data.Len() != 10 || pr.lineage != pr.modelVersion || pr.modelVersion != 3 {
		t.Fatalf("after exclusion: %d labels, lineage %d, version %d", pr.data.Len(), pr.lineage, pr.modelVersion)
	}
	st.SetExcluded(bg, p.ID, rater, false)
	if err := tr.Step(bg); err != nil {
		t.Fatal(err)
	}
	if pr := tr.projects[p.ID]; pr.data.Len() != 20 || pr.lineage != 4 {
		t.Fatalf("restored: %d labels, lineage %d, version %d", pr.data.Len(), pr.lineage, pr.modelVersion)
	}
}

func TestTrueReturnAndSegments(t *testing.T) {
	e, _ := horizonEnv("CartPole-v1")
	rng := rand.New(rand.NewPCG(9, 9))
	c := candidateOf(e.Spec(), loop.Roll(e, nil, 3, 20, rng))
	seg, err := segmentOf(c.clip)
	if err != nil {
		t.Fatal(err)
	}
	for i := range seg.Obs {
		if seg.Obs[i] != c.seg.Obs[i] || seg.Next[i] != c.seg.Next[i] {
			t.Fatal("replayed segment differs from the recorded one")
		}
	}
	r, err := TrueReturn(c.clip)
	if err != nil || r < 0 || r > 20 {
		t.Fatalf("true return %v %v", r, err)
	}
	bad := c.clip
	bad.StartState = []float64{1}
	if _, err := segmentOf(bad); err == nil {
		t.Fatal("bad state replayed")
	}
}

func TestConfigErrors(t *testing.T) {
	for _, c := range []Config{{Interval: -1}, {RandomShare: 0.8, OldShare: 0.5}, {Workers: -2}} {
		if _, err := New(nil, c); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
	if backoff(1) != time.Second || backoff(100) != 5*time.Minute {
		t.Fatal("backoff")
	}
}

// TestTrueReturnOfBehaviour: a behaviour has no built-in reward, so a clip's true return is
// its scripted checker's score, not the env's zero reward.
func TestTrueReturnOfBehaviour(t *testing.T) {
	e, err := horizonEnv("PendulumSpin-v0")
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 3))
	nonzero := false
	for i := 0; i < 5; i++ {
		c := candidateOf(e.Spec(), loop.Roll(e, nil, 0, 60, rng))
		got, err := TrueReturn(c.clip)
		if err != nil {
			t.Fatal(err)
		}
		want, err := env.ScoreClip(c.clip.Env, c.clip.StartState, c.clip.Actions)
		if err != nil || got != want {
			t.Fatalf("true return %v, checker %v (%v)", got, want, err)
		}
		nonzero = nonzero || got != 0
	}
	if !nonzero {
		t.Error("five random clips all scored 0: the checker is not in use")
	}
}

// TestZeroConfigIsDefault: a trainer made with a zero Config draws clips from the random and
// older policies and keeps old policies as DefaultConfig says, rather than silently none.
func TestZeroConfigIsDefault(t *testing.T) {
	tr, err := New(nil, Config{})
	if err != nil {
		t.Fatal(err)
	}
	d := DefaultConfig()
	got := tr.cfg
	if got.RandomShare != d.RandomShare || got.OldShare != d.OldShare || got.OldPolicies != d.OldPolicies || got.Seed != d.Seed {
		t.Fatalf("zero config: RandomShare %v OldShare %v OldPolicies %d Seed %d; DefaultConfig has %v %v %d %d",
			got.RandomShare, got.OldShare, got.OldPolicies, got.Seed, d.RandomShare, d.OldShare, d.OldPolicies, d.Seed)
	}
	if d.RandomShare <= 0 || d.OldShare <= 0 || d.OldPolicies <= 0 {
		t.Fatal("DefaultConfig shows no random or old-policy clips")
	}
}
