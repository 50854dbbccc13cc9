package d1

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/prefer-rlhf/prefer/server/store"
)

// Store is the hub's database on D1. It implements hub.Store and trainer.Store with the same
// behaviour as the native store (server/store): the same tables, the same exactly-once
// inserts, the same errors (store.ErrNotFound, store.ErrForeignID). It holds no state of its
// own between calls, as the Worker keeps none between requests.
type Store struct {
	db DB
	// teacherHash is the SHA-256 (hex) of the Worker secret PREFER_TEACHER_TOKEN: a teacher
	// token for every project. "" when the secret is unset.
	teacherHash string
	now         func() time.Time
}

// New returns the store over db. teacherHash is the hash of the server-wide teacher token
// (hub.HashToken of the Worker secret), or "" for none.
func New(db DB, teacherHash string) *Store {
	return &Store{db: db, teacherHash: teacherHash, now: time.Now}
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	_, err := one(ctx, s.db, `SELECT 1 AS one`)
	return err
}

// SchemaVersion is the number of migrations applied. wrangler records them in d1_migrations;
// the files are numbered 1, 2, ... without gaps, so the count is the version.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	r, err := one(ctx, s.db, `SELECT COUNT(*) AS n FROM d1_migrations`)
	if err != nil {
		return 0, fmt.Errorf("d1: schema version: %w", err)
	}
	return int(asInt(r.Rows[0][0])), nil
}

// TeacherToken looks a teacher token's hash up: the Worker secret's acts on every project;
// others come from the teacher_tokens table. It returns the project the token is limited to
// ("" for every project), or store.ErrNotFound.
func (s *Store) TeacherToken(ctx context.Context, hash string) (string, error) {
	if s.teacherHash != "" && subtle.ConstantTimeCompare([]byte(hash), []byte(s.teacherHash)) == 1 {
		return "", nil
	}
	r, err := one(ctx, s.db, store.SQLTeacherToken, hash)
	if err != nil {
		return "", fmt.Errorf("d1: %w", err)
	}
	if len(r.Rows) == 0 {
		return "", store.ErrNotFound
	}
	return asString(r.Rows[0][0]), nil
}

// Column value conversions: D1 gives nil, int64, float64, string or []byte.

func asString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []byte:
		return string(x)
	case int64:
		return fmt.Sprint(x)
	case float64:
		return fmt.Sprint(x)
	}
	return ""
}

func asInt(v any) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case float64:
		return int64(x)
	}
	return 0
}

// asFloat returns NaN for NULL, the store's "unknown".
func asFloat(v any) float64 {
	switch x := v.(type) {
	case int64:
		return float64(x)
	case float64:
		return x
	}
	return math.NaN()
}

func asBytes(v any) []byte {
	switch x := v.(type) {
	case []byte:
		return x
	case string:
		return []byte(x)
	}
	return nil
}

func ms(t time.Time) int64 { return t.UnixMilli() }

func fromMS(v any) time.Time { return time.UnixMilli(asInt(v)).UTC() }

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// jsonArg is v as JSON text, for json_each.
func jsonArg(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic("d1: " + err.Error()) // only plain slices and structs are passed
	}
	return string(b)
}
