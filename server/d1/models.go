package d1

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/prefer-rlhf/prefer/server/store"
)

// LatestModelVersion returns the newest reward-model version of a project, 0 if none.
func (s *Store) LatestModelVersion(ctx context.Context, projectID string) (int, error) {
	r, err := one(ctx, s.db, store.SQLLatestModelVersion, projectID)
	if err != nil {
		return 0, fmt.Errorf("d1: %w", err)
	}
	return int(asInt(r.Rows[0][0])), nil
}

// LatestPolicyVersion returns the newest policy version of a project, 0 if none.
func (s *Store) LatestPolicyVersion(ctx context.Context, projectID string) (int, error) {
	r, err := one(ctx, s.db, store.SQLLatestPolicyVersion, projectID)
	if err != nil {
		return 0, fmt.Errorf("d1: %w", err)
	}
	return int(asInt(r.Rows[0][0])), nil
}

// Model returns a reward-model version; version 0 means the latest. store.ErrNotFound if none.
func (s *Store) Model(ctx context.Context, projectID string, version int) (*store.Model, error) {
	var r Result
	var err error
	if version == 0 {
		r, err = one(ctx, s.db, store.SQLLatestModel, projectID)
	} else {
		r, err = one(ctx, s.db, store.SQLModel, projectID, version)
	}
	if err != nil {
		return nil, fmt.Errorf("d1: %w", err)
	}
	if len(r.Rows) == 0 {
		return nil, store.ErrNotFound
	}
	v := r.Rows[0]
	m := store.Model{ProjectID: projectID, Version: int(asInt(v[0])), Weights: json.RawMessage(asBytes(v[1])),
		NumParams: int(asInt(v[2])), CreatedAt: fromMS(v[4])}
	if err := json.Unmarshal(asBytes(v[3]), &m.Metrics); err != nil {
		return nil, fmt.Errorf("d1: model metrics: %w", err)
	}
	return &m, nil
}

// ModelNumParams returns a model version's parameter count, or store.ErrNotFound.
func (s *Store) ModelNumParams(ctx context.Context, projectID string, version int) (int, error) {
	r, err := one(ctx, s.db, store.SQLModelNumParams, projectID, version)
	if err != nil {
		return 0, fmt.Errorf("d1: %w", err)
	}
	if len(r.Rows) == 0 {
		return 0, store.ErrNotFound
	}
	return int(asInt(r.Rows[0][0])), nil
}

// AddModelUpdate stores a model update once: a re-sent one (same id, same rater) reports
// duplicate; an id used by another rater is store.ErrForeignID. The insert and the owner check
// are one batch, so the answer describes the committed state.
func (s *Store) AddModelUpdate(ctx context.Context, u *store.ModelUpdate) (duplicate bool, err error) {
	if u.ReceivedAt.IsZero() {
		u.ReceivedAt = s.now()
	}
	rs, err := s.db.Batch(ctx,
		Stmt{store.SQLAddModelUpdate,
			[]any{u.ID, u.ProjectID, u.RaterID, u.BaseVersion, u.Labels, store.EncodeDelta(u.Delta), store.FiniteMetrics(u.Metrics), ms(u.ReceivedAt)}},
		Stmt{store.SQLModelUpdateOwner, []any{u.ID}},
	)
	if err != nil {
		return false, fmt.Errorf("d1: add model update: %w", err)
	}
	if len(rs[0].Rows) == 1 {
		return false, nil
	}
	if len(rs[1].Rows) == 0 || asString(rs[1].Rows[0][0]) != u.RaterID {
		return false, store.ErrForeignID
	}
	return true, nil
}

// ModelUpdates returns a project's model updates with the given status ("" for all), oldest
// first, deltas included.
func (s *Store) ModelUpdates(ctx context.Context, projectID, status string) ([]store.ModelUpdate, error) {
	r, err := one(ctx, s.db, store.SQLModelUpdates, projectID, status)
	if err != nil {
		return nil, fmt.Errorf("d1: %w", err)
	}
	var out []store.ModelUpdate
	for _, v := range r.Rows {
		u := store.ModelUpdate{ProjectID: projectID, ID: asString(v[0]), RaterID: asString(v[1]), BaseVersion: int(asInt(v[2])),
			Labels: int(asInt(v[3])), Status: asString(v[6]), MergedInto: int(asInt(v[7])), Reason: asString(v[8]), ReceivedAt: fromMS(v[9])}
		if u.Delta, err = store.DecodeDelta(asBytes(v[4])); err != nil {
			return nil, err
		}
		if err := json.Unmarshal(asBytes(v[5]), &u.Metrics); err != nil {
			return nil, fmt.Errorf("d1: update metrics: %w", err)
		}
		out = append(out, u)
	}
	return out, nil
}

