package d1

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/prefer-rlhf/prefer/core/prefs"
	"github.com/prefer-rlhf/prefer/server/store"
)

// wireComparison is what json_each reads in the insert: times in Unix milliseconds.
type wireComparison struct {
	ID         string `json:"id"`
	PairID     string `json:"pair_id"`
	Choice     string `json:"choice"`
	CreatedAt  int64  `json:"created_at"`
	ResponseMS int64  `json:"response_ms"`
}

// The statements of a sync, as the native store's group commit runs them (server/store/commit.go).
const (
	insertComparisons = `INSERT INTO comparisons (id, project_id, rater_id, pair_id, choice, created_at, response_ms, received_at)
	SELECT json_extract(value, '$.id'), ?1, ?2, json_extract(value, '$.pair_id'), json_extract(value, '$.choice'),
	       json_extract(value, '$.created_at'), json_extract(value, '$.response_ms'), ?3
	FROM json_each(?4) WHERE true
	ON CONFLICT(id) DO NOTHING
	RETURNING id`
	foreignComparisons = `SELECT id FROM comparisons WHERE id IN (SELECT json_extract(value, '$.id') FROM json_each(?1)) AND rater_id <> ?2`
	touchRater         = `UPDATE raters SET last_seen_at = ?1 WHERE id = ?2`
)

// AddComparisons stores a rater's comparisons exactly once each, keyed by their UUIDs, in one
// D1 batch (one transaction): the insert reports which ids were new (RETURNING), a select
// after it finds the ids another rater owns, and the rest were this rater's already. It returns
// after D1 has committed the batch. The caller has validated the comparisons and checked their
// pairs; ids are distinct within cs.
func (s *Store) AddComparisons(ctx context.Context, projectID, raterID string, cs []prefs.Comparison, received time.Time) (store.SyncResult, error) {
	w := make([]wireComparison, len(cs))
	for i, c := range cs {
		w[i] = wireComparison{c.ID, c.PairID, string(c.Choice), c.CreatedAt.UnixMilli(), c.ResponseMS}
	}
	items := jsonArg(w)
	rs, err := s.db.Batch(ctx,
		Stmt{insertComparisons, []any{projectID, raterID, ms(received), items}},
		Stmt{foreignComparisons, []any{items, raterID}},
		Stmt{touchRater, []any{ms(received), raterID}},
	)
	if err != nil {
		return store.SyncResult{}, fmt.Errorf("d1: insert comparisons: %w", err)
	}
	inserted := map[string]bool{}
	for _, row := range rs[0].Rows {
		inserted[asString(row[0])] = true
	}
	foreign := map[string]bool{}
	for _, row := range rs[1].Rows {
		foreign[asString(row[0])] = true
	}
	var out store.SyncResult
	for _, c := range cs {
		switch {
		case inserted[c.ID]:
			out.Accepted = append(out.Accepted, c.ID)
		case foreign[c.ID]:
			out.Foreign = append(out.Foreign, c.ID)
		default:
			out.Duplicates = append(out.Duplicates, c.ID)
		}
	}
	return out, nil
}

// Labels returns the project's comparisons with Seq > after, in arrival order, leaving out
// those of excluded raters unless withExcluded.
func (s *Store) Labels(ctx context.Context, projectID string, after int64, withExcluded bool) ([]store.Label, error) {
	r, err := one(ctx, s.db, `SELECT c.rowid AS seq, c.id, c.rater_id, c.pair_id, c.choice, p.left_clip, p.right_clip
		FROM comparisons c JOIN pairs p ON p.id = c.pair_id JOIN raters r ON r.id = c.rater_id
		WHERE c.project_id = ?1 AND c.rowid > ?2 AND (r.excluded = 0 OR ?3)
		ORDER BY c.rowid`, projectID, after, boolInt(withExcluded))
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

// exportPage is how many rows one export query reads: a Worker's memory is small, so the
// export pages through the comparisons by rowid instead of reading them at once.
const exportPage = 500

// Export calls fn for every comparison of the project in arrival order, excluded raters'
// included (and marked).
func (s *Store) Export(ctx context.Context, projectID string, fn func(*store.ExportRow) error) error {
	var after int64
	for {
		r, err := one(ctx, s.db, `SELECT c.rowid AS seq, c.id, c.project_id, c.rater_id, r.name, r.excluded, c.pair_id, c.choice,
			c.created_at, c.response_ms, c.received_at, l.data AS left_data, rc.data AS right_data
			FROM comparisons c JOIN raters r ON r.id = c.rater_id JOIN pairs p ON p.id = c.pair_id
			JOIN clips l ON l.id = p.left_clip JOIN clips rc ON rc.id = p.right_clip
			WHERE c.project_id = ?1 AND c.rowid > ?2 ORDER BY c.rowid LIMIT ?3`, projectID, after, exportPage)
		if err != nil {
			return fmt.Errorf("d1: %w", err)
		}
		for _, v := range r.Rows {
			after = asInt(v[0])
			e := store.ExportRow{ID: asString(v[1]), ProjectID: asString(v[2]), RaterID: asString(v[3]), RaterName: asString(v[4]),
				Excluded: asInt(v[5]) != 0, PairID: asString(v[6]), Choice: prefs.Choice(asString(v[7])),
				CreatedAt: fromMS(v[8]), ResponseMS: asInt(v[9]), ReceivedAt: fromMS(v[10]),
				Left: json.RawMessage(asBytes(v[11])), Right: json.RawMessage(asBytes(v[12]))}
			if err := fn(&e); err != nil {
				return err
			}
		}
		if len(r.Rows) < exportPage {
			return nil
		}
	}
}
