package store

import (
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
