package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/prefer-rlhf/prefer/core/prefs"
)

// Pair is a query as served to raters: its clips as their stored JSON (prefs.Clip form).
type Pair struct {
	ID          string
	Left, Right json.RawMessage
}

// NewPair is a pair the trainer publishes: two clip ids and a priority (higher is shown first;
// the trainer uses the ensemble's disagreement).
type NewPair struct {
	ID          string
	Left, Right string
	Priority    float64
}

// Clip returns a clip's JSON (prefs.Clip form), or ErrNotFound if the project has no such clip.
func (s *Store) Clip(ctx context.Context, projectID, clipID string) (json.RawMessage, error) {
	var data string
	err := s.r.QueryRowContext(ctx, `SELECT data FROM clips WHERE id = ? AND project_id = ?`, clipID, projectID).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	return json.RawMessage(data), nil
}

// ClipsByID returns the clips with the given ids in one project, decoded.
func (s *Store) ClipsByID(ctx context.Context, projectID string, ids []string) (map[string]prefs.Clip, error) {
	b, _ := json.Marshal(ids)
	rows, err := s.r.QueryContext(ctx, `SELECT id, data FROM clips WHERE project_id = ? AND id IN (SELECT value FROM json_each(?))`, projectID, string(b))
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	defer rows.Close()
	out := make(map[string]prefs.Clip, len(ids))
	for rows.Next() {
		var id, data string
		if err := rows.Scan(&id, &data); err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		var c prefs.Clip
		if err := json.Unmarshal([]byte(data), &c); err != nil {
			return nil, fmt.Errorf("store: clip %s: %w", id, err)
		}
		out[id] = c
	}
	return out, rows.Err()
}

// PairExists reports whether the project has a pair with this id.
func (s *Store) PairExists(ctx context.Context, projectID, pairID string) (bool, error) {
	var one int
	err := s.r.QueryRowContext(ctx, `SELECT 1 FROM pairs WHERE id = ? AND project_id = ?`, pairID, projectID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("store: %w", err)
	}
	return true, nil
}

// PairsFor returns up to n active pairs of the project that the rater has not labelled and
// that are not in skip (pairs the client already holds), highest priority first.
func (s *Store) PairsFor(ctx context.Context, projectID, raterID string, n int, skip []string) ([]Pair, error) {
	if n <= 0 {
		return nil, nil
	}
	if skip == nil {
		skip = []string{}
	}
	sk, _ := json.Marshal(skip)
	rows, err := s.r.QueryContext(ctx, `SELECT p.id, l.data, r.data
		FROM pairs p JOIN clips l ON l.id = p.left_clip JOIN clips r ON r.id = p.right_clip
		WHERE p.project_id = ? AND p.active = 1
		  AND NOT EXISTS (SELECT 1 FROM comparisons c WHERE c.rater_id = ? AND c.pair_id = p.id)
		  AND p.id NOT IN (SELECT value FROM json_each(?))
		ORDER BY p.priority DESC, p.created_at DESC, p.id
		LIMIT ?`, projectID, raterID, string(sk), n)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	defer rows.Close()
	var out []Pair
	for rows.Next() {
		var p Pair
		var l, r string
		if err := rows.Scan(&p.ID, &l, &r); err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		p.Left, p.Right = json.RawMessage(l), json.RawMessage(r)
		out = append(out, p)
	}
	return out, rows.Err()
}

// insertClipsAndPairs writes clips and pairs inside tx. When replace is true, the project's
// older pairs stop being served (they stay valid: labels on them are still accepted).
func insertClipsAndPairs(ctx context.Context, tx *sql.Tx, projectID string, clips []prefs.Clip, pairs []NewPair, replace bool, now time.Time) error {
	if replace && len(pairs) > 0 {
		if _, err := tx.ExecContext(ctx, `UPDATE pairs SET active = 0 WHERE project_id = ? AND active = 1`, projectID); err != nil {
			return fmt.Errorf("store: %w", err)
		}
	}
	cst, err := tx.PrepareContext(ctx, `INSERT INTO clips (id, project_id, env, policy_version, data, created_at) VALUES (?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	defer cst.Close()
	for i := range clips {
		c := &clips[i]
		if err := c.Validate(); err != nil {
			return fmt.Errorf("store: clip %s: %w", c.ID, err)
		}
		data, err := json.Marshal(c)
		if err != nil {
			return fmt.Errorf("store: %w", err)
		}
		if _, err := cst.ExecContext(ctx, c.ID, projectID, c.Env, c.PolicyVersion, string(data), ms(now)); err != nil {
			return fmt.Errorf("store: insert clip: %w", err)
		}
	}
	pst, err := tx.PrepareContext(ctx, `INSERT INTO pairs (id, project_id, left_clip, right_clip, priority, active, created_at) VALUES (?, ?, ?, ?, ?, 1, ?)`)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	defer pst.Close()
	for _, p := range pairs {
		if _, err := pst.ExecContext(ctx, p.ID, projectID, p.Left, p.Right, p.Priority, ms(now)); err != nil {
			return fmt.Errorf("store: insert pair: %w", err)
		}
	}
	return nil
}

// AddClipsAndPairs stores clips and pairs in one transaction (see insertClipsAndPairs).
func (s *Store) AddClipsAndPairs(ctx context.Context, projectID string, clips []prefs.Clip, pairs []NewPair, replace bool) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	defer tx.Rollback()
	if err := insertClipsAndPairs(ctx, tx, projectID, clips, pairs, replace, time.Now()); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	return nil
}
