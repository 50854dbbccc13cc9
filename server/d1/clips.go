package d1

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/prefer-rlhf/prefer/core/prefs"
	"github.com/prefer-rlhf/prefer/server/store"
)

// Clip returns a clip's JSON (prefs.Clip form), or store.ErrNotFound.
func (s *Store) Clip(ctx context.Context, projectID, clipID string) (json.RawMessage, error) {
	r, err := one(ctx, s.db, store.SQLClip, clipID, projectID)
	if err != nil {
		return nil, fmt.Errorf("d1: %w", err)
	}
	if len(r.Rows) == 0 {
		return nil, store.ErrNotFound
	}
	return json.RawMessage(asBytes(r.Rows[0][0])), nil
}

// ClipsByID returns the clips with the given ids in one project, decoded.
func (s *Store) ClipsByID(ctx context.Context, projectID string, ids []string) (map[string]prefs.Clip, error) {
	if ids == nil {
		ids = []string{}
	}
	r, err := one(ctx, s.db, store.SQLClipsByID, projectID, jsonArg(ids))
	if err != nil {
		return nil, fmt.Errorf("d1: %w", err)
	}
	out := make(map[string]prefs.Clip, len(r.Rows))
	for _, v := range r.Rows {
		var c prefs.Clip
		if err := json.Unmarshal(asBytes(v[1]), &c); err != nil {
			return nil, fmt.Errorf("d1: clip %s: %w", asString(v[0]), err)
		}
		out[asString(v[0])] = c
	}
	return out, nil
}

// PairExists reports whether the project has a pair with this id.
func (s *Store) PairExists(ctx context.Context, projectID, pairID string) (bool, error) {
	r, err := one(ctx, s.db, store.SQLPairExists, pairID, projectID)
	if err != nil {
		return false, fmt.Errorf("d1: %w", err)
	}
	return len(r.Rows) > 0, nil
}

// PairsFor returns up to n active pairs of the project that the rater has not labelled and
// that are not in skip, with no overlap limit; see PairsForOverlap.
func (s *Store) PairsFor(ctx context.Context, projectID, raterID string, n int, skip []string) ([]store.Pair, error) {
	return s.PairsForOverlap(ctx, projectID, raterID, n, skip, 0)
}

// PairsForOverlap returns up to n pairs for the rater as store.SQLPairsFor picks them.
func (s *Store) PairsForOverlap(ctx context.Context, projectID, raterID string, n int, skip []string, overlap int) ([]store.Pair, error) {
	if n <= 0 {
		return nil, nil
	}
	if skip == nil {
		skip = []string{}
	}
	r, err := one(ctx, s.db, store.SQLPairsFor, projectID, raterID, jsonArg(skip), n, overlap)
	if err != nil {
		return nil, fmt.Errorf("d1: %w", err)
	}
	var out []store.Pair
	for _, v := range r.Rows {
		out = append(out, store.Pair{ID: asString(v[0]), Left: json.RawMessage(asBytes(v[1])), Right: json.RawMessage(asBytes(v[2])), Tag: asString(v[3])})
	}
	return out, nil
}

// clipRow and pairRow are what json_each reads in the bulk inserts of a round.
type clipRow struct {
	ID            string `json:"id"`
	Env           string `json:"env"`
	PolicyVersion int    `json:"policy_version"`
	Data          string `json:"data"`
}

type pairRow struct {
	ID       string  `json:"id"`
	Left     string  `json:"left"`
	Right    string  `json:"right"`
	Priority float64 `json:"priority"`
	Tag      string  `json:"tag"`
}

// clipsAndPairs returns the statements that write clips and pairs (one bulk insert each, so a
// round of any size is a handful of statements), after retiring the project's older pairs
// when replace is set.
func clipsAndPairs(projectID string, clips []prefs.Clip, pairs []store.NewPair, replace bool, now int64) ([]Stmt, error) {
	var st []Stmt
	if replace && len(pairs) > 0 {
		st = append(st, Stmt{store.SQLRetirePairs, []any{projectID}})
	}
	if len(clips) > 0 {
		rows := make([]clipRow, len(clips))
		for i := range clips {
			c := &clips[i]
			if err := c.Validate(); err != nil {
				return nil, fmt.Errorf("d1: clip %s: %w", c.ID, err)
			}
			data, err := json.Marshal(c)
			if err != nil {
				return nil, fmt.Errorf("d1: %w", err)
			}
			rows[i] = clipRow{c.ID, c.Env, c.PolicyVersion, string(data)}
		}
		st = append(st, Stmt{`INSERT INTO clips (id, project_id, env, policy_version, data, created_at)
			SELECT json_extract(value, '$.id'), ?1, json_extract(value, '$.env'), json_extract(value, '$.policy_version'),
			       json_extract(value, '$.data'), ?2
			FROM json_each(?3)`, []any{projectID, now, jsonArg(rows)}})
	}
	if len(pairs) > 0 {
		rows := make([]pairRow, len(pairs))
		for i, p := range pairs {
			rows[i] = pairRow{p.ID, p.Left, p.Right, p.Priority, p.Tag}
		}
		st = append(st, Stmt{`INSERT INTO pairs (id, project_id, left_clip, right_clip, priority, active, created_at, tag)
			SELECT json_extract(value, '$.id'), ?1, json_extract(value, '$.left'), json_extract(value, '$.right'),
			       json_extract(value, '$.priority'), 1, ?2, json_extract(value, '$.tag')
			FROM json_each(?3)`, []any{projectID, now, jsonArg(rows)}})
	}
	return st, nil
}

// AddClipsAndPairs stores clips and pairs in one batch.
func (s *Store) AddClipsAndPairs(ctx context.Context, projectID string, clips []prefs.Clip, pairs []store.NewPair, replace bool) error {
	st, err := clipsAndPairs(projectID, clips, pairs, replace, ms(s.now()))
	if err != nil {
		return err
	}
	if len(st) == 0 {
		return nil
	}
	if _, err := s.db.Batch(ctx, st...); err != nil {
		return fmt.Errorf("d1: %w", err)
	}
	return nil
}

// PairsExist reports which of ids are pairs of the project, in one query (hub.PairLister).
func (s *Store) PairsExist(ctx context.Context, projectID string, ids []string) (map[string]bool, error) {
	if ids == nil {
		ids = []string{}
	}
	r, err := one(ctx, s.db, store.SQLPairsExist, projectID, jsonArg(ids))
	if err != nil {
		return nil, fmt.Errorf("d1: %w", err)
	}
	out := make(map[string]bool, len(r.Rows))
	for _, v := range r.Rows {
		out[asString(v[0])] = true
	}
	return out, nil
}
