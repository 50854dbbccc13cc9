package store

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/prefer-rlhf/prefer/core/prefs"
)

// raters reads a pair's rater count (pairs.raters), which the overlap and PairCoverage use.
func (f *fixture) raters(t *testing.T, pair string) int {
	t.Helper()
	var n int
	if err := f.s.r.QueryRowContext(ctx, `SELECT raters FROM pairs WHERE id = ?1`, pair).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestPairRatersOnePerRater: a pair's rater count grows by one for each rater's first label
// on it, whatever the requests' times. Before, a later request of the same rater received in
// the same millisecond counted the rater again (the count told this request's rows by their
// received_at), and TestQuotaInsert failed when its two inserts fell in one millisecond.
func TestPairRatersOnePerRater(t *testing.T) {
	f := newFixture(t)
	second := uuid.NewString()
	if err := f.s.AddClipsAndPairs(ctx, f.project.ID, nil, []NewPair{{ID: second, Left: f.clips[1].ID, Right: f.clips[0].ID}}, false); err != nil {
		t.Fatal(err)
	}
	now := time.UnixMilli(1_800_000_000_000)
	first := comparison(f.pair, prefs.Left)
	if _, err := f.s.AddComparisons(ctx, f.project.ID, f.rater.ID, []prefs.Comparison{first}, now); err != nil {
		t.Fatal(err)
	}
	// The same millisecond: a re-send and a new label on the same pair.
	res, err := f.s.AddComparisons(ctx, f.project.ID, f.rater.ID, []prefs.Comparison{first, comparison(f.pair, prefs.Right)}, now)
	if err != nil || len(res.Accepted) != 1 || len(res.Duplicates) != 1 {
		t.Fatalf("second request: %+v %v", res, err)
	}
	if n := f.raters(t, f.pair); n != 1 {
		t.Fatalf("one rater labelled the pair in two requests of one millisecond: raters %d, want 1", n)
	}

	// Two requests of one rater in one group commit (two devices), the same millisecond.
	bob := &Rater{ID: uuid.NewString(), ProjectID: f.project.ID, Name: "Bob"}
	if err := f.s.CreateRater(ctx, bob, "hash-bob"); err != nil {
		t.Fatal(err)
	}
	var group []*commitReq
	for range 2 {
		items, err := InsertItems([]prefs.Comparison{comparison(second, prefs.Left)})
		if err != nil {
			t.Fatal(err)
		}
		group = append(group, &commitReq{projectID: f.project.ID, raterID: bob.ID, items: items, n: 1, received: now.UnixMilli()})
	}
	out, err := f.s.commit.write(group)
	if err != nil || len(out[0].inserted) != 1 || len(out[1].inserted) != 1 {
		t.Fatalf("group: %+v %v", out, err)
	}
	if n := f.raters(t, second); n != 1 {
		t.Fatalf("one rater's two requests in one group: raters %d, want 1", n)
	}

	// Labels not stored do not count: another rater sending Ada's id on the first pair
	// (foreign), and labels over the rater's cap (quota).
	eve := &Rater{ID: uuid.NewString(), ProjectID: f.project.ID, Name: "Eve"}
	if err := f.s.CreateRater(ctx, eve, "hash-eve"); err != nil {
		t.Fatal(err)
	}
	res, err = f.s.AddComparisonsCapped(ctx, f.project.ID, eve.ID, []prefs.Comparison{first}, now, 1)
	if err != nil || len(res.Foreign) != 1 {
		t.Fatalf("foreign: %+v %v", res, err)
	}
	if n := f.raters(t, f.pair); n != 1 {
		t.Fatalf("a foreign id counted its sender as a rater of the pair: raters %d, want 1", n)
	}
	batch := []prefs.Comparison{comparison(second, prefs.Left), comparison(f.pair, prefs.Right), comparison(second, prefs.Equal)}
	res, err = f.s.AddComparisonsCapped(ctx, f.project.ID, eve.ID, batch, now, 1)
	if err != nil || len(res.Accepted) != 1 || res.Accepted[0] != batch[0].ID || len(res.Quota) != 2 {
		t.Fatalf("capped: %+v %v", res, err)
	}
	if n := f.raters(t, second); n != 2 {
		t.Fatalf("second pair: raters %d, want 2 (Bob and Eve)", n)
	}
	if n := f.raters(t, f.pair); n != 1 {
		t.Fatalf("a label refused for the quota counted: raters %d, want 1", n)
	}
}

// TestMigrateRecountsPairRaters: a file at schema version 9 whose pair counts a rater twice
// (as the old count could) is recounted from its labels on opening.
func TestMigrateRecountsPairRaters(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v9.db")
	old, err := Open(path, Options{MaxMigration: 9})
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`INSERT INTO projects (id, env, settings, join_code, created_at) VALUES ('p1', 'CartPole-v1', '{}', 'OLD999', 1)`,
		`INSERT INTO clips (id, project_id, env, policy_version, data, created_at) VALUES ('c1', 'p1', 'CartPole-v1', 0, '{}', 1), ('c2', 'p1', 'CartPole-v1', 0, '{}', 1)`,
		`INSERT INTO pairs (id, project_id, left_clip, right_clip, priority, active, created_at, raters) VALUES ('a', 'p1', 'c1', 'c2', 0, 1, 1, 3), ('b', 'p1', 'c2', 'c1', 0, 1, 1, 0)`,
		`INSERT INTO comparisons (id, project_id, rater_id, pair_id, choice, created_at, response_ms, received_at) VALUES
			('x1', 'p1', 'r1', 'a', 'left', 1, 900, 5), ('x2', 'p1', 'r1', 'a', 'right', 1, 900, 5), ('x3', 'p1', 'r2', 'a', 'left', 1, 900, 6)`,
	} {
		if _, err := old.w.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	old.Close()
	f := &fixture{s: open(t, path, Options{})}
	if a, b := f.raters(t, "a"), f.raters(t, "b"); a != 2 || b != 0 {
		t.Fatalf("pair raters after upgrade: %d, %d; want 2, 0", a, b)
	}
}
