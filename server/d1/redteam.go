package d1

import (
	"context"
	"fmt"

	"github.com/prefer-rlhf/prefer/server/store"
)

// AddRedTeam stores a red-team submission (store.Store.AddRedTeam).
func (s *Store) AddRedTeam(ctx context.Context, sub *store.RedTeamSubmission) error {
	args, err := store.RedTeamArgs(sub)
	if err != nil {
		return err
	}
	if _, err := one(ctx, s.db, store.SQLAddRedTeam, args...); err != nil {
		return fmt.Errorf("d1: %w", err)
	}
	return nil
}

// RedTeamSubmissions returns a project's red-team submissions, oldest first, without their
// clips (store.Store.RedTeamSubmissions).
func (s *Store) RedTeamSubmissions(ctx context.Context, projectID string) ([]store.RedTeamSubmission, error) {
	r, err := one(ctx, s.db, store.SQLRedTeamSubmissions, projectID)
	if err != nil {
		return nil, fmt.Errorf("d1: %w", err)
	}
	out := make([]store.RedTeamSubmission, 0, len(r.Rows))
	for _, v := range r.Rows {
		out = append(out, store.RedTeamSubmission{ID: asString(v[0]), ProjectID: projectID, RaterID: asString(v[1]),
			RaterName: asString(v[2]), TrueReturn: asFloat(v[3]), Threshold: asFloat(v[4]), Failure: asInt(v[5]) != 0,
			RHat: asFloat(v[6]), ModelVersion: int(asInt(v[7])), CreatedAt: fromMS(v[8])})
	}
	return out, nil
}
