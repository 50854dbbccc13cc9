package store

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/prefer-rlhf/prefer/core/prefs"
)

// SetGold marks pair pairID of project projectID as a gold pair whose answer is choice (left,
// right or equal), or unmarks it when choice is empty. The pair must be the project's.
func (s *Store) SetGold(ctx context.Context, projectID, pairID string, choice prefs.Choice) error {
	ok, err := s.PairExists(ctx, projectID, pairID)
	if err != nil {
		return err
	}
	if !ok {
		return ErrNotFound
	}
	switch choice {
	case "":
		_, err = s.w.ExecContext(ctx, SQLUnsetGold, pairID, projectID)
	case prefs.Left, prefs.Right, prefs.Equal:
		_, err = s.w.ExecContext(ctx, SQLSetGold, pairID, projectID, string(choice), ms(time.Now()))
	default:
		return fmt.Errorf("store: a gold answer must be left, right or equal, not %q", choice)
	}
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	return nil
}

// Gold returns the project's gold pairs: pair id -> known answer.
func (s *Store) Gold(ctx context.Context, projectID string) (map[string]prefs.Choice, error) {
	rows, err := s.r.QueryContext(ctx, SQLGold, projectID)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	defer rows.Close()
	out := map[string]prefs.Choice{}
	for rows.Next() {
		var id, c string
		if err := rows.Scan(&id, &c); err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		out[id] = prefs.Choice(c)
	}
	return out, rows.Err()
}

// SetRaterWeight sets the weight of a rater's labels in training, in [0, 1] (1: full weight,
// the default). It is reversible; no label is deleted.
func (s *Store) SetRaterWeight(ctx context.Context, projectID, raterID string, w float64) error {
	if math.IsNaN(w) || w < 0 || w > 1 {
		return fmt.Errorf("store: a rater's weight must be in [0, 1], got %v", w)
	}
	return s.exec1(ctx, SQLSetRaterWeight, w, raterID, projectID)
}

// RaterWeights returns the weights of the project's raters whose weight is not 1.
func (s *Store) RaterWeights(ctx context.Context, projectID string) (map[string]float64, error) {
	rows, err := s.r.QueryContext(ctx, SQLRaterWeights, projectID)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	defer rows.Close()
	out := map[string]float64{}
	for rows.Next() {
		var id string
		var w float64
		if err := rows.Scan(&id, &w); err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		out[id] = w
	}
	return out, rows.Err()
}
