package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/prefer-rlhf/prefer/core/query"
	"math"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/prefer-rlhf/prefer/core/prefs"
)

var ctx = context.Background()

func open(t *testing.T, path string, opt Options) *Store {
	t.Helper()
	s, err := Open(path, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// fixture makes a project with one rater, two clips and one pair.
type fixture struct {
	s       *Store
	project *Project
	rater   *Rater
	pair    string
	clips   []prefs.Clip
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	s := open(t, filepath.Join(t.TempDir(), "sub", "prefer.db"), Options{})
	p := &Project{ID: uuid.NewString(), Env: "CartPole-v1", Settings: DefaultSettings(), JoinCode: "ABC123"}
	if err := s.CreateProject(ctx, p); err != nil {
		t.Fatal(err)
	}
	r := &Rater{ID: uuid.NewString(), ProjectID: p.ID, Name: "Ada"}
	if err := s.CreateRater(ctx, r, "hash-ada"); err != nil {
		t.Fatal(err)
	}
	clips := []prefs.Clip{
		{ID: uuid.NewString(), Env: "CartPole-v1", StartState: []float64{0, 0, 0.01, 0}, Actions: [][]float64{{0}, {1}}},
		{ID: uuid.NewString(), Env: "CartPole-v1", PolicyVersion: 1, StartState: []float64{0, 0, -0.01, 0}, Actions: [][]float64{{1}, {1}}},
	}
	pair := uuid.NewString()
	if err := s.AddClipsAndPairs(ctx, p.ID, clips, []NewPair{{ID: pair, Left: clips[0].ID, Right: clips[1].ID, Priority: 1}}, true); err != nil {
		t.Fatal(err)
	}
	return &fixture{s, p, r, pair, clips}
}

func comparison(pair string, c prefs.Choice) prefs.Comparison {
	return prefs.Comparison{ID: uuid.NewString(), PairID: pair, Choice: c, CreatedAt: time.Now().Add(-time.Minute).Truncate(time.Millisecond), ResponseMS: 1200}
}

func TestMigrateFresh(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "a.db"), Options{})
	v, err := s.SchemaVersion(ctx)
	if err != nil || v != LatestVersion() || v < 2 {
		t.Fatalf("schema version %d, %v; want %d", v, err, LatestVersion())
	}
}

// TestMigrateUpgradesOlderFile makes a file at schema version 1 with data in it, then opens it
// with every migration: the data survives and the new tables and columns work.
func TestMigrateUpgradesOlderFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	old, err := Open(path, Options{MaxMigration: 1})
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := old.SchemaVersion(ctx); v != 1 {
		t.Fatalf("old file at version %d", v)
	}
	p := &Project{ID: "p1", Env: "CartPole-v1", Settings: DefaultSettings(), JoinCode: "OLD111"}
	if err := old.CreateProject(ctx, p); err != nil {
		t.Fatal(err)
	}
	// Version 1 has no last_seen_at column: insert a rater the way version 1 code would.
	if _, err := old.w.Exec(`INSERT INTO raters (id, project_id, name, token_hash, created_at) VALUES ('r1', 'p1', 'Old', 'h1', 1)`); err != nil {
		t.Fatal(err)
	}
	if _, err := old.w.Exec(`SELECT 1 FROM reward_models`); err == nil {
		t.Fatal("version 1 already has reward_models")
	}
	old.Close()

	s := open(t, path, Options{})
	if v, _ := s.SchemaVersion(ctx); v != LatestVersion() {
		t.Fatalf("upgraded to %d, want %d", v, LatestVersion())
	}
	got, err := s.ProjectByJoinCode(ctx, "OLD111")
	if err != nil || got.ID != "p1" {
		t.Fatalf("project after upgrade: %v %v", got, err)
	}
	if err := s.TouchRater(ctx, "r1", time.Now()); err != nil {
		t.Fatal(err)
	}
	rs, err := s.Raters(ctx, "p1")
	if err != nil || len(rs) != 1 || rs[0].LastSeen.IsZero() {
		t.Fatalf("raters after upgrade: %+v %v", rs, err)
	}
	if err := s.PublishRound(ctx, &Round{ProjectID: "p1", Model: &Model{Version: 1, Weights: json.RawMessage(`{}`), NumParams: 3}}); err != nil {
		t.Fatal(err)
	}
}

func TestMigrateRefusesNewerFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "new.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.w.Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'future.sql', 0)`, LatestVersion()+1); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := Open(path, Options{}); err == nil {
		t.Fatal("opened a file from a newer binary")
	}
}

func TestMigrationsArePortable(t *testing.T) {
	// The D1 Worker applies the same files: no PRAGMA, no transaction statements.
	ms, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		for _, bad := range []string{"PRAGMA", "pragma", "BEGIN", "COMMIT"} {
			if containsWord(m.sql, bad) {
				t.Errorf("%s contains %s", m.name, bad)
			}
		}
	}
}

func containsWord(s, w string) bool {
	for i := 0; i+len(w) <= len(s); i++ {
		if s[i:i+len(w)] == w {
			return true
		}
	}
	return false
}

func TestOpenBadOptions(t *testing.T) {
	if _, err := Open("", Options{}); err == nil {
		t.Error("empty path accepted")
	}
	if _, err := Open(filepath.Join(t.TempDir(), "x.db"), Options{Synchronous: "OFF"}); err == nil {
		t.Error("synchronous OFF accepted")
	}
}

func TestProjects(t *testing.T) {
	f := newFixture(t)
	s := f.s
	if _, err := s.Project(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing project: %v", err)
	}
	if err := s.CreateProject(ctx, &Project{ID: "p2", Env: "Pendulum-v1", Settings: DefaultSettings(), JoinCode: "ABC123"}); err == nil {
		t.Fatal("duplicate join code accepted")
	}
	if err := s.SetPaused(ctx, f.project.ID, true); err != nil {
		t.Fatal(err)
	}
	set := DefaultSettings()
	set.ClipSeconds = 2
	if err := s.SetSettings(ctx, f.project.ID, set); err != nil {
		t.Fatal(err)
	}
	p, err := s.Project(ctx, f.project.ID)
	if err != nil || !p.Paused || p.Settings.ClipSeconds != 2 || p.Env != "CartPole-v1" {
		t.Fatalf("project %+v %v", p, err)
	}
	if err := s.SetPaused(ctx, "nope", true); !errors.Is(err, ErrNotFound) {
		t.Fatalf("pause missing: %v", err)
	}
	ps, err := s.Projects(ctx)
	if err != nil || len(ps) != 1 {
		t.Fatalf("projects %v %v", ps, err)
	}
	if _, err := s.ServerSetting(ctx, "k"); !errors.Is(err, ErrNotFound) {
		t.Fatal(err)
	}
	s.SetServerSetting(ctx, "k", "a")
	s.SetServerSetting(ctx, "k", "b")
	if v, _ := s.ServerSetting(ctx, "k"); v != "b" {
		t.Fatalf("server setting %q", v)
	}
}

