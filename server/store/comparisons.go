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
	Quota      []string // not stored: the rater reached the project's cap
	Labels     int      // how many comparisons the rater holds after the batch
}

// WireComparison is what json_each reads in the insert (SQLInsertComparisons): times in Unix
// milliseconds.
type WireComparison struct {
	ID         string `json:"id"`
	PairID     string `json:"pair_id"`
	Choice     string `json:"choice"`
	CreatedAt  int64  `json:"created_at"`
	ResponseMS int64  `json:"response_ms"`
}

// InsertItems is cs as the JSON array SQLInsertComparisons reads.
func InsertItems(cs []prefs.Comparison) (string, error) {
	w := make([]WireComparison, len(cs))
	for i, c := range cs {
		w[i] = WireComparison{c.ID, c.PairID, string(c.Choice), c.CreatedAt.UnixMilli(), c.ResponseMS}
	}
	b, err := json.Marshal(w)
	if err != nil {
		return "", fmt.Errorf("store: %w", err)
	}
	return string(b), nil
}

// Sort sorts cs by what the insert did: inserted ids are accepted; of the rest, those stored
// under another rater are foreign, those stored under this rater are duplicates, and those
// not stored at all met the cap.
func Sort(cs []prefs.Comparison, inserted []string, stored map[string]bool, labels int) SyncResult {
	ins := make(map[string]bool, len(inserted))
	for _, id := range inserted {
		ins[id] = true
	}
	out := SyncResult{Labels: labels}
	for _, c := range cs {
		mine, ok := stored[c.ID]
		switch {
		case ins[c.ID]:
			out.Accepted = append(out.Accepted, c.ID)
		case ok && !mine:
			out.Foreign = append(out.Foreign, c.ID)
		case ok:
			out.Duplicates = append(out.Duplicates, c.ID)
		default:
			out.Quota = append(out.Quota, c.ID)
		}
	}
	return out
}

// AddComparisons stores a rater's comparisons with no cap; see AddComparisonsCapped.
func (s *Store) AddComparisons(ctx context.Context, projectID, raterID string, cs []prefs.Comparison, received time.Time) (SyncResult, error) {
	return s.AddComparisonsCapped(ctx, projectID, raterID, cs, received, 0)
}

// AddComparisonsCapped stores a rater's comparisons exactly once each, keyed by their UUIDs,
// in order until the rater holds max comparisons (0: no cap), and returns only after the
// transaction holding them is committed to disk. The caller has validated them
// (prefs.Comparison.Validate) and checked that their pairs belong to projectID; ids must be
// distinct within cs. Concurrent calls are committed together (see commit.go), one after
// another inside the transaction, so two devices of one rater cannot pass the cap together.
func (s *Store) AddComparisonsCapped(ctx context.Context, projectID, raterID string, cs []prefs.Comparison, received time.Time, max int) (SyncResult, error) {
	items, err := InsertItems(cs)
	if err != nil {
		return SyncResult{}, err
	}
	res := s.commit.submit(ctx, &commitReq{projectID: projectID, raterID: raterID, items: items, n: len(cs), max: max, received: received.UnixMilli()})
	if res.err != nil {
		return SyncResult{}, res.err
	}
	return Sort(cs, res.inserted, res.stored, res.labels), nil
}

// RaterLabels returns how many comparisons the rater has stored.
func (s *Store) RaterLabels(ctx context.Context, raterID string) (int, error) {
	var n int
	if err := s.r.QueryRowContext(ctx, SQLRaterLabels, raterID).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: %w", err)
	}
	return n, nil
}

// PairCoverage returns how many of the project's pairs at least one rater labelled, and how
// many reached overlap distinct raters.
func (s *Store) PairCoverage(ctx context.Context, projectID string, overlap int) (labelled, full int, err error) {
	if err := s.r.QueryRowContext(ctx, SQLPairCoverage, projectID, overlap).Scan(&labelled, &full); err != nil {
		return 0, 0, fmt.Errorf("store: %w", err)
	}
	return labelled, full, nil
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
	rows, err := s.r.QueryContext(ctx, SQLLabels, projectID, after, boolInt(withExcluded))
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
	Participant string // the rater's crowd participant id, or ""
	Excluded    bool
	PairID      string
	Choice      prefs.Choice
	CreatedAt   time.Time
	ResponseMS  int64
	ReceivedAt  time.Time
	Left, Right json.RawMessage // the clips, as stored
}

// ExportPage is how many rows one export query reads (SQLExport's limit): the export pages
// through the comparisons by rowid, so a large one uses little memory on either store.
const ExportPage = 500

// Export calls fn for every comparison of the project in arrival order, excluded raters'
// included (and marked).
func (s *Store) Export(ctx context.Context, projectID string, fn func(*ExportRow) error) error {
	var after int64
	for {
		n, err := s.exportPage(ctx, projectID, &after, fn)
		if err != nil || n < ExportPage {
			return err
		}
	}
}

func (s *Store) exportPage(ctx context.Context, projectID string, after *int64, fn func(*ExportRow) error) (int, error) {
	rows, err := s.r.QueryContext(ctx, SQLExport, projectID, *after, ExportPage)
	if err != nil {
		return 0, fmt.Errorf("store: %w", err)
	}
	defer rows.Close()
	var e ExportRow
	n := 0
	for rows.Next() {
		var ex int
		var ch, l, r string
		var created, received int64
		if err := rows.Scan(after, &e.ID, &e.ProjectID, &e.RaterID, &e.RaterName, &e.Participant, &ex, &e.PairID, &ch,
			&created, &e.ResponseMS, &received, &l, &r); err != nil {
			return n, fmt.Errorf("store: %w", err)
		}
		n++
		e.Excluded, e.Choice = ex != 0, prefs.Choice(ch)
		e.CreatedAt, e.ReceivedAt = fromMS(created), fromMS(received)
		e.Left, e.Right = json.RawMessage(l), json.RawMessage(r)
		if err := fn(&e); err != nil {
			return n, err
		}
	}
	return n, rows.Err()
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
	err := s.r.QueryRowContext(ctx, SQLCounts, projectID).
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
