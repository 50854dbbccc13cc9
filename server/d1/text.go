package d1

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/prefer-rlhf/prefer/server/store"
)

// TextBundle returns a text project's stored bundle and its digest, or store.ErrNotFound
// (store.Store.TextBundle).
func (s *Store) TextBundle(ctx context.Context, projectID string) (json.RawMessage, string, error) {
	r, err := one(ctx, s.db, store.SQLTextBundle, projectID)
	if err != nil {
		return nil, "", fmt.Errorf("d1: %w", err)
	}
	if len(r.Rows) == 0 {
		return nil, "", store.ErrNotFound
	}
	return json.RawMessage(asBytes(r.Rows[0][0])), asString(r.Rows[0][1]), nil
}

// SetTextBundle stores a text project's bundle, or returns store.ErrTextBundleInUse
// (store.Store.SetTextBundle).
func (s *Store) SetTextBundle(ctx context.Context, projectID string, bundle json.RawMessage, digest string) error {
	r, err := one(ctx, s.db, store.SQLSetTextBundle, projectID, string(bundle), digest, ms(s.now()))
	if err != nil {
		return fmt.Errorf("d1: %w", err)
	}
	if len(r.Rows) == 0 {
		return store.ErrTextBundleInUse
	}
	return nil
}