func TestSettingsValidate(t *testing.T) {
	if err := DefaultSettings().Validate(); err != nil {
		t.Fatal(err)
	}
	// Every strategy and objective of the loop is a valid setting.
	for _, q := range query.Strategies {
		s := DefaultSettings()
		s.Query, s.Objective, s.Robust = string(q), "uwo", true
		if err := s.Validate(); err != nil {
			t.Errorf("query %s: %v", q, err)
		}
	}
	for field, mut := range map[string]func(*Settings){
		"clip_seconds":         func(s *Settings) { s.ClipSeconds = math.NaN() },
		"query":                func(s *Settings) { s.Query = "best" },
		"pairs_per_round":      func(s *Settings) { s.PairsPerRound = 0 },
		"ppo_steps_per_round":  func(s *Settings) { s.PPOStepsPerRound = -1 },
		"max_model_staleness":  func(s *Settings) { s.MaxModelStaleness = -1 },
		"merge_clip_norm":      func(s *Settings) { s.MergeClipNorm = math.Inf(1) },
		"merge_trim":           func(s *Settings) { s.MergeTrim = 0.5 },
		"overlap":              func(s *Settings) { s.Overlap = 0 },
		"max_labels_per_rater": func(s *Settings) { s.MaxLabelsPerRater = -1 },
		"completion_url":       func(s *Settings) { s.CompletionURL = "mailto:x@y.org" },
		"instructions":         func(s *Settings) { s.Instructions = "\x1b[31m" },
		"objective":            func(s *Settings) { s.Objective = "max" },
		"text_method":          func(s *Settings) { s.TextMethod = "bon" },
		"text_kl_target":       func(s *Settings) { s.TextKLTarget = -1 },
		"uwo_lambda":           func(s *Settings) { s.UWOLambda = -0.1 },
		"reward_prior":         func(s *Settings) { s.RewardPrior = math.NaN() },
	} {
		s := DefaultSettings()
		mut(&s)
		var se *SettingsError
		if err := s.Validate(); !errors.As(err, &se) || se.Field != field {
			t.Errorf("%s: %v", field, err)
		}
	}
}

func TestRatersAndTokens(t *testing.T) {
	f := newFixture(t)
	s := f.s
	r, err := s.RaterByTokenHash(ctx, "hash-ada")
	if err != nil || r.ID != f.rater.ID || r.ProjectID != f.project.ID {
		t.Fatalf("rater %+v %v", r, err)
	}
	if _, err := s.RaterByTokenHash(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatal(err)
	}
	if err := s.SetExcluded(ctx, f.project.ID, f.rater.ID, true); err != nil {
		t.Fatal(err)
	}
	if err := s.SetExcluded(ctx, "other", f.rater.ID, true); !errors.Is(err, ErrNotFound) {
		t.Fatalf("exclude in another project: %v", err)
	}
	if r, _ := s.RaterByTokenHash(ctx, "hash-ada"); !r.Excluded {
		t.Fatal("not excluded")
	}
	if err := s.AddTeacherToken(ctx, "th", ""); err != nil {
		t.Fatal(err)
	}
	if err := s.AddTeacherToken(ctx, "th2", f.project.ID); err != nil {
		t.Fatal(err)
	}
	if pid, err := s.TeacherToken(ctx, "th"); err != nil || pid != "" {
		t.Fatalf("teacher token %q %v", pid, err)
	}
	if pid, err := s.TeacherToken(ctx, "th2"); err != nil || pid != f.project.ID {
		t.Fatalf("teacher token %q %v", pid, err)
	}
	if _, err := s.TeacherToken(ctx, "x"); !errors.Is(err, ErrNotFound) {
		t.Fatal(err)
	}
}

