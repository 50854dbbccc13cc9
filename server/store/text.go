package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// ErrTextBundleInUse is returned when a text project's bundle would be replaced by one of
// another tokenizer (another digest) while the project has comparisons: the token ids of the
// clips they label would change meaning.
var ErrTextBundleInUse = errors.New("store: the project's labels were made with another tokenizer")

// Text bundles.
const (
	SQLTextBundle = `SELECT bundle, digest FROM text_bundles WHERE project_id = ?1`
	// SQLSetTextBundle stores project ?1's bundle ?2 of digest ?3 at ?4. It replaces a stored
	// bundle of the same digest always, and one of another digest only while the project has
	// no comparisons; it returns the project's id when it wrote, no row when it refused. One
	// statement, so the check and the write cannot be split by a sync on either store.
	SQLSetTextBundle = `INSERT INTO text_bundles (project_id, bundle, digest, updated_at) VALUES (?1, ?2, ?3, ?4)
		ON CONFLICT (project_id) DO UPDATE SET bundle = excluded.bundle, digest = excluded.digest, updated_at = excluded.updated_at
		WHERE text_bundles.digest = excluded.digest OR NOT EXISTS (SELECT 1 FROM comparisons WHERE project_id = ?1)
		RETURNING project_id`
)

// TextBundle returns a text project's stored bundle (wire.TextBundle JSON) and its digest, or
// ErrNotFound when none is stored.
func (s *Store) TextBundle(ctx context.Context, projectID string) (bundle json.RawMessage, digest string, err error) {
	var b string
	err = s.r.QueryRowContext(ctx, SQLTextBundle, projectID).Scan(&b, &digest)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, "", ErrNotFound
	}
	if err != nil {
		return nil, "", fmt.Errorf("store: %w", err)
	}
	return json.RawMessage(b), digest, nil
}

// SetTextBundle stores a text project's bundle with its digest (SQLSetTextBundle), or returns
// ErrTextBundleInUse.
func (s *Store) SetTextBundle(ctx context.Context, projectID string, bundle json.RawMessage, digest string) error {
	var id string
	err := s.w.QueryRowContext(ctx, SQLSetTextBundle, projectID, string(bundle), digest, ms(time.Now())).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrTextBundleInUse
	}
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	return nil
}
