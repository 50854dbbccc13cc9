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
	Tag         string // NewPair.Tag
}

// NewPair is a pair the trainer publishes: two clip ids and a priority (higher is shown first;
// the trainer uses the ensemble's disagreement).
type NewPair struct {
	ID          string
	Left, Right string
	Priority    float64
	Tag         string // "" or TagRedTeam
}

// TagRedTeam tags a pair the trainer's adversary made: a clip the reward model overrates
// against an ordinary one (issue 15). RedTeamPriority puts such pairs before the trainer's
// others (whose priority, the ensemble's disagreement, is at most 0.5).
const (
	TagRedTeam      = "red_team"
	RedTeamPriority = 1000
)

// ValidTag reports whether tag is a pair tag the store keeps.
func ValidTag(tag string) bool { return tag == "" || tag == TagRedTeam }

// Clip returns a clip's JSON (prefs.Clip form), or ErrNotFound if the project has no such clip.
func (s *Store) Clip(ctx context.Context, projectID, clipID string) (json.RawMessage, error) {
	var data string
	err := s.r.QueryRowContext(ctx, SQLClip, clipID, projectID).Scan(&data)
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
	rows, err := s.r.QueryContext(ctx, SQLClipsByID, projectID, string(b))
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
	err := s.r.QueryRowContext(ctx, SQLPairExists, pairID, projectID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("store: %w", err)
	}
	return true, nil
}

// PairsFor returns up to n active pairs of the project that the rater has not labelled and
// that are not in skip, with no overlap limit; see PairsForOverlap.
func (s *Store) PairsFor(ctx context.Context, projectID, raterID string, n int, skip []string) ([]Pair, error) {
	return s.PairsForOverlap(ctx, projectID, raterID, n, skip, 0)
}

// PairsForOverlap returns up to n active pairs of the project that the rater has not labelled
// and that are not in skip (pairs the client already holds), leaving out pairs that overlap
// distinct raters have labelled (0: none left out) except gold pairs; pairs others have
// started first, then highest priority (SQLPairsFor).
func (s *Store) PairsForOverlap(ctx context.Context, projectID, raterID string, n int, skip []string, overlap int) ([]Pair, error) {
	if n <= 0 {
		return nil, nil
	}
	if skip == nil {
		skip = []string{}
	}
	sk, _ := json.Marshal(skip)
	rows, err := s.r.QueryContext(ctx, SQLPairsFor, projectID, raterID, string(sk), n, overlap)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	defer rows.Close()
	var out []Pair
	for rows.Next() {
		var p Pair
		var l, r string
		if err := rows.Scan(&p.ID, &l, &r, &p.Tag); err != nil {
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
		if _, err := tx.ExecContext(ctx, SQLRetirePairs, projectID); err != nil {
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
	pst, err := tx.PrepareContext(ctx, `INSERT INTO pairs (id, project_id, left_clip, right_clip, priority, active, created_at, tag) VALUES (?, ?, ?, ?, ?, 1, ?, ?)`)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	defer pst.Close()
	for _, p := range pairs {
		if _, err := pst.ExecContext(ctx, p.ID, projectID, p.Left, p.Right, p.Priority, ms(now), p.Tag); err != nil {
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
