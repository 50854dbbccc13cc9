package store

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/prefer-rlhf/prefer/core/prefs"
)

// TestMigrateCrowd makes a file at schema version 5 holding a project (its settings without
// the crowd fields), a rater and labels, then opens it with every migration: the labels
// survive, the project gets the default overlap, the rater no participant, and the new
// participant and token columns work.
func TestMigrateCrowd(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v5.db")
	old, err := Open(path, Options{MaxMigration: 5})
	if err != nil {
		t.Fatal(err)
	}
	// Version 5 code wrote settings without the crowd fields and raters without participant.
	if _, err := old.w.Exec(`INSERT INTO projects (id, env, settings, join_code, created_at) VALUES ('p1', 'CartPole-v1', '{"clip_seconds":1.5,"query":"random","pairs_per_round":50}', 'OLD555', 1)`); err != nil {
		t.Fatal(err)
	}
	if _, err := old.w.Exec(`INSERT INTO raters (id, project_id, name, token_hash, created_at) VALUES ('r1', 'p1', 'Old', 'h1', 1)`); err != nil {
		t.Fatal(err)
	}
	clips := []prefs.Clip{
		{ID: uuid.NewString(), Env: "CartPole-v1", StartState: []float64{0, 0, 0, 0}, Actions: [][]float64{{0}}},
		{ID: uuid.NewString(), Env: "CartPole-v1", StartState: []float64{0, 0, 0, 0}, Actions: [][]float64{{1}}},
	}
	pair := uuid.NewString()
	// As version 5 code wrote them (no pair tag).
	for _, c := range clips {
		if _, err := old.w.Exec(`INSERT INTO clips (id, project_id, env, policy_version, data, created_at) VALUES (?, 'p1', 'CartPole-v1', 0, '{}', 1)`, c.ID); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := old.w.Exec(`INSERT INTO pairs (id, project_id, left_clip, right_clip, priority, active, created_at) VALUES (?, 'p1', ?, ?, 0, 1, 1)`,
		pair, clips[0].ID, clips[1].ID); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if _, err := old.w.Exec(`INSERT INTO comparisons (id, project_id, rater_id, pair_id, choice, created_at, response_ms, received_at) VALUES (?, 'p1', 'r1', ?, 'left', 1, 2000, 2)`,
			uuid.NewString(), pair); err != nil {
			t.Fatal(err)
		}
	}
	old.Close()

	s := open(t, path, Options{})
	if v, _ := s.SchemaVersion(ctx); v != LatestVersion() || v < 6 {
		t.Fatalf("upgraded to %d, want %d", v, LatestVersion())
	}
	p, err := s.Project(ctx, "p1")
	if err != nil || p.Settings.Overlap != 3 || p.Settings.MaxLabelsPerRater != 0 || p.Settings.Query != "random" ||
		p.Settings.Objective != "mean" || p.Settings.UWOLambda != 0.5 || p.Settings.Robust {
		t.Fatalf("project after upgrade: %+v %v", p, err)
	}
	if n, _ := s.CountComparisons(ctx, "p1"); n != 3 {
		t.Fatalf("%d labels after upgrade, want 3", n)
	}
	if n, err := s.RaterLabels(ctx, "r1"); err != nil || n != 3 {
		t.Fatalf("the rater's label count after upgrade: %d %v", n, err)
	}
	// The pair's rater count is backfilled: one rater labelled it (three times).
	if l, f, err := s.PairCoverage(ctx, "p1", 1); err != nil || l != 1 || f != 1 {
		t.Fatalf("coverage after upgrade: %d labelled, %d at overlap 1, %v", l, f, err)
	}
	if l, f, _ := s.PairCoverage(ctx, "p1", 2); l != 1 || f != 0 {
		t.Fatalf("coverage at overlap 2 after upgrade: %d, %d", l, f)
	}
	rs, err := s.Raters(ctx, "p1")
	if err != nil || len(rs) != 1 || rs[0].Participant != "" || rs[0].Comparisons != 3 || rs[0].ActiveMS != 6000 || rs[0].MedianMS != 2000 {
		t.Fatalf("raters after upgrade: %+v %v", rs, err)
	}
	// The old rater gets a second device's token; a crowd rater joins.
	if err := s.AddRaterToken(ctx, "r1", "h1b", time.Now()); err != nil {
		t.Fatal(err)
	}
	if r, err := s.RaterByTokenHash(ctx, "h1b"); err != nil || r.ID != "r1" {
		t.Fatalf("second token: %+v %v", r, err)
	}
	if r, err := s.RaterByTokenHash(ctx, "h1"); err != nil || r.ID != "r1" {
		t.Fatalf("first token: %+v %v", r, err)
	}
	crowd := &Rater{ID: "r2", ProjectID: "p1", Name: "abc", Participant: "abc"}
	if err := s.CreateRater(ctx, crowd, "h2"); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateRater(ctx, &Rater{ID: "r3", ProjectID: "p1", Name: "x", Participant: "abc"}, "h3"); err != ErrParticipantTaken {
		t.Fatalf("a second rater with the same participant: %v", err)
	}
	if err := s.CreateRater(ctx, &Rater{ID: "r4", ProjectID: "p1", Name: "y"}, "h4"); err != nil {
		t.Fatalf("two raters without participant: %v", err)
	}
	if r, err := s.RaterByParticipant(ctx, "p1", "abc"); err != nil || r.ID != "r2" {
		t.Fatalf("by participant: %+v %v", r, err)
	}
	if _, err := s.RaterByParticipant(ctx, "p1", ""); err != ErrNotFound {
		t.Fatalf("empty participant: %v", err)
	}
}