func TestComparisonsExactlyOnce(t *testing.T) {
	f := newFixture(t)
	s := f.s
	a, b := comparison(f.pair, prefs.Left), comparison(f.pair, prefs.Equal)
	res, err := s.AddComparisons(ctx, f.project.ID, f.rater.ID, []prefs.Comparison{a, b}, time.Now())
	if err != nil || len(res.Accepted) != 2 || len(res.Duplicates) != 0 {
		t.Fatalf("first: %+v %v", res, err)
	}
	c := comparison(f.pair, prefs.Right)
	res, err = s.AddComparisons(ctx, f.project.ID, f.rater.ID, []prefs.Comparison{b, c, a}, time.Now())
	if err != nil || fmt.Sprint(res.Accepted) != fmt.Sprint([]string{c.ID}) || fmt.Sprint(res.Duplicates) != fmt.Sprint([]string{b.ID, a.ID}) {
		t.Fatalf("re-send: %+v %v", res, err)
	}
	// Another rater re-using an id is told so and does not overwrite.
	other := &Rater{ID: uuid.NewString(), ProjectID: f.project.ID, Name: "Eve"}
	s.CreateRater(ctx, other, "hash-eve")
	a2 := a
	a2.Choice = prefs.Right
	res, err = s.AddComparisons(ctx, f.project.ID, other.ID, []prefs.Comparison{a2}, time.Now())
	if err != nil || len(res.Foreign) != 1 || len(res.Accepted) != 0 {
		t.Fatalf("foreign: %+v %v", res, err)
	}
	ls, err := s.Labels(ctx, f.project.ID, 0, false)
	if err != nil || len(ls) != 3 {
		t.Fatalf("labels %v %v", ls, err)
	}
	if ls[0].ID != a.ID || ls[0].Choice != prefs.Left || ls[0].Left != f.clips[0].ID || ls[0].Right != f.clips[1].ID {
		t.Fatalf("label 0 = %+v", ls[0])
	}
	if more, _ := s.Labels(ctx, f.project.ID, ls[1].Seq, false); len(more) != 1 || more[0].ID != c.ID {
		t.Fatalf("labels after seq: %v", more)
	}
	// Excluding the rater hides their labels from training but deletes nothing.
	s.SetExcluded(ctx, f.project.ID, f.rater.ID, true)
	if ls, _ := s.Labels(ctx, f.project.ID, 0, false); len(ls) != 0 {
		t.Fatalf("excluded labels used: %v", ls)
	}
	if ls, _ := s.Labels(ctx, f.project.ID, 0, true); len(ls) != 3 {
		t.Fatalf("excluded labels gone: %v", ls)
	}
	s.SetExcluded(ctx, f.project.ID, f.rater.ID, false)
	if ls, _ := s.Labels(ctx, f.project.ID, 0, false); len(ls) != 3 {
		t.Fatalf("restored labels: %v", ls)
	}
	cnt, err := s.Counts(ctx, f.project.ID)
	if err != nil || cnt.Comparisons != 3 || cnt.Raters != 2 || cnt.Pairs != 1 || cnt.Clips != 2 {
		t.Fatalf("counts %+v %v", cnt, err)
	}
	// The stored row keeps the client's time and response.
	var rows []ExportRow
	s.Export(ctx, f.project.ID, func(e *ExportRow) error { rows = append(rows, *e); return nil })
	if len(rows) != 3 || !rows[0].CreatedAt.Equal(a.CreatedAt) || rows[0].ResponseMS != 1200 || rows[0].RaterName != "Ada" || len(rows[0].Left) == 0 {
		t.Fatalf("export %+v", rows[0])
	}
}

// TestGroupCommitConcurrent sends many overlapping batches from many goroutines: every id is
// acknowledged exactly once as accepted and the table holds exactly the distinct ids.
func TestGroupCommitConcurrent(t *testing.T) {
	f := newFixture(t)
	s := f.s
	const workers, batches, per = 16, 10, 20
	var mu sync.Mutex
	accepted := map[string]int{}
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := 0; b < batches; b++ {
				cs := make([]prefs.Comparison, per)
				for i := range cs {
					cs[i] = comparison(f.pair, prefs.Left)
				}
				for try := 0; try < 2; try++ { // each batch is sent twice: a client retry
					res, err := s.AddComparisons(ctx, f.project.ID, f.rater.ID, cs, time.Now())
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					for _, id := range res.Accepted {
						accepted[id]++
					}
					mu.Unlock()
					if try == 1 && len(res.Duplicates) != per {
						t.Errorf("retry: %d duplicates", len(res.Duplicates))
					}
				}
			}
		}()
	}
	wg.Wait()
	n, _ := s.CountComparisons(ctx, f.project.ID)
	if n != workers*batches*per || len(accepted) != n {
		t.Fatalf("stored %d, accepted %d distinct, want %d", n, len(accepted), workers*batches*per)
	}
	for id, k := range accepted {
		if k != 1 {
			t.Fatalf("%s accepted %d times", id, k)
		}
	}
}

