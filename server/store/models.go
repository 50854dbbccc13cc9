package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/prefer-rlhf/prefer/core/merge"
	"github.com/prefer-rlhf/prefer/core/prefs"
)

// Model is one published reward-model version. Versions of a project count up from 1.
type Model struct {
	ProjectID string
	Version   int
	Weights   json.RawMessage // the ensemble in core/reward's JSON format
	NumParams int             // length of the flat parameter vector a model update's delta has
	Metrics   map[string]float64
	CreatedAt time.Time
}

// ModelUpdate is a private-mode rater's contribution: a delta against BaseVersion.
type ModelUpdate struct {
	ID          string // client UUID: a re-sent update is stored once
	ProjectID   string
	RaterID     string
	BaseVersion int
	Labels      int
	Delta       []float32
	Metrics     map[string]float64
	Status      string // "pending", "merged" or "rejected"
	MergedInto  int    // the model version it was merged into, when merged
	Reason      string // why it was rejected
	ReceivedAt  time.Time
}

// Policy is one policy checkpoint.
type Policy struct {
	ProjectID     string
	Version       int
	Weights       []byte  // core/ppo's policy format; not loaded by PolicyHistory
	LearnedReturn float64 // NaN if unknown
	TrueReturn    float64 // NaN where the env has no true reward
	KL            float64 // KL from the project's initial policy per step (nats); NaN if not measured
	EnvSteps      int64
	Labels        int
	CreatedAt     time.Time
}

// finiteMetrics drops NaN and infinities, which JSON cannot carry.
func finiteMetrics(m map[string]float64) string {
	clean := make(map[string]float64, len(m))
	for k, v := range m {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			clean[k] = v
		}
	}
	b, _ := json.Marshal(clean)
	return string(b)
}

func nullFloat(v float64) any {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return v
}

// LatestModelVersion returns the newest reward-model version of a project, 0 if none.
func (s *Store) LatestModelVersion(ctx context.Context, projectID string) (int, error) {
	var v int
	err := s.r.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM reward_models WHERE project_id = ?`, projectID).Scan(&v)
	if err != nil {
		return 0, fmt.Errorf("store: %w", err)
	}
	return v, nil
}

// Model returns a reward-model version; version 0 means the latest. ErrNotFound if none.
func (s *Store) Model(ctx context.Context, projectID string, version int) (*Model, error) {
	var row *sql.Row
	if version == 0 {
		row = s.r.QueryRowContext(ctx, `SELECT version, weights, num_params, metrics, created_at FROM reward_models
			WHERE project_id = ? ORDER BY version DESC LIMIT 1`, projectID)
	} else {
		row = s.r.QueryRowContext(ctx, `SELECT version, weights, num_params, metrics, created_at FROM reward_models
			WHERE project_id = ? AND version = ?`, projectID, version)
	}
	m := Model{ProjectID: projectID}
	var w, met string
	var created int64
	if err := row.Scan(&m.Version, &w, &m.NumParams, &met, &created); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrNotFound
		}
		return nil, fmt.Errorf("store: %w", err)
	}
	m.Weights = json.RawMessage(w)
	if err := json.Unmarshal([]byte(met), &m.Metrics); err != nil {
		return nil, fmt.Errorf("store: model metrics: %w", err)
	}
	m.CreatedAt = fromMS(created)
	return &m, nil
}

// EncodeDelta packs a delta as little-endian float32, its stored and wire form.
func EncodeDelta(d []float32) []byte { return merge.EncodeDelta(d) }

// DecodeDelta unpacks EncodeDelta's form.
func DecodeDelta(b []byte) ([]float32, error) { return merge.DecodeDelta(b) }

// AddModelUpdate stores a model update once: a re-sent one (same id, same rater) reports
// duplicate; an id used by another rater is an error.
func (s *Store) AddModelUpdate(ctx context.Context, u *ModelUpdate) (duplicate bool, err error) {
	if u.ReceivedAt.IsZero() {
		u.ReceivedAt = time.Now()
	}
	res, err := s.w.ExecContext(ctx, `INSERT INTO model_updates (id, project_id, rater_id, base_version, labels, delta, metrics, status, received_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?) ON CONFLICT(id) DO NOTHING`,
		u.ID, u.ProjectID, u.RaterID, u.BaseVersion, u.Labels, EncodeDelta(u.Delta), finiteMetrics(u.Metrics), ms(u.ReceivedAt))
	if err != nil {
		return false, fmt.Errorf("store: add model update: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: %w", err)
	}
	if n == 1 {
		return false, nil
	}
	var owner string
	if err := s.w.QueryRowContext(ctx, `SELECT rater_id FROM model_updates WHERE id = ?`, u.ID).Scan(&owner); err != nil {
		return false, fmt.Errorf("store: %w", err)
	}
	if owner != u.RaterID {
		return false, ErrForeignID
	}
	return true, nil
}

// ErrForeignID is returned when a client id is already used by another rater.
var ErrForeignID = errors.New("store: id already used by another rater")

// ModelUpdates returns a project's model updates with the given status ("" for all), oldest
// first, deltas included.
func (s *Store) ModelUpdates(ctx context.Context, projectID, status string) ([]ModelUpdate, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, rater_id, base_version, labels, delta, metrics, status,
		COALESCE(merged_into, 0), COALESCE(reason, ''), received_at
		FROM model_updates WHERE project_id = ? AND (? = '' OR status = ?) ORDER BY rowid`, projectID, status, status)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	defer rows.Close()
	var out []ModelUpdate
	for rows.Next() {
		u := ModelUpdate{ProjectID: projectID}
		var delta []byte
		var met string
		var rec int64
		if err := rows.Scan(&u.ID, &u.RaterID, &u.BaseVersion, &u.Labels, &delta, &met, &u.Status, &u.MergedInto, &u.Reason, &rec); err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		if u.Delta, err = DecodeDelta(delta); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(met), &u.Metrics); err != nil {
			return nil, fmt.Errorf("store: update metrics: %w", err)
		}
		u.ReceivedAt = fromMS(rec)
		out = append(out, u)
	}
	return out, rows.Err()
}

