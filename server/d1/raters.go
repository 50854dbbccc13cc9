package d1

import (
	"context"
	"fmt"

	"github.com/prefer-rlhf/prefer/server/store"
)

// CreateRater inserts a rater with the hash of their token.
func (s *Store) CreateRater(ctx context.Context, r *store.Rater, tokenHash string) error {
	if r.CreatedAt.IsZero() {
		r.CreatedAt = s.now()
	}
	_, err := one(ctx, s.db, `INSERT INTO raters (id, project_id, name, token_hash, excluded, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)`,
		r.ID, r.ProjectID, r.Name, tokenHash, boolInt(r.Excluded), ms(r.CreatedAt))
	if err != nil {
		return fmt.Errorf("d1: create rater: %w", err)
	}
	return nil
}

// RaterByTokenHash returns the rater whose token hashes to h, or store.ErrNotFound.
func (s *Store) RaterByTokenHash(ctx context.Context, h string) (*store.Rater, error) {
	r, err := one(ctx, s.db, `SELECT id, project_id, name, excluded, created_at FROM raters WHERE token_hash = ?1`, h)
	if err != nil {
		return nil, fmt.Errorf("d1: %w", err)
	}
	if len(r.Rows) == 0 {
		return nil, store.ErrNotFound
	}
	v := r.Rows[0]
	return &store.Rater{ID: asString(v[0]), ProjectID: asString(v[1]), Name: asString(v[2]), Excluded: asInt(v[3]) != 0, CreatedAt: fromMS(v[4])}, nil
}

// Raters returns a project's raters with their label counts, oldest first.
func (s *Store) Raters(ctx context.Context, projectID string) ([]store.RaterSummary, error) {
	r, err := one(ctx, s.db, `SELECT r.id, r.project_id, r.name, r.excluded, r.created_at, r.last_seen_at,
		(SELECT COUNT(*) FROM comparisons c WHERE c.rater_id = r.id) AS n
		FROM raters r WHERE r.project_id = ?1 ORDER BY r.created_at, r.rowid`, projectID)
	if err != nil {
		return nil, fmt.Errorf("d1: %w", err)
	}
	var out []store.RaterSummary
	for _, v := range r.Rows {
		var rs store.RaterSummary
		rs.ID, rs.ProjectID, rs.Name = asString(v[0]), asString(v[1]), asString(v[2])
		rs.Excluded, rs.CreatedAt = asInt(v[3]) != 0, fromMS(v[4])
		if v[5] != nil {
			rs.LastSeen = fromMS(v[5])
		}
		rs.Comparisons = int(asInt(v[6]))
		out = append(out, rs)
	}
	return out, nil
}

// SetExcluded excludes or restores a rater's labels; store.ErrNotFound if the rater is not in
// the project.
func (s *Store) SetExcluded(ctx context.Context, projectID, raterID string, excluded bool) error {
	return s.exec1(ctx, `UPDATE raters SET excluded = ?1 WHERE id = ?2 AND project_id = ?3`, boolInt(excluded), raterID, projectID)
}
