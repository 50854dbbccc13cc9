package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Project is a task: an env and its settings. JoinCode is unique across the server.
type Project struct {
	ID        string
	Env       string
	Settings  Settings
	JoinCode  string
	Paused    bool // training paused; labels are still accepted
	CreatedAt time.Time
}

// CreateProject inserts p. Its ID and JoinCode must be set and unique.
func (s *Store) CreateProject(ctx context.Context, p *Project) error {
	set, err := json.Marshal(p.Settings)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	if p.CreatedAt.IsZero() {
		p.CreatedAt = time.Now()
	}
	_, err = s.w.ExecContext(ctx, SQLCreateProject,
		p.ID, p.Env, string(set), p.JoinCode, boolInt(p.Paused), ms(p.CreatedAt))
	if err != nil {
		return fmt.Errorf("store: create project: %w", err)
	}
	return nil
}

func scanProject(row interface{ Scan(...any) error }) (*Project, error) {
	var p Project
	var set string
	var paused int
	var created int64
	if err := row.Scan(&p.ID, &p.Env, &set, &p.JoinCode, &paused, &created); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrNotFound
		}
		return nil, fmt.Errorf("store: %w", err)
	}
	p.Settings = DefaultSettings()
	if err := json.Unmarshal([]byte(set), &p.Settings); err != nil {
		return nil, fmt.Errorf("store: project %s settings: %w", p.ID, err)
	}
	p.Paused = paused != 0
	p.CreatedAt = fromMS(created)
	return &p, nil
}

// Project returns the project with the given id, or ErrNotFound.
func (s *Store) Project(ctx context.Context, id string) (*Project, error) {
	return scanProject(s.r.QueryRowContext(ctx, SQLProject, id))
}

// ProjectByJoinCode returns the project a join code opens, or ErrNotFound.
func (s *Store) ProjectByJoinCode(ctx context.Context, code string) (*Project, error) {
	return scanProject(s.r.QueryRowContext(ctx, SQLProjectByCode, code))
}

// Projects returns every project, oldest first.
func (s *Store) Projects(ctx context.Context) ([]Project, error) {
	rows, err := s.r.QueryContext(ctx, SQLProjects)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	defer rows.Close()
	var ps []Project
	for rows.Next() {
		p, err := scanProject(rows)
		if err != nil {
			return nil, err
		}
		ps = append(ps, *p)
	}
	return ps, rows.Err()
}

// SetPaused pauses or resumes a project's training.
func (s *Store) SetPaused(ctx context.Context, id string, paused bool) error {
	return s.exec1(ctx, SQLSetPaused, boolInt(paused), id)
}

// SetSettings replaces a project's settings.
func (s *Store) SetSettings(ctx context.Context, id string, set Settings) error {
	b, err := json.Marshal(set)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	return s.exec1(ctx, SQLSetSettings, string(b), id)
}

// exec1 runs a write that must touch exactly one row; zero rows is ErrNotFound.
func (s *Store) exec1(ctx context.Context, query string, args ...any) error {
	res, err := s.w.ExecContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

// ServerSetting returns a server-wide value, or ErrNotFound.
func (s *Store) ServerSetting(ctx context.Context, key string) (string, error) {
	var v string
	err := s.r.QueryRowContext(ctx, `SELECT value FROM server_settings WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("store: %w", err)
	}
	return v, nil
}

// SetServerSetting stores a server-wide value.
func (s *Store) SetServerSetting(ctx context.Context, key, value string) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO server_settings (key, value) VALUES (?, ?)
		ON CONFLICT(key) DO UPDATE SET value = excluded.value`, key, value)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	return nil
}