// LatestPolicy returns the newest policy checkpoint with its weights, or ErrNotFound.
func (s *Store) LatestPolicy(ctx context.Context, projectID string) (*Policy, error) {
	p := Policy{ProjectID: projectID}
	var lr, tr, kl sql.NullFloat64
	var created int64
	err := s.r.QueryRowContext(ctx, `SELECT version, weights, learned_return, true_return, kl, env_steps, labels, created_at
		FROM policies WHERE project_id = ? ORDER BY version DESC LIMIT 1`, projectID).
		Scan(&p.Version, &p.Weights, &lr, &tr, &kl, &p.EnvSteps, &p.Labels, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	p.LearnedReturn, p.TrueReturn, p.KL, p.CreatedAt = orNaN(lr), orNaN(tr), orNaN(kl), fromMS(created)
	return &p, nil
}

// PolicyHistory returns the newest limit policy checkpoints, oldest first, without weights.
func (s *Store) PolicyHistory(ctx context.Context, projectID string, limit int) ([]Policy, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT version, learned_return, true_return, kl, env_steps, labels, created_at FROM
		(SELECT * FROM policies WHERE project_id = ? ORDER BY version DESC LIMIT ?) ORDER BY version`, projectID, limit)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	defer rows.Close()
	var out []Policy
	for rows.Next() {
		p := Policy{ProjectID: projectID}
		var lr, tr, kl sql.NullFloat64
		var created int64
		if err := rows.Scan(&p.Version, &lr, &tr, &kl, &p.EnvSteps, &p.Labels, &created); err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		p.LearnedReturn, p.TrueReturn, p.KL, p.CreatedAt = orNaN(lr), orNaN(tr), orNaN(kl), fromMS(created)
		out = append(out, p)
	}
	return out, rows.Err()
}

func orNaN(v sql.NullFloat64) float64 {
	if v.Valid {
		return v.Float64
	}
	return math.NaN()
}

// Round is everything one trainer round publishes, written in one transaction so that a
// crash leaves either the whole round or none of it.
type Round struct {
	ProjectID    string
	Round        int    // the trainer's round counter, saved with the checkpoint
	Checkpoint   []byte // the trainer's resumable state (nil: unchanged)
	Model        *Model // a new reward-model version (nil: none)
	Policy       *Policy
	Clips        []prefs.Clip
	Pairs        []NewPair
	ReplacePairs bool              // stop serving older pairs once these are published
	Merged       []string          // model updates merged into Model.Version
	Rejected     map[string]string // model updates rejected, with the reason
}

// PublishRound writes a round atomically.
func (s *Store) PublishRound(ctx context.Context, r *Round) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	defer tx.Rollback()
	now := time.Now()
	if m := r.Model; m != nil {
		if _, err := tx.ExecContext(ctx, `INSERT INTO reward_models (project_id, version, weights, num_params, metrics, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
			r.ProjectID, m.Version, string(m.Weights), m.NumParams, finiteMetrics(m.Metrics), ms(now)); err != nil {
			return fmt.Errorf("store: publish model %d: %w", m.Version, err)
		}
	}
	if p := r.Policy; p != nil {
		if _, err := tx.ExecContext(ctx, `INSERT INTO policies (project_id, version, weights, learned_return, true_return, kl, env_steps, labels, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			r.ProjectID, p.Version, p.Weights, nullFloat(p.LearnedReturn), nullFloat(p.TrueReturn), nullFloat(p.KL), p.EnvSteps, p.Labels, ms(now)); err != nil {
			return fmt.Errorf("store: publish policy %d: %w", p.Version, err)
		}
	}
	if err := insertClipsAndPairs(ctx, tx, r.ProjectID, r.Clips, r.Pairs, r.ReplacePairs, now); err != nil {
		return err
	}
	for _, id := range r.Merged {
		if r.Model == nil {
			return errors.New("store: merged updates without a model version")
		}
		if _, err := tx.ExecContext(ctx, `UPDATE model_updates SET status = 'merged', merged_into = ? WHERE id = ? AND project_id = ?`,
			r.Model.Version, id, r.ProjectID); err != nil {
			return fmt.Errorf("store: %w", err)
		}
	}
	for id, reason := range r.Rejected {
		if _, err := tx.ExecContext(ctx, `UPDATE model_updates SET status = 'rejected', reason = ? WHERE id = ? AND project_id = ?`,
			reason, id, r.ProjectID); err != nil {
			return fmt.Errorf("store: %w", err)
		}
	}
	if r.Checkpoint != nil {
		if _, err := tx.ExecContext(ctx, `INSERT INTO trainer_state (project_id, round, state, updated_at) VALUES (?, ?, ?, ?)
			ON CONFLICT(project_id) DO UPDATE SET round = excluded.round, state = excluded.state, updated_at = excluded.updated_at`,
			r.ProjectID, r.Round, r.Checkpoint, ms(now)); err != nil {
			return fmt.Errorf("store: save checkpoint: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	return nil
}

// Checkpoint returns the trainer's last saved state for a project, or ErrNotFound.
func (s *Store) Checkpoint(ctx context.Context, projectID string) (round int, state []byte, err error) {
	err = s.r.QueryRowContext(ctx, `SELECT round, state FROM trainer_state WHERE project_id = ?`, projectID).Scan(&round, &state)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil, ErrNotFound
	}
	if err != nil {
		return 0, nil, fmt.Errorf("store: %w", err)
	}
	return round, state, nil
}

// ModelNumParams returns a model version's parameter count, or ErrNotFound.
func (s *Store) ModelNumParams(ctx context.Context, projectID string, version int) (int, error) {
	var n int
	err := s.r.QueryRowContext(ctx, `SELECT num_params FROM reward_models WHERE project_id = ? AND version = ?`, projectID, version).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, ErrNotFound
	}
	if err != nil {
		return 0, fmt.Errorf("store: %w", err)
	}
	return n, nil
}

// LatestPolicyVersion returns the newest policy version of a project, 0 if none.
func (s *Store) LatestPolicyVersion(ctx context.Context, projectID string) (int, error) {
	var v int
	err := s.r.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM policies WHERE project_id = ?`, projectID).Scan(&v)
	if err != nil {
		return 0, fmt.Errorf("store: %w", err)
	}
	return v, nil
}
