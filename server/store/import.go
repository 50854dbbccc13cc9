package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/prefer-rlhf/prefer/core/prefs"
)

// ImportRow is one exported comparison to merge into a project: the comparison with its rater
// and both clips, so that nothing else is needed to replay it (the hub's export format).
type ImportRow struct {
	Comparison  prefs.Comparison
	RaterID     string
	RaterName   string
	Excluded    bool
	ReceivedAt  time.Time
	Left, Right prefs.Clip
}

// ImportResult counts what an import did with its comparisons.
type ImportResult struct {
	Accepted   int // new: stored now
	Duplicates int // already stored for the same rater (an earlier import or sync)
	Foreign    int // the id is already used by another rater's comparison: skipped
}

// Import merges exported comparisons into project projectID exactly once each, by their
// UUIDs, in one transaction: clips, pairs and raters that are already there are kept as they
// are, and a comparison already stored is counted as a duplicate. Imported pairs are stored inactive, so
// they are not served again. Every clip must be of the project's env. Import is native only
// (prefer import); the Worker has no such method.
func (s *Store) Import(ctx context.Context, projectID string, rows []ImportRow) (ImportResult, error) {
	p, err := s.Project(ctx, projectID)
	if err != nil {
		return ImportResult{}, err
	}
	for i := range rows {
		r := &rows[i]
		for _, c := range []*prefs.Clip{&r.Left, &r.Right} {
			if err := c.Validate(); err != nil {
				return ImportResult{}, fmt.Errorf("store: import: comparison %s: clip %s: %w", r.Comparison.ID, c.ID, err)
			}
			if c.Env != p.Env {
				return ImportResult{}, fmt.Errorf("store: import: comparison %s: clip %s is of %s, the project is of %s", r.Comparison.ID, c.ID, c.Env, p.Env)
			}
		}
		if err := r.Comparison.Validate(); err != nil {
			return ImportResult{}, fmt.Errorf("store: import: comparison %s: %w", r.Comparison.ID, err)
		}
		if r.RaterID == "" {
			return ImportResult{}, fmt.Errorf("store: import: comparison %s: no rater id", r.Comparison.ID)
		}
	}

	// Everything in one transaction: clips, pairs and raters, each inserted only if new, then the
	// comparisons through the sync's insert (the group committer's statements, prepared apart
	// from the committer's own), so an import is stored whole or not at all.
	ins := &committer{db: s.w}
	if err := ins.prepare(); err != nil {
		return ImportResult{}, err
	}
	defer func() {
		for _, st := range []*sql.Stmt{ins.insert, ins.capped, ins.stored, ins.touch, ins.count, ins.pairRaters} {
			st.Close()
		}
	}()
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return ImportResult{}, fmt.Errorf("store: %w", err)
	}
	defer tx.Rollback()
	now := ms(time.Now())
	for i := range rows {
		r := &rows[i]
		for _, c := range []*prefs.Clip{&r.Left, &r.Right} {
			data, err := json.Marshal(c)
			if err != nil {
				return ImportResult{}, fmt.Errorf("store: %w", err)
			}
			if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO clips (id, project_id, env, policy_version, data, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
				c.ID, projectID, c.Env, c.PolicyVersion, string(data), now); err != nil {
				return ImportResult{}, fmt.Errorf("store: import clip: %w", err)
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO pairs (id, project_id, left_clip, right_clip, priority, active, created_at) VALUES (?, ?, ?, ?, 0, 0, ?)`,
			r.Comparison.PairID, projectID, r.Left.ID, r.Right.ID, now); err != nil {
			return ImportResult{}, fmt.Errorf("store: import pair: %w", err)
		}
		// An imported rater has no token: the hash is of no token a client could hold.
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO raters (id, project_id, name, token_hash, excluded, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
			r.RaterID, projectID, r.RaterName, "imported:"+r.RaterID, boolInt(r.Excluded), now); err != nil {
			return ImportResult{}, fmt.Errorf("store: import rater: %w", err)
		}
	}
	// Every pair and rater must now be this project's: an id taken by another project is a
	// conflict, not a merge.
	for i := range rows {
		r := &rows[i]
		var pp, rp, lc, rc string
		if err := tx.QueryRowContext(ctx, `SELECT project_id, left_clip, right_clip FROM pairs WHERE id = ?`, r.Comparison.PairID).Scan(&pp, &lc, &rc); err != nil {
			return ImportResult{}, fmt.Errorf("store: import pair %s: %w", r.Comparison.PairID, err)
		}
		if pp != projectID || lc != r.Left.ID || rc != r.Right.ID {
			return ImportResult{}, fmt.Errorf("store: import: pair %s is already stored with other clips or in another project", r.Comparison.PairID)
		}
		if err := tx.QueryRowContext(ctx, `SELECT project_id FROM raters WHERE id = ?`, r.RaterID).Scan(&rp); err != nil {
			return ImportResult{}, fmt.Errorf("store: import rater %s: %w", r.RaterID, err)
		}
		if rp != projectID {
			return ImportResult{}, fmt.Errorf("store: import: rater %s belongs to another project", r.RaterID)
		}
	}

	// Then the comparisons, as a sync stores them, exactly once each: one batch per rater and
	// arrival time, so that each keeps the time the first hub received it.
	type key struct {
		rater    string
		received int64
	}
	var order []key
	batches := map[key][]prefs.Comparison{}
	for _, r := range rows {
		k := key{r.RaterID, ms(r.ReceivedAt)}
		if _, ok := batches[k]; !ok {
			order = append(order, k)
		}
		batches[k] = append(batches[k], r.Comparison)
	}
	var out ImportResult
	touched := map[string]int64{}
	for _, k := range order {
		cs := dedupe(batches[k])
		items, err := InsertItems(cs)
		if err != nil {
			return ImportResult{}, err
		}
		var cr commitRes
		if err := ins.insertOne(ctx, tx, &commitReq{projectID: projectID, raterID: k.rater, items: items, n: len(cs), received: k.received}, &cr); err != nil {
			return ImportResult{}, err
		}
		res := Sort(cs, cr.inserted, cr.stored, cr.labels)
		out.Accepted += len(res.Accepted)
		out.Duplicates += len(res.Duplicates) + len(batches[k]) - len(cs)
		out.Foreign += len(res.Foreign)
		touched[k.rater] = max(touched[k.rater], k.received)
	}
	for id, t := range touched {
		if _, err := tx.StmtContext(ctx, ins.touch).ExecContext(ctx, t, id); err != nil {
			return ImportResult{}, fmt.Errorf("store: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return ImportResult{}, fmt.Errorf("store: %w", err)
	}
	return out, nil
}

// dedupe drops repeated ids (AddComparisons wants distinct ids within a batch).
func dedupe(cs []prefs.Comparison) []prefs.Comparison {
	seen := make(map[string]bool, len(cs))
	out := cs[:0:0]
	for _, c := range cs {
		if !seen[c.ID] {
			seen[c.ID] = true
			out = append(out, c)
		}
	}
	return out
}