// PolicyHistory returns the newest limit policy checkpoints, oldest first, without weights.
func (s *Store) PolicyHistory(ctx context.Context, projectID string, limit int) ([]store.Policy, error) {
	r, err := one(ctx, s.db, store.SQLPolicyHistory, projectID, limit)
	if err != nil {
		return nil, fmt.Errorf("d1: %w", err)
	}
	var out []store.Policy
	for _, v := range r.Rows {
		out = append(out, store.Policy{ProjectID: projectID, Version: int(asInt(v[0])), LearnedReturn: asFloat(v[1]),
			TrueReturn: asFloat(v[2]), KL: asFloat(v[3]), EnvSteps: asInt(v[4]), Labels: int(asInt(v[5])), CreatedAt: fromMS(v[6])})
	}
	return out, nil
}

// LatestPolicy returns the newest policy checkpoint with its weights, or store.ErrNotFound.
func (s *Store) LatestPolicy(ctx context.Context, projectID string) (*store.Policy, error) {
	r, err := one(ctx, s.db, store.SQLLatestPolicy, projectID)
	if err != nil {
		return nil, fmt.Errorf("d1: %w", err)
	}
	if len(r.Rows) == 0 {
		return nil, store.ErrNotFound
	}
	v := r.Rows[0]
	return &store.Policy{ProjectID: projectID, Version: int(asInt(v[0])), Weights: asBytes(v[1]), LearnedReturn: asFloat(v[2]),
		TrueReturn: asFloat(v[3]), KL: asFloat(v[4]), EnvSteps: asInt(v[5]), Labels: int(asInt(v[6])), CreatedAt: fromMS(v[7])}, nil
}

// Checkpoint returns the trainer's last saved state for a project, or store.ErrNotFound.
func (s *Store) Checkpoint(ctx context.Context, projectID string) (round int, state []byte, err error) {
	r, err := one(ctx, s.db, store.SQLCheckpoint, projectID)
	if err != nil {
		return 0, nil, fmt.Errorf("d1: %w", err)
	}
	if len(r.Rows) == 0 {
		return 0, nil, store.ErrNotFound
	}
	return int(asInt(r.Rows[0][0])), asBytes(r.Rows[0][1]), nil
}

// PublishRound writes a round atomically: every statement in one D1 batch, so a failure
// leaves either the whole round or none of it, as the native store's transaction does.
func (s *Store) PublishRound(ctx context.Context, r *store.Round) error {
	now := ms(s.now())
	var st []Stmt
	if m := r.Model; m != nil {
		st = append(st, Stmt{store.SQLPublishModel,
			[]any{r.ProjectID, m.Version, string(m.Weights), m.NumParams, store.FiniteMetrics(m.Metrics), now}})
	}
	if p := r.Policy; p != nil {
		st = append(st, Stmt{store.SQLPublishPolicy,
			[]any{r.ProjectID, p.Version, p.Weights, store.NullFloat(p.LearnedReturn), store.NullFloat(p.TrueReturn), store.NullFloat(p.KL), p.EnvSteps, p.Labels, now}})
	}
	cp, err := clipsAndPairs(r.ProjectID, r.Clips, r.Pairs, r.ReplacePairs, now)
	if err != nil {
		return err
	}
	st = append(st, cp...)
	if len(r.Merged) > 0 {
		if r.Model == nil {
			return errors.New("d1: merged updates without a model version")
		}
		st = append(st, Stmt{store.SQLMergedUpdates, []any{r.Model.Version, r.ProjectID, jsonArg(r.Merged)}})
	}
	for id, reason := range r.Rejected {
		st = append(st, Stmt{store.SQLRejectUpdate,
			[]any{reason, id, r.ProjectID}})
	}
	if r.Checkpoint != nil {
		st = append(st, Stmt{store.SQLSaveCheckpoint,
			[]any{r.ProjectID, r.Round, r.Checkpoint, now}})
	}
	if len(st) == 0 {
		return nil
	}
	if _, err := s.db.Batch(ctx, st...); err != nil {
		return fmt.Errorf("d1: publish round %d: %w", r.Round, err)
	}
	return nil
}
