// Package d1 keeps the hub's state in Cloudflare D1, for the Worker in server/worker.
//
// D1 is SQLite behind an HTTP-like binding: the same SQL and the same migration files as the
// native store (server/store/migrations), but no interactive transactions (no BEGIN/COMMIT).
// What must be atomic is sent as one batch, which D1 runs as one implicit transaction.
// Exactly-once inserts rely on INSERT ... ON CONFLICT DO NOTHING RETURNING id, which tells
// which ids were new without a read-then-write race.
//
// The binding lives in db_js.go (GOOS=js, syscall/js); db_other.go runs the same code on a
// local SQLite file (modernc.org/sqlite), with a batch as one transaction, so that the store's
// logic is tested natively in seconds and the Worker only adds the binding.
package d1

import (
	"context"
	"errors"
)

// Stmt is one SQL statement with its positional arguments (?1, ?2, ... or ?). Arguments are
// nil, int64, float64, string or []byte; int and bool are converted before they are sent.
type Stmt struct {
	SQL  string
	Args []any
}

// Result is what one statement of a batch returned.
type Result struct {
	// Rows holds the rows a statement returned (SELECT, or RETURNING), each a slice of column
	// values in select order: nil, int64, float64, string or []byte.
	Rows [][]any
	// Changes is the number of rows the statement wrote.
	Changes int64
}

// DB is what the store needs from the database: statements run atomically in order. D1's
// batch is one implicit transaction, so either every statement is applied or none is.
type DB interface {
	Batch(ctx context.Context, stmts ...Stmt) ([]Result, error)
}

// ErrNotFound is returned when a row asked for by id does not exist.
var ErrNotFound = errors.New("d1: not found")

// one runs a single statement.
func one(ctx context.Context, db DB, sql string, args ...any) (Result, error) {
	rs, err := db.Batch(ctx, Stmt{sql, args})
	if err != nil {
		return Result{}, err
	}
	return rs[0], nil
}

// normArgs converts the argument types D1 does not take (int, bool) into ones it does.
func normArgs(args []any) []any {
	out := make([]any, len(args))
	for i, a := range args {
		switch v := a.(type) {
		case int:
			out[i] = int64(v)
		case int32:
			out[i] = int64(v)
		case bool:
			if v {
				out[i] = int64(1)
			} else {
				out[i] = int64(0)
			}
		default:
			out[i] = a
		}
	}
	return out
}
