package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/prefer-rlhf/prefer/core/prefs"
)

// SyncResult sorts a batch of comparisons by what happened to each.
type SyncResult struct {
	Accepted   []string // newly stored, in input order
	Duplicates []string // already stored for this rater: a re-send
	Foreign    []string // the id is already used by another rater's comparison
}

// wireComparison is what json_each reads in the insert: times in Unix milliseconds.
type wireComparison struct {
	ID         string `json:"id"`
	PairID     string `json:"pair_id"`
	Choice     string `json:"choice"`
	CreatedAt  int64  `json:"created_at"`
	ResponseMS int64  `json:"response_ms"`
}

// AddComparisons stores a rater's comparisons exactly once each, keyed by their UUIDs, and
// returns only after the transaction holding them is committed to disk. The caller has
// validated them (prefs.Comparison.Validate) and checked that their pairs belong to projectID;
// ids must be distinct within cs. Concurrent calls are committed together (see commit.go).
func (s *Store) AddComparisons(ctx context.Context, projectID, raterID string, cs []prefs.Comparison, received time.Time) (SyncResult, error) {
	w := make([]wireComparison, len(cs))
	for i, c := range cs {
		w[i] = wireComparison{c.ID, c.PairID, string(c.Choice), c.CreatedAt.UnixMilli(), c.ResponseMS}
	}
	items, err := json.Marshal(w)
	if err != nil {
		return SyncResult{}, fmt.Errorf("store: %w", err)
	}
	res := s.commit.submit(ctx, &commitReq{projectID: projectID, raterID: raterID, items: string(items), n: len(cs), received: received.UnixMilli()})
	if res.err != nil {
		return SyncResult{}, res.err
	}
	inserted := make(map[string]bool, len(res.inserted))
	for _, id := range res.inserted {
		inserted[id] = true
	}
	foreign := make(map[string]bool, len(res.foreign))
	for _, id := range res.foreign {
		foreign[id] = true
	}
	var out SyncResult
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

// Label is a stored comparison with what the trainer needs: its pair's clip ids.
type Label struct {
	Seq         int64 // arrival order (the row id)
	ID          string
	RaterID     string
	PairID      string
	Choice      prefs.Choice
	Left, Right string // clip ids
}

// Labels returns the project's comparisons with Seq > after, in arrival order, leaving out
// those of excluded raters unless withExcluded.
func (s *Store) Labels(ctx context.Context, projectID string, after int64, withExcluded bool) ([]Label, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT c.rowid, c.id, c.rater_id, c.pair_id, c.choice, p.left_clip, p.right_clip
		FROM comparisons c JOIN pairs p ON p.id = c.pair_id JOIN raters r ON r.id = c.rater_id
		WHERE c.project_id = ? AND c.rowid > ? AND (r.excluded = 0 OR ?)
		ORDER BY c.rowid`, projectID, after, boolInt(withExcluded))
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	defer rows.Close()
	var out []Label
	for rows.Next() {
		var l Label
		var ch string
		if err := rows.Scan(&l.Seq, &l.ID, &l.RaterID, &l.PairID, &ch, &l.Left, &l.Right); err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		l.Choice = prefs.Choice(ch)
		out = append(out, l)
	}
	return out, rows.Err()
}

// ExportRow is one comparison with everything a teacher exports.
type ExportRow struct {
	ID          string
	ProjectID   string
	RaterID     string
	RaterName   string
	Excluded    bool
	PairID      string
	Choice      prefs.Choice
	CreatedAt   time.Time
	ResponseMS  int64
	ReceivedAt  time.Time
	Left, Right json.RawMessage // the clips, as stored
}

// Export calls fn for every comparison of the project in arrival order, excluded raters'
// included (and marked), streaming rows so that a large export uses little memory.
func (s *Store) Export(ctx context.Context, projectID string, fn func(*ExportRow) error) error {
	rows, err := s.r.QueryContext(ctx, `SELECT c.id, c.project_id, c.rater_id, r.name, r.excluded, c.pair_id, c.choice,
		c.created_at, c.response_ms, c.received_at, l.data, rc.data
		FROM comparisons c JOIN raters r ON r.id = c.rater_id JOIN pairs p ON p.id = c.pair_id
		JOIN clips l ON l.id = p.left_clip JOIN clips rc ON rc.id = p.right_clip
		WHERE c.project_id = ? ORDER BY c.rowid`, projectID)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	defer rows.Close()
	var e ExportRow
	for rows.Next() {
		var ex int
		var ch, l, r string
		var created, received int64
		if err := rows.Scan(&e.ID, &e.ProjectID, &e.RaterID, &e.RaterName, &ex, &e.PairID, &ch, &created, &e.ResponseMS, &received, &l, &r); err != nil {
			return fmt.Errorf("store: %w", err)
		}
		e.Excluded, e.Choice = ex != 0, prefs.Choice(ch)
		e.CreatedAt, e.ReceivedAt = fromMS(created), fromMS(received)
		e.Left, e.Right = json.RawMessage(l), json.RawMessage(r)
		if err := fn(&e); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Counts are a project's sizes.
type Counts struct {
	Raters         int `json:"raters"`
	Comparisons    int `json:"comparisons"`
	ExcludedLabels int `json:"excluded_comparisons"`
	Clips          int `json:"clips"`
	Pairs          int `json:"pairs"`
	ActivePairs    int `json:"active_pairs"`
	ModelUpdates   int `json:"model_updates"`
	PendingUpdates int `json:"pending_model_updates"`
}

// Counts returns the project's sizes.
func (s *Store) Counts(ctx context.Context, projectID string) (Counts, error) {
	var c Counts
	err := s.r.QueryRowContext(ctx, `SELECT
		(SELECT COUNT(*) FROM raters WHERE project_id = ?1),
		(SELECT COUNT(*) FROM comparisons WHERE project_id = ?1),
		(SELECT COUNT(*) FROM comparisons c JOIN raters r ON r.id = c.rater_id WHERE c.project_id = ?1 AND r.excluded = 1),
		(SELECT COUNT(*) FROM clips WHERE project_id = ?1),
		(SELECT COUNT(*) FROM pairs WHERE project_id = ?1),
		(SELECT COUNT(*) FROM pairs WHERE project_id = ?1 AND active = 1),
		(SELECT COUNT(*) FROM model_updates WHERE project_id = ?1),
		(SELECT COUNT(*) FROM model_updates WHERE project_id = ?1 AND status = 'pending')`, projectID).
		Scan(&c.Raters, &c.Comparisons, &c.ExcludedLabels, &c.Clips, &c.Pairs, &c.ActivePairs, &c.ModelUpdates, &c.PendingUpdates)
	if err != nil {
		return c, fmt.Errorf("store: %w", err)
	}
	return c, nil
}

// CountComparisons returns how many comparisons the project holds (for tests and the bench).
func (s *Store) CountComparisons(ctx context.Context, projectID string) (int, error) {
	var n int
	err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM comparisons WHERE project_id = ?`, projectID).Scan(&n)
	if err != nil && err != sql.ErrNoRows {
		return 0, fmt.Errorf("store: %w", err)
	}
	return n, nil
}
