package store

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/prefer-rlhf/prefer/core/prefs"
)

// TestImportExactlyOnce exports a project's labels and imports them into a second database
// twice: the first import stores every comparison with its rater, pair and clips, the second
// stores nothing; an export of another env is refused.
func TestImportExactlyOnce(t *testing.T) {
	f := newFixture(t)
	cs := []prefs.Comparison{comparison(f.pair, prefs.Left), comparison(f.pair, prefs.Equal)}
	received := time.Now().Add(-30 * time.Second).Truncate(time.Millisecond)
	if _, err := f.s.AddComparisons(ctx, f.project.ID, f.rater.ID, cs, received); err != nil {
		t.Fatal(err)
	}
	var rows []ImportRow
	err := f.s.Export(ctx, f.project.ID, func(e *ExportRow) error {
		r := ImportRow{Comparison: prefs.Comparison{ID: e.ID, PairID: e.PairID, Choice: e.Choice, CreatedAt: e.CreatedAt, ResponseMS: e.ResponseMS},
			RaterID: e.RaterID, RaterName: e.RaterName, Excluded: true, ReceivedAt: e.ReceivedAt}
		json.Unmarshal(e.Left, &r.Left)
		json.Unmarshal(e.Right, &r.Right)
		rows = append(rows, r)
		return nil
	})
	if err != nil || len(rows) != 2 {
		t.Fatalf("export: %d rows, %v", len(rows), err)
	}

	dst := open(t, filepath.Join(t.TempDir(), "other.db"), Options{})
	p := &Project{ID: uuid.NewString(), Env: "CartPole-v1", Settings: DefaultSettings(), JoinCode: "XYZ789"}
	if err := dst.CreateProject(ctx, p); err != nil {
		t.Fatal(err)
	}
	res, err := dst.Import(ctx, p.ID, rows)
	if err != nil || res != (ImportResult{Accepted: 2}) {
		t.Fatalf("first import: %+v, %v", res, err)
	}
	res, err = dst.Import(ctx, p.ID, append(rows, rows[0]))
	if err != nil || res != (ImportResult{Duplicates: 3}) {
		t.Fatalf("second import: %+v, %v", res, err)
	}
	var got []ExportRow
	dst.Export(ctx, p.ID, func(e *ExportRow) error { got = append(got, *e); return nil })
	if len(got) != 2 {
		t.Fatalf("the second database holds %d comparisons, want 2", len(got))
	}
	for i, e := range got {
		if e.ID != rows[i].Comparison.ID || e.Choice != rows[i].Comparison.Choice || e.RaterID != f.rater.ID ||
			e.RaterName != "Ada" || !e.Excluded || !e.ReceivedAt.Equal(received) || string(e.Left) == "" {
			t.Errorf("imported row %d = %+v", i, e)
		}
	}
	c, err := dst.Counts(ctx, p.ID)
	if err != nil || c.Clips != 2 || c.Pairs != 1 || c.ActivePairs != 0 || c.Raters != 1 {
		t.Errorf("counts after import: %+v, %v", c, err)
	}

	q := &Project{ID: uuid.NewString(), Env: "Pendulum-v1", Settings: DefaultSettings(), JoinCode: "PEN123"}
	if err := dst.CreateProject(ctx, q); err != nil {
		t.Fatal(err)
	}
	if _, err := dst.Import(ctx, q.ID, rows); err == nil || !strings.Contains(err.Error(), "Pendulum-v1") {
		t.Errorf("a CartPole export into a Pendulum project: %v", err)
	}

	// An import that fails part way (its second pair is the first project's) writes nothing.
	o := &Project{ID: uuid.NewString(), Env: "CartPole-v1", Settings: DefaultSettings(), JoinCode: "OTH456"}
	if err := dst.CreateProject(ctx, o); err != nil {
		t.Fatal(err)
	}
	fresh := rows[0]
	fresh.Comparison.ID, fresh.Comparison.PairID, fresh.RaterID = uuid.NewString(), uuid.NewString(), uuid.NewString()
	fresh.Left.ID, fresh.Right.ID = uuid.NewString(), uuid.NewString()
	if _, err := dst.Import(ctx, o.ID, []ImportRow{fresh, rows[1]}); err == nil || !strings.Contains(err.Error(), "another project") {
		t.Errorf("an import onto another project's pair: %v", err)
	}
	if c, err := dst.Counts(ctx, o.ID); err != nil || c != (Counts{}) {
		t.Errorf("a refused import wrote %+v, %v", c, err)
	}
}
