package d1

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/prefer-rlhf/prefer/server/store"
)

// CreateProject inserts p. Its ID and JoinCode must be set and unique.
func (s *Store) CreateProject(ctx context.Context, p *store.Project) error {
	set, err := json.Marshal(p.Settings)
	if err != nil {
		return fmt.Errorf("d1: %w", err)
	}
	if p.CreatedAt.IsZero() {
		p.CreatedAt = s.now()
	}
	_, err = one(ctx, s.db, store.SQLCreateProject,
		p.ID, p.Env, string(set), p.JoinCode, boolInt(p.Paused), ms(p.CreatedAt))
	if err != nil {
		return fmt.Errorf("d1: create project: %w", err)
	}
	return nil
}

func scanProject(row []any) (*store.Project, error) {
	p := store.Project{ID: asString(row[0]), Env: asString(row[1]), JoinCode: asString(row[3]),
		Paused: asInt(row[4]) != 0, CreatedAt: fromMS(row[5])}
	p.Settings = store.DefaultSettings()
	if err := json.Unmarshal(asBytes(row[2]), &p.Settings); err != nil {
		return nil, fmt.Errorf("d1: project %s settings: %w", p.ID, err)
	}
	return &p, nil
}

func (s *Store) projectWhere(ctx context.Context, query string, arg string) (*store.Project, error) {
	r, err := one(ctx, s.db, query, arg)
	if err != nil {
		return nil, fmt.Errorf("d1: %w", err)
	}
	if len(r.Rows) == 0 {
		return nil, store.ErrNotFound
	}
	return scanProject(r.Rows[0])
}

// Project returns the project with the given id, or store.ErrNotFound.
func (s *Store) Project(ctx context.Context, id string) (*store.Project, error) {
	return s.projectWhere(ctx, store.SQLProject, id)
}

// ProjectByJoinCode returns the project a join code opens, or store.ErrNotFound.
func (s *Store) ProjectByJoinCode(ctx context.Context, code string) (*store.Project, error) {
	return s.projectWhere(ctx, store.SQLProjectByCode, code)
}

// Projects returns every project, oldest first.
func (s *Store) Projects(ctx context.Context) ([]store.Project, error) {
	r, err := one(ctx, s.db, store.SQLProjects)
	if err != nil {
		return nil, fmt.Errorf("d1: %w", err)
	}
	var out []store.Project
	for _, row := range r.Rows {
		p, err := scanProject(row)
		if err != nil {
			return nil, err
		}
		out = append(out, *p)
	}
	return out, nil
}

// SetPaused pauses or resumes a project's training.
func (s *Store) SetPaused(ctx context.Context, id string, paused bool) error {
	return s.exec1(ctx, store.SQLSetPaused, boolInt(paused), id)
}

// SetSettings replaces a project's settings.
func (s *Store) SetSettings(ctx context.Context, id string, set store.Settings) error {
	b, err := json.Marshal(set)
	if err != nil {
		return fmt.Errorf("d1: %w", err)
	}
	return s.exec1(ctx, store.SQLSetSettings, string(b), id)
}

// exec1 runs a write that must touch exactly one row; zero rows is store.ErrNotFound.
func (s *Store) exec1(ctx context.Context, query string, args ...any) error {
	r, err := one(ctx, s.db, query, args...)
	if err != nil {
		return fmt.Errorf("d1: %w", err)
	}
	if r.Changes == 0 {
		return store.ErrNotFound
	}
	return nil
}

// Counts returns the project's sizes.
func (s *Store) Counts(ctx context.Context, projectID string) (store.Counts, error) {
	var c store.Counts
	r, err := one(ctx, s.db, store.SQLCounts, projectID)
	if err != nil {
		return c, fmt.Errorf("d1: %w", err)
	}
	v := r.Rows[0]
	c.Raters, c.Comparisons, c.ExcludedLabels = int(asInt(v[0])), int(asInt(v[1])), int(asInt(v[2]))
	c.Clips, c.Pairs, c.ActivePairs = int(asInt(v[3])), int(asInt(v[4])), int(asInt(v[5]))
	c.ModelUpdates, c.PendingUpdates = int(asInt(v[6])), int(asInt(v[7]))
	return c, nil
}

// PairCoverage returns how many of the project's pairs at least one rater labelled, and how
// many reached overlap distinct raters.
func (s *Store) PairCoverage(ctx context.Context, projectID string, overlap int) (labelled, full int, err error) {
	r, err := one(ctx, s.db, store.SQLPairCoverage, projectID, overlap)
	if err != nil {
		return 0, 0, fmt.Errorf("d1: %w", err)
	}
	return int(asInt(r.Rows[0][0])), int(asInt(r.Rows[0][1])), nil
}
