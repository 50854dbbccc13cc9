package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
)

// Rater is a person labelling for one project. Their bearer tokens are stored only as hashes.
type Rater struct {
	ID        string
	ProjectID string
	Name      string
	// Participant is a crowd platform's id for the person (Prolific's PROLIFIC_PID, MTurk's
	// workerId), or "". It is unique within a project: the same id joining again is the same
	// rater.
	Participant string
	Excluded    bool // their labels are left out of training; nothing is deleted
	CreatedAt   time.Time
}

// RaterSummary is a rater with their label count and times, for the teacher.
type RaterSummary struct {
	Rater
	Comparisons int
	// ActiveMS sums the rater's response times, each capped at MaxActiveMS.
	ActiveMS int64
	// MedianMS is the median response time of the rater's labels (NaN with none).
	MedianMS float64
	LastSeen time.Time // zero if never synced
}

// CreateRater inserts a rater with the hash of their token. A participant id already in the
// project is ErrParticipantTaken.
func (s *Store) CreateRater(ctx context.Context, r *Rater, tokenHash string) error {
	if r.CreatedAt.IsZero() {
		r.CreatedAt = time.Now()
	}
	_, err := s.w.ExecContext(ctx, SQLCreateRater, r.ID, r.ProjectID, r.Name, r.Participant, tokenHash, boolInt(r.Excluded), ms(r.CreatedAt))
	if err != nil {
		if r.Participant != "" && IsParticipantConflict(err) {
			return ErrParticipantTaken
		}
		return fmt.Errorf("store: create rater: %w", err)
	}
	return nil
}

// ErrParticipantTaken is CreateRater's answer when another rater of the project has the
// participant id (two devices joined at once): look the rater up instead.
var ErrParticipantTaken = errors.New("store: participant already joined")

// IsParticipantConflict reports whether a database error is the unique index on
// (project_id, participant), as SQLite and D1 word it.
func IsParticipantConflict(err error) bool {
	return err != nil && strings.Contains(err.Error(), "raters.participant")
}

func scanRater(row interface{ Scan(...any) error }) (*Rater, error) {
	var r Rater
	var ex int
	var created int64
	if err := row.Scan(&r.ID, &r.ProjectID, &r.Name, &r.Participant, &ex, &created); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrNotFound
		}
		return nil, fmt.Errorf("store: %w", err)
	}
	r.Excluded, r.CreatedAt = ex != 0, fromMS(created)
	return &r, nil
}

// RaterByTokenHash returns the rater whose token (any of their devices') hashes to h, or
// ErrNotFound.
func (s *Store) RaterByTokenHash(ctx context.Context, h string) (*Rater, error) {
	return scanRater(s.r.QueryRowContext(ctx, SQLRaterByToken, h))
}

// RaterByParticipant returns the project's rater with this participant id, or ErrNotFound.
func (s *Store) RaterByParticipant(ctx context.Context, projectID, participant string) (*Rater, error) {
	return scanRater(s.w.QueryRowContext(ctx, SQLRaterByParticipant, projectID, participant))
}

// AddRaterToken gives a rater one more token (another device's).
func (s *Store) AddRaterToken(ctx context.Context, raterID, tokenHash string, at time.Time) error {
	if _, err := s.w.ExecContext(ctx, SQLAddRaterToken, tokenHash, raterID, ms(at)); err != nil {
		return fmt.Errorf("store: add rater token: %w", err)
	}
	return nil
}

// Raters returns a project's raters with their label counts and times, oldest first.
func (s *Store) Raters(ctx context.Context, projectID string) ([]RaterSummary, error) {
	rows, err := s.r.QueryContext(ctx, SQLRaters, projectID, MaxActiveMS)
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
		var median sql.NullFloat64
		if err := rows.Scan(&r.ID, &r.ProjectID, &r.Name, &r.Participant, &ex, &created, &seen, &r.Comparisons, &r.ActiveMS, &median); err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		r.Excluded, r.CreatedAt = ex != 0, fromMS(created)
		if seen.Valid {
			r.LastSeen = fromMS(seen.Int64)
		}
		r.MedianMS = math.NaN()
		if median.Valid {
			r.MedianMS = median.Float64
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// SetExcluded excludes or restores a rater's labels. ErrNotFound if the rater is not in the
// project.
func (s *Store) SetExcluded(ctx context.Context, projectID, raterID string, excluded bool) error {
	return s.exec1(ctx, SQLSetExcluded, boolInt(excluded), raterID, projectID)
}

// TouchRater records that a rater synced at t.
func (s *Store) TouchRater(ctx context.Context, raterID string, t time.Time) error {
	_, err := s.w.ExecContext(ctx, SQLTouchRater, ms(t), raterID)
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
	err = s.r.QueryRowContext(ctx, SQLTeacherToken, tokenHash).Scan(&pid)
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