// TestQuotaInsert: the insert stops at the cap in batch order, sorts the rest into quota,
// duplicates and foreign ids, and counts the rater's labels. Every request is received in the
// same millisecond, which once made the pair's rater count take Ada twice (172 of 500 runs with
// time.Now(); see TestPairRatersOnePerRater).
func TestQuotaInsert(t *testing.T) {
	f := newFixture(t)
	now := time.UnixMilli(1_800_000_000_000)
	other := &Rater{ID: uuid.NewString(), ProjectID: f.project.ID, Name: "Bob"}
	if err := f.s.CreateRater(ctx, other, "hash-bob"); err != nil {
		t.Fatal(err)
	}
	bobs := comparison(f.pair, prefs.Left)
	if _, err := f.s.AddComparisons(ctx, f.project.ID, other.ID, []prefs.Comparison{bobs}, now); err != nil {
		t.Fatal(err)
	}
	var cs []prefs.Comparison
	for i := 0; i < 4; i++ {
		cs = append(cs, comparison(f.pair, prefs.Right))
	}
	res, err := f.s.AddComparisonsCapped(ctx, f.project.ID, f.rater.ID, cs[:2], now, 3)
	if err != nil || len(res.Accepted) != 2 || res.Labels != 2 {
		t.Fatalf("under the cap: %+v %v", res, err)
	}
	// Two stored (duplicates), Bob's id (foreign), then two new of which one fits.
	batch := []prefs.Comparison{cs[0], bobs, cs[2], cs[1], cs[3]}
	res, err = f.s.AddComparisonsCapped(ctx, f.project.ID, f.rater.ID, batch, now, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Accepted) != 1 || res.Accepted[0] != cs[2].ID || len(res.Quota) != 1 || res.Quota[0] != cs[3].ID ||
		len(res.Duplicates) != 2 || len(res.Foreign) != 1 || res.Labels != 3 {
		t.Fatalf("at the cap: %+v", res)
	}
	if n, _ := f.s.RaterLabels(ctx, f.rater.ID); n != 3 {
		t.Fatalf("rater labels %d", n)
	}
	// Two raters labelled the one pair, however many times each.
	if l, full, err := f.s.PairCoverage(ctx, f.project.ID, 2); err != nil || l != 1 || full != 1 {
		t.Fatalf("coverage %d %d %v", l, full, err)
	}
	if l, full, _ := f.s.PairCoverage(ctx, f.project.ID, 3); l != 1 || full != 0 {
		t.Fatalf("coverage at overlap 3: %d %d", l, full)
	}
}

// TestRedTeamPairs: a red-team pair keeps its tag and, at RedTeamPriority, is served before
// the trainer's ordinary pairs.
func TestRedTeamPairs(t *testing.T) {
	f := newFixture(t)
	red := uuid.NewString()
	if err := f.s.AddClipsAndPairs(ctx, f.project.ID, nil, []NewPair{{ID: red, Left: f.clips[1].ID, Right: f.clips[0].ID, Priority: RedTeamPriority, Tag: TagRedTeam}}, false); err != nil {
		t.Fatal(err)
	}
	ps, err := f.s.PairsFor(ctx, f.project.ID, f.rater.ID, 10, nil)
	if err != nil || len(ps) != 2 || ps[0].ID != red || ps[0].Tag != TagRedTeam || ps[1].ID != f.pair || ps[1].Tag != "" {
		t.Fatalf("pairs %+v %v; want the red-team pair first, tagged, then the ordinary one", ps, err)
	}
	if ValidTag("blue_team") || !ValidTag("") || !ValidTag(TagRedTeam) {
		t.Error("ValidTag")
	}
}
