package d1

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/prefer-rlhf/prefer/core/prefs"
	"github.com/prefer-rlhf/prefer/server/store"
)

// AddComparisons stores a rater's comparisons with no cap; see AddComparisonsCapped.
func (s *Store) AddComparisons(ctx context.Context, projectID, raterID string, cs []prefs.Comparison, received time.Time) (store.SyncResult, error) {
	return s.AddComparisonsCapped(ctx, projectID, raterID, cs, received, 0)
}

// AddComparisonsCapped stores a rater's comparisons exactly once each, keyed by their UUIDs,
// in order until the rater holds max (0: no cap), in one D1 batch (one transaction): the
// pairs' rater counts grow first (store.SQLCountPairRaters), the insert reports which ids were
// new (RETURNING), a select after it finds which of the others are stored and whose, and a
// count gives the rater's total. It returns after D1 has committed
// the batch. The caller has validated the comparisons and checked their pairs; ids are
// distinct within cs.
func (s *Store) AddComparisonsCapped(ctx context.Context, projectID, raterID string, cs []prefs.Comparison, received time.Time, max int) (store.SyncResult, error) {
	items, err := store.InsertItems(cs)
	if err != nil {
		return store.SyncResult{}, err
	}
	insert := Stmt{store.SQLInsertComparisons, []any{projectID, raterID, ms(received), items}}
	if max > 0 {
		insert = Stmt{store.SQLInsertComparisonsCapped, []any{projectID, raterID, ms(received), items, max}}
	}
	rs, err := s.db.Batch(ctx,
		Stmt{store.SQLCountPairRaters, []any{raterID, items, max}}, // before the insert
		insert,
		Stmt{store.SQLAddRaterLabels, []any{raterID}}, // right after the insert: changes()
		Stmt{store.SQLStoredComparisons, []any{items, raterID}},
		Stmt{store.SQLTouchRater, []any{ms(received), raterID}},
	)
	if err != nil {
		return store.SyncResult{}, fmt.Errorf("d1: insert comparisons: %w", err)
	}
	rs = rs[1:] // the count returns nothing
	inserted := make([]string, 0, len(rs[0].Rows))
	for _, row := range rs[0].Rows {
		inserted = append(inserted, asString(row[0]))
	}
	stored := map[string]bool{}
	for _, row := range rs[2].Rows {
		stored[asString(row[0])] = asInt(row[1]) != 0
	}
	labels := 0
	if len(rs[1].Rows) > 0 {
		labels = int(asInt(rs[1].Rows[0][0]))
	}
	return store.Sort(cs, inserted, stored, labels), nil
}

// Labels returns the project's comparisons with Seq > after, in arrival order, leaving out
// those of excluded raters unless withExcluded.
func (s *Store) Labels(ctx context.Context, projectID string, after int64, withExcluded bool) ([]store.Label, error) {
	r, err := one(ctx, s.db, store.SQLLabels, projectID, after, boolInt(withExcluded))
	if err != nil {
		return nil, fmt.Errorf("d1: %w", err)
	}
	var out []store.Label
	for _, v := range r.Rows {
		out = append(out, store.Label{Seq: asInt(v[0]), ID: asString(v[1]), RaterID: asString(v[2]), PairID: asString(v[3]),
			Choice: prefs.Choice(asString(v[4])), Left: asString(v[5]), Right: asString(v[6])})
	}
	return out, nil
}

// Export calls fn for every comparison of the project in arrival order, excluded raters'
// included (and marked), a page (store.ExportPage rows) at a time: a Worker's memory is small.
func (s *Store) Export(ctx context.Context, projectID string, fn func(*store.ExportRow) error) error {
	var after int64
	for {
		r, err := one(ctx, s.db, store.SQLExport, projectID, after, store.ExportPage)
		if err != nil {
			return fmt.Errorf("d1: %w", err)
		}
		for _, v := range r.Rows {
			after = asInt(v[0])
			e := store.ExportRow{ID: asString(v[1]), ProjectID: asString(v[2]), RaterID: asString(v[3]), RaterName: asString(v[4]),
				Participant: asString(v[5]), Excluded: asInt(v[6]) != 0, PairID: asString(v[7]), Choice: prefs.Choice(asString(v[8])),
				CreatedAt: fromMS(v[9]), ResponseMS: asInt(v[10]), ReceivedAt: fromMS(v[11]),
				Left: json.RawMessage(asBytes(v[12])), Right: json.RawMessage(asBytes(v[13]))}
			if err := fn(&e); err != nil {
				return err
			}
		}
		if len(r.Rows) < store.ExportPage {
			return nil
		}
	}
}
