package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"
)

// RedTeamSubmission is a clip a rater submitted from red-team mode (issue 15): one they think
// the reward model overrates, with the hub's verdict on it when it arrived.
type RedTeamSubmission struct {
	ID         string
	ProjectID  string
	RaterID    string
	RaterName  string // filled by RedTeamSubmissions
	StartState []float64
	Actions    [][]float64
	TrueReturn float64 // the task's reward or a behaviour's checker (env.ScoreClip)
	Threshold  float64 // the task's failure threshold for the clip's length (core/redteam)
	Failure    bool    // TrueReturn < Threshold
	RHat       float64 // r̂ under model ModelVersion; NaN when the project had no model
	// ModelVersion is the reward model r̂ is from; 0 for none.
	ModelVersion int
	CreatedAt    time.Time
}

// Red-team submissions.
const (
	SQLAddRedTeam = `INSERT INTO red_team_submissions (id, project_id, rater_id, start_state, actions, true_return,
		threshold, failure, rhat, model_version, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)`
	// SQLRedTeamSubmissions lists a project's submissions, oldest first, with their raters'
	// names and without their clips (the leaderboard needs only the scores).
	SQLRedTeamSubmissions = `SELECT s.id, s.rater_id, r.name, s.true_return, s.threshold, s.failure, s.rhat,
		s.model_version, s.created_at
		FROM red_team_submissions s JOIN raters r ON r.id = s.rater_id
		WHERE s.project_id = ?1 ORDER BY s.created_at, s.id`
)

// RedTeamArgs are s's columns as SQL arguments in SQLAddRedTeam's order, for both stores.
func RedTeamArgs(s *RedTeamSubmission) ([]any, error) {
	st, err := json.Marshal(s.StartState)
	if err != nil {
		return nil, fmt.Errorf("store: red-team start state: %w", err)
	}
	acts, err := json.Marshal(s.Actions)
	if err != nil {
		return nil, fmt.Errorf("store: red-team actions: %w", err)
	}
	fail := 0
	if s.Failure {
		fail = 1
	}
	return []any{s.ID, s.ProjectID, s.RaterID, string(st), string(acts), s.TrueReturn, s.Threshold, fail,
		NullFloat(s.RHat), s.ModelVersion, ms(s.CreatedAt)}, nil
}

// AddRedTeam stores a red-team submission.
func (s *Store) AddRedTeam(ctx context.Context, sub *RedTeamSubmission) error {
	args, err := RedTeamArgs(sub)
	if err != nil {
		return err
	}
	if _, err := s.w.ExecContext(ctx, SQLAddRedTeam, args...); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	return nil
}

// RedTeamSubmissions returns a project's red-team submissions, oldest first, without their
// clips (StartState and Actions are nil).
func (s *Store) RedTeamSubmissions(ctx context.Context, projectID string) ([]RedTeamSubmission, error) {
	rows, err := s.r.QueryContext(ctx, SQLRedTeamSubmissions, projectID)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	defer rows.Close()
	var out []RedTeamSubmission
	for rows.Next() {
		sub := RedTeamSubmission{ProjectID: projectID}
		var fail int
		var rhat sql.NullFloat64
		var at int64
		if err := rows.Scan(&sub.ID, &sub.RaterID, &sub.RaterName, &sub.TrueReturn, &sub.Threshold, &fail, &rhat,
			&sub.ModelVersion, &at); err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		sub.Failure, sub.RHat, sub.CreatedAt = fail != 0, orNaN(rhat), fromMS(at)
		out = append(out, sub)
	}
	return out, rows.Err()
}
