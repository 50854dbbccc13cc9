//go:build !(js && wasm)

package d1

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// local runs the store on a SQLite file: the stand-in for D1 in native tests. A batch is one
// transaction, as in D1.
type local struct{ db *sql.DB }

// OpenLocal opens (or creates) a SQLite file as a stand-in for D1. It applies no migrations:
// call Migrate, as `wrangler d1 migrations apply` would.
func OpenLocal(path string) (DB, func() error, error) {
	q := url.Values{}
	q.Set("_busy_timeout", "10000")
	q.Set("_journal_mode", "WAL")
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, nil, fmt.Errorf("d1: %w", err)
	}
	db.SetMaxOpenConns(1)
	if err := db.Ping(); err != nil {
		db.Close()
		return nil, nil, fmt.Errorf("d1: open %s: %w", path, err)
	}
	return local{db}, db.Close, nil
}

func (l local) Batch(ctx context.Context, stmts ...Stmt) ([]Result, error) {
	tx, err := l.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("d1: %w", err)
	}
	defer tx.Rollback()
	out := make([]Result, len(stmts))
	for i, s := range stmts {
		res, err := run(ctx, tx, s)
		if err != nil {
			return nil, fmt.Errorf("d1: %w", err)
		}
		out[i] = res
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("d1: %w", err)
	}
	return out, nil
}

// run executes one statement, reading rows if it returns any, and counts its changes with
// total_changes() as D1's meta.changes does (0 for a read).
func run(ctx context.Context, tx *sql.Tx, s Stmt) (Result, error) {
	var res Result
	var before int64
	if err := tx.QueryRowContext(ctx, `SELECT total_changes()`).Scan(&before); err != nil {
		return res, err
	}
	rows, err := tx.QueryContext(ctx, s.SQL, normArgs(s.Args)...)
	if err != nil {
		return res, err
	}
	cols, err := rows.Columns()
	if err != nil {
		rows.Close()
		return res, err
	}
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			rows.Close()
			return res, err
		}
		res.Rows = append(res.Rows, vals)
	}
	if err := rows.Close(); err != nil {
		return res, err
	}
	if err := rows.Err(); err != nil {
		return res, err
	}
	var after int64
	if err := tx.QueryRowContext(ctx, `SELECT total_changes()`).Scan(&after); err != nil {
		return res, err
	}
	res.Changes = after - before
	return res, nil
}