func TestClipsAndPairs(t *testing.T) {
	f := newFixture(t)
	s := f.s
	data, err := s.Clip(ctx, f.project.ID, f.clips[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	var c prefs.Clip
	if err := json.Unmarshal(data, &c); err != nil || c.ID != f.clips[0].ID || len(c.Actions) != 2 {
		t.Fatalf("clip %s %v", data, err)
	}
	if _, err := s.Clip(ctx, "other", f.clips[0].ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("clip of another project: %v", err)
	}
	if ok, _ := s.PairExists(ctx, f.project.ID, f.pair); !ok {
		t.Fatal("pair missing")
	}
	if ok, _ := s.PairExists(ctx, "other", f.pair); ok {
		t.Fatal("pair seen from another project")
	}
	// A second round of pairs replaces the first in what is served.
	p2, p3 := uuid.NewString(), uuid.NewString()
	err = s.AddClipsAndPairs(ctx, f.project.ID, nil, []NewPair{
		{ID: p2, Left: f.clips[1].ID, Right: f.clips[0].ID, Priority: 0.1},
		{ID: p3, Left: f.clips[0].ID, Right: f.clips[0].ID, Priority: 0.9},
	}, true)
	if err != nil {
		t.Fatal(err)
	}
	ps, err := s.PairsFor(ctx, f.project.ID, f.rater.ID, 10, nil)
	if err != nil || len(ps) != 2 || ps[0].ID != p3 || ps[1].ID != p2 {
		t.Fatalf("pairs %v %v", ps, err)
	}
	// Skipped and already labelled pairs are not served; the old pair still takes labels.
	s.AddComparisons(ctx, f.project.ID, f.rater.ID, []prefs.Comparison{comparison(p3, prefs.Left)}, time.Now())
	ps, _ = s.PairsFor(ctx, f.project.ID, f.rater.ID, 10, []string{p2})
	if len(ps) != 0 {
		t.Fatalf("pairs after label+skip: %v", ps)
	}
	if ok, _ := s.PairExists(ctx, f.project.ID, f.pair); !ok {
		t.Fatal("old pair gone")
	}
	cs, err := s.ClipsByID(ctx, f.project.ID, []string{f.clips[0].ID, f.clips[1].ID, "x"})
	if err != nil || len(cs) != 2 || cs[f.clips[1].ID].PolicyVersion != 1 {
		t.Fatalf("clips by id %v %v", cs, err)
	}
	bad := prefs.Clip{ID: "bad", Env: "CartPole-v1"}
	if err := s.AddClipsAndPairs(ctx, f.project.ID, []prefs.Clip{bad}, nil, false); err == nil {
		t.Fatal("invalid clip stored")
	}
}

func TestModelsUpdatesPolicies(t *testing.T) {
	f := newFixture(t)
	s := f.s
	pid := f.project.ID
	if v, _ := s.LatestModelVersion(ctx, pid); v != 0 {
		t.Fatalf("version %d before any", v)
	}
	if _, err := s.Model(ctx, pid, 0); !errors.Is(err, ErrNotFound) {
		t.Fatal(err)
	}
	u := &ModelUpdate{ID: uuid.NewString(), ProjectID: pid, RaterID: f.rater.ID, BaseVersion: 1, Labels: 7, Delta: []float32{0.5, -1, 2}, Metrics: map[string]float64{"reward/val_accuracy": 0.8, "bad": math.NaN()}}
	if dup, err := s.AddModelUpdate(ctx, u); dup || err != nil {
		t.Fatalf("add update %v %v", dup, err)
	}
	if dup, err := s.AddModelUpdate(ctx, u); !dup || err != nil {
		t.Fatalf("re-add update %v %v", dup, err)
	}
	other := &Rater{ID: uuid.NewString(), ProjectID: pid, Name: "Eve"}
	s.CreateRater(ctx, other, "hash-eve")
	u2 := *u
	u2.RaterID = other.ID
	if _, err := s.AddModelUpdate(ctx, &u2); !errors.Is(err, ErrForeignID) {
		t.Fatalf("foreign update id: %v", err)
	}
	ups, err := s.ModelUpdates(ctx, pid, "pending")
	if err != nil || len(ups) != 1 || ups[0].Labels != 7 || ups[0].Delta[2] != 2 || ups[0].Metrics["reward/val_accuracy"] != 0.8 {
		t.Fatalf("pending %+v %v", ups, err)
	}
	clip := prefs.Clip{ID: uuid.NewString(), Env: "CartPole-v1", PolicyVersion: 1, StartState: []float64{0, 0, 0, 0}, Actions: [][]float64{{1}}}
	newPair := uuid.NewString()
	err = s.PublishRound(ctx, &Round{
		ProjectID: pid, Round: 3, Checkpoint: []byte("state-3"),
		Model:  &Model{Version: 1, Weights: json.RawMessage(`{"format":"x"}`), NumParams: 3, Metrics: map[string]float64{"reward/val_accuracy": 0.7}},
		Policy: &Policy{Version: 1, Weights: []byte{1, 2}, LearnedReturn: 1.5, TrueReturn: math.NaN(), KL: 0.25, EnvSteps: 100, Labels: 2},
		Clips:  []prefs.Clip{clip}, Pairs: []NewPair{{ID: newPair, Left: clip.ID, Right: f.clips[0].ID}}, ReplacePairs: true,
		Merged: []string{u.ID},
	})
	if err != nil {
		t.Fatal(err)
	}
	m, err := s.Model(ctx, pid, 0)
	if err != nil || m.Version != 1 || m.NumParams != 3 || string(m.Weights) != `{"format":"x"}` || m.Metrics["reward/val_accuracy"] != 0.7 {
		t.Fatalf("model %+v %v", m, err)
	}
	if _, err := s.Model(ctx, pid, 2); !errors.Is(err, ErrNotFound) {
		t.Fatal(err)
	}
	if ups, _ := s.ModelUpdates(ctx, pid, "merged"); len(ups) != 1 || ups[0].MergedInto != 1 {
		t.Fatalf("merged %+v", ups)
	}
	p, err := s.LatestPolicy(ctx, pid)
	if err != nil || p.Version != 1 || p.LearnedReturn != 1.5 || !math.IsNaN(p.TrueReturn) || p.KL != 0.25 || p.EnvSteps != 100 {
		t.Fatalf("policy %+v %v", p, err)
	}
	if h, _ := s.PolicyHistory(ctx, pid, 10); len(h) != 1 || h[0].Weights != nil || h[0].KL != 0.25 {
		t.Fatalf("history %+v", h)
	}
	round, st, err := s.Checkpoint(ctx, pid)
	if err != nil || round != 3 || string(st) != "state-3" {
		t.Fatalf("checkpoint %d %q %v", round, st, err)
	}
	// A failing round leaves nothing behind: version 1 again conflicts.
	err = s.PublishRound(ctx, &Round{ProjectID: pid, Round: 4, Checkpoint: []byte("state-4"),
		Clips: []prefs.Clip{{ID: uuid.NewString(), Env: "CartPole-v1", StartState: []float64{0}, Actions: [][]float64{{0}}}},
		Model: &Model{Version: 1, Weights: json.RawMessage(`{}`)}})
	if err == nil {
		t.Fatal("duplicate model version published")
	}
	if round, _, _ := s.Checkpoint(ctx, pid); round != 3 {
		t.Fatalf("half a round was written: checkpoint round %d", round)
	}
	if c, _ := s.Counts(ctx, pid); c.Clips != 3 {
		t.Fatalf("half a round was written: %d clips", c.Clips)
	}
}

func TestDeltaCodec(t *testing.T) {
	d := []float32{1, -2.5, float32(math.Inf(1))}
	got, err := DecodeDelta(EncodeDelta(d))
	if err != nil || len(got) != 3 || got[1] != -2.5 {
		t.Fatal(got, err)
	}
	if _, err := DecodeDelta([]byte{1, 2, 3}); err == nil {
		t.Fatal("odd length accepted")
	}
}
