package d1

import (
	"context"
	"fmt"
	"time"

	"github.com/prefer-rlhf/prefer/server/store"
)

// CreateRater inserts a rater with the hash of their token; store.ErrParticipantTaken when
// another rater of the project has its participant id.
func (s *Store) CreateRater(ctx context.Context, r *store.Rater, tokenHash string) error {
	if r.CreatedAt.IsZero() {
		r.CreatedAt = s.now()
	}
	_, err := one(ctx, s.db, store.SQLCreateRater, r.ID, r.ProjectID, r.Name, r.Participant, tokenHash, boolInt(r.Excluded), ms(r.CreatedAt))
	if err != nil {
		if r.Participant != "" && store.IsParticipantConflict(err) {
			return store.ErrParticipantTaken
		}
		return fmt.Errorf("d1: create rater: %w", err)
	}
	return nil
}

func (s *Store) raterWhere(ctx context.Context, query string, args ...any) (*store.Rater, error) {
	r, err := one(ctx, s.db, query, args...)
	if err != nil {
		return nil, fmt.Errorf("d1: %w", err)
	}
	if len(r.Rows) == 0 {
		return nil, store.ErrNotFound
	}
	v := r.Rows[0]
	return &store.Rater{ID: asString(v[0]), ProjectID: asString(v[1]), Name: asString(v[2]), Participant: asString(v[3]),
		Excluded: asInt(v[4]) != 0, CreatedAt: fromMS(v[5])}, nil
}

// RaterByTokenHash returns the rater whose token (any of their devices') hashes to h, or
// store.ErrNotFound.
func (s *Store) RaterByTokenHash(ctx context.Context, h string) (*store.Rater, error) {
	return s.raterWhere(ctx, store.SQLRaterByToken, h)
}

// RaterByParticipant returns the project's rater with this participant id, or
// store.ErrNotFound.
func (s *Store) RaterByParticipant(ctx context.Context, projectID, participant string) (*store.Rater, error) {
	return s.raterWhere(ctx, store.SQLRaterByParticipant, projectID, participant)
}

// AddRaterToken gives a rater one more token (another device's).
func (s *Store) AddRaterToken(ctx context.Context, raterID, tokenHash string, at time.Time) error {
	if _, err := one(ctx, s.db, store.SQLAddRaterToken, tokenHash, raterID, ms(at)); err != nil {
		return fmt.Errorf("d1: add rater token: %w", err)
	}
	return nil
}

// RaterLabels returns how many comparisons the rater has stored.
func (s *Store) RaterLabels(ctx context.Context, raterID string) (int, error) {
	r, err := one(ctx, s.db, store.SQLRaterLabels, raterID)
	if err != nil {
		return 0, fmt.Errorf("d1: %w", err)
	}
	return int(asInt(r.Rows[0][0])), nil
}

// Raters returns a project's raters with their label counts and times, oldest first.
func (s *Store) Raters(ctx context.Context, projectID string) ([]store.RaterSummary, error) {
	r, err := one(ctx, s.db, store.SQLRaters, projectID, store.MaxActiveMS)
	if err != nil {
		return nil, fmt.Errorf("d1: %w", err)
	}
	var out []store.RaterSummary
	for _, v := range r.Rows {
		var rs store.RaterSummary
		rs.ID, rs.ProjectID, rs.Name, rs.Participant = asString(v[0]), asString(v[1]), asString(v[2]), asString(v[3])
		rs.Excluded, rs.CreatedAt = asInt(v[4]) != 0, fromMS(v[5])
		if v[6] != nil {
			rs.LastSeen = fromMS(v[6])
		}
		rs.Comparisons, rs.ActiveMS = int(asInt(v[7])), asInt(v[8])
		rs.MedianMS = asFloat(v[9]) // NaN for NULL
		out = append(out, rs)
	}
	return out, nil
}

// SetExcluded excludes or restores a rater's labels; store.ErrNotFound if the rater is not in
// the project.
func (s *Store) SetExcluded(ctx context.Context, projectID, raterID string, excluded bool) error {
	return s.exec1(ctx, store.SQLSetExcluded, boolInt(excluded), raterID, projectID)
}
