package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Rater is a person labelling for one project. Their bearer token is stored only as a hash.
type Rater struct {
	ID        string
	ProjectID string
	Name      string
	Excluded  bool // their labels are left out of training; nothing is deleted
	CreatedAt time.Time
}

// RaterSummary is a rater with their label count, for the teacher.
type RaterSummary struct {
	Rater
	Comparisons int
	LastSeen    time.Time // zero if never synced
}

// CreateRater inserts a rater with the hash of their token.
func (s *Store) CreateRater(ctx context.Context, r *Rater, tokenHash string) error {
	if r.CreatedAt.IsZero() {
		r.CreatedAt = time.Now()
	}
	_, err := s.w.ExecContext(ctx, `INSERT INTO raters (id, project_id, name, token_hash, excluded, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		r.ID, r.ProjectID, r.Name, tokenHash, boolInt(r.Excluded), ms(r.CreatedAt))
	if err != nil {
		return fmt.Errorf("store: create rater: %w", err)
	}
	return nil
}

// RaterByTokenHash returns the rater whose token hashes to h, or ErrNotFound.
func (s *Store) RaterByTokenHash(ctx context.Context, h string) (*Rater, error) {
	var r Rater
	var ex int
	var created int64
	err := s.r.QueryRowContext(ctx, `SELECT id, project_id, name, excluded, created_at FROM raters WHERE token_hash = ?`, h).
		Scan(&r.ID, &r.ProjectID, &r.Name, &ex, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	r.Excluded, r.CreatedAt = ex != 0, fromMS(created)
	return &r, nil
}

// Raters returns a project's raters with their label counts, oldest first.
func (s *Store) Raters(ctx context.Context, projectID string) ([]RaterSummary, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT r.id, r.project_id, r.name, r.excluded, r.created_at, r.last_seen_at,
		(SELECT COUNT(*) FROM comparisons c WHERE c.rater_id = r.id)
		FROM raters r WHERE r.project_id = ? ORDER BY r.created_at, r.rowid`, projectID)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	defer rows.Close()
	var out []RaterSummary
	for rows.Next() {
		var r RaterSummary
		var ex int
		var created int64
		var seen sql.NullInt64
		if err := rows.Scan(&r.ID, &r.ProjectID, &r.Name, &ex, &created, &seen, &r.Comparisons); err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		r.Excluded, r.CreatedAt = ex != 0, fromMS(created)
		if seen.Valid {
			r.LastSeen = fromMS(seen.Int64)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// SetExcluded excludes or restores a rater's labels. ErrNotFound if the rater is not in the
// project.
func (s *Store) SetExcluded(ctx context.Context, projectID, raterID string, excluded bool) error {
	return s.exec1(ctx, `UPDATE raters SET excluded = ? WHERE id = ? AND project_id = ?`, boolInt(excluded), raterID, projectID)
}

// TouchRater records that a rater synced at t.
func (s *Store) TouchRater(ctx context.Context, raterID string, t time.Time) error {
	_, err := s.w.ExecContext(ctx, `UPDATE raters SET last_seen_at = ? WHERE id = ?`, ms(t), raterID)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	return nil
}

// AddTeacherToken stores the hash of a teacher token; projectID "" means every project.
func (s *Store) AddTeacherToken(ctx context.Context, tokenHash, projectID string) error {
	var pid any
	if projectID != "" {
		pid = projectID
	}
	_, err := s.w.ExecContext(ctx, `INSERT INTO teacher_tokens (token_hash, project_id, created_at) VALUES (?, ?, ?)`,
		tokenHash, pid, ms(time.Now()))
	if err != nil {
		return fmt.Errorf("store: add teacher token: %w", err)
	}
	return nil
}

// TeacherToken looks a teacher token's hash up. It returns the project it is limited to ("" for
// every project), or ErrNotFound.
func (s *Store) TeacherToken(ctx context.Context, tokenHash string) (projectID string, err error) {
	var pid sql.NullString
	err = s.r.QueryRowContext(ctx, `SELECT project_id FROM teacher_tokens WHERE token_hash = ?`, tokenHash).Scan(&pid)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("store: %w", err)
	}
	return pid.String, nil
}

// DeleteTeacherToken removes a teacher token (when it is rotated).
func (s *Store) DeleteTeacherToken(ctx context.Context, tokenHash string) error {
	return s.exec1(ctx, `DELETE FROM teacher_tokens WHERE token_hash = ?`, tokenHash)
}
