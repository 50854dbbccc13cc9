//go:build !(js && wasm)

package d1

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"sort"

	"github.com/prefer-rlhf/prefer/server/store"
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
	q.Set("_foreign_keys", "1") // D1 enforces foreign keys
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

// Migrate applies the store's migration files (server/store/migrations) that db has not seen,
// recording them in d1_migrations as `wrangler d1 migrations apply` does.
func Migrate(ctx context.Context, db DB) error {
	if _, err := one(ctx, db, `CREATE TABLE IF NOT EXISTS d1_migrations (
		id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE, applied_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)`); err != nil {
		return fmt.Errorf("d1: %w", err)
	}
	files, err := fs.Glob(store.Migrations(), "*.sql")
	if err != nil {
		return fmt.Errorf("d1: %w", err)
	}
	sort.Strings(files)
	l, ok := db.(local)
	if !ok {
		return errors.New("d1: Migrate runs on a local database only; use wrangler d1 migrations apply")
	}
	for _, name := range files {
		r, err := one(ctx, db, `SELECT COUNT(*) AS n FROM d1_migrations WHERE name = ?1`, name)
		if err != nil {
			return fmt.Errorf("d1: %w", err)
		}
		if asInt(r.Rows[0][0]) > 0 {
			continue
		}
		body, err := fs.ReadFile(store.Migrations(), name)
		if err != nil {
			return fmt.Errorf("d1: %w", err)
		}
		tx, err := l.db.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("d1: %w", err)
		}
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			tx.Rollback()
			return fmt.Errorf("d1: migration %s: %w", name, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO d1_migrations (name) VALUES (?)`, name); err != nil {
			tx.Rollback()
			return fmt.Errorf("d1: migration %s: %w", name, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("d1: migration %s: %w", name, err)
		}
	}
	return nil
}
