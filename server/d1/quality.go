package d1

import (
	"context"
	"fmt"
	"math"

	"github.com/prefer-rlhf/prefer/core/prefs"
	"github.com/prefer-rlhf/prefer/server/store"
)

// SetGold marks pair pairID of the project as a gold pair whose answer is choice (left, right
// or equal), or unmarks it when choice is empty; store.ErrNotFound if the project has no such
// pair.
func (s *Store) SetGold(ctx context.Context, projectID, pairID string, choice prefs.Choice) error {
	ok, err := s.PairExists(ctx, projectID, pairID)
	if err != nil {
		return err
	}
	if !ok {
		return store.ErrNotFound
	}
	switch choice {
	case "":
		_, err = one(ctx, s.db, store.SQLUnsetGold, pairID, projectID)
	case prefs.Left, prefs.Right, prefs.Equal:
		_, err = one(ctx, s.db, store.SQLSetGold, pairID, projectID, string(choice), ms(s.now()))
	default:
		return fmt.Errorf("d1: a gold answer must be left, right or equal, not %q", choice)
	}
	if err != nil {
		return fmt.Errorf("d1: %w", err)
	}
	return nil
}

// Gold returns the project's gold pairs: pair id -> known answer.
func (s *Store) Gold(ctx context.Context, projectID string) (map[string]prefs.Choice, error) {
	r, err := one(ctx, s.db, store.SQLGold, projectID)
	if err != nil {
		return nil, fmt.Errorf("d1: %w", err)
	}
	out := make(map[string]prefs.Choice, len(r.Rows))
	for _, v := range r.Rows {
		out[asString(v[0])] = prefs.Choice(asString(v[1]))
	}
	return out, nil
}

// SetRaterWeight sets the weight of a rater's labels in training, in [0, 1].
func (s *Store) SetRaterWeight(ctx context.Context, projectID, raterID string, w float64) error {
	if math.IsNaN(w) || w < 0 || w > 1 {
		return fmt.Errorf("d1: a rater's weight must be in [0, 1], got %v", w)
	}
	return s.exec1(ctx, store.SQLSetRaterWeight, w, raterID, projectID)
}

// RaterWeights returns the weights of the project's raters whose weight is not 1.
func (s *Store) RaterWeights(ctx context.Context, projectID string) (map[string]float64, error) {
	r, err := one(ctx, s.db, store.SQLRaterWeights, projectID)
	if err != nil {
		return nil, fmt.Errorf("d1: %w", err)
	}
	out := make(map[string]float64, len(r.Rows))
	for _, v := range r.Rows {
		out[asString(v[0])] = asFloat(v[1])
	}
	return out, nil
}
