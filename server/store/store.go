// Package store keeps the hub's state in one SQLite file (modernc.org/sqlite, pure Go): projects,
// raters, clips, pairs, comparisons, reward-model versions, model updates, policies and the
// trainer's checkpoint.
//
// The schema lives in migrations/*.sql, applied in order and recorded in schema_migrations, so
// an older file upgrades in place. The same files serve the Cloudflare D1 Worker, so they hold
// portable SQL only: connection PRAGMAs are set here, in the DSN.
//
// Durability: the file is in WAL mode with synchronous=FULL, so a commit is on disk before any
// method returns, and an acknowledgement sent after it survives kill -9 and power loss.
// Comparisons from concurrent requests are committed together (group commit, see commit.go)
// to share the cost of one fsync.
//
// Every statement uses placeholders; no SQL is built from strings.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrations returns the embedded migration files, for the D1 Worker and tests.
func Migrations() fs.FS {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		panic(err)
	}
	return sub
}

// ErrNotFound is returned when a row asked for by id does not exist.
var ErrNotFound = errors.New("store: not found")

// Store is the hub's database. It is safe for concurrent use.
type Store struct {
	w      *sql.DB // the one writer connection: SQLite allows one writer at a time
	r      *sql.DB // a pool of readers; WAL lets them read while the writer writes
	c      *sql.DB // the checkpointer's connection
	commit *committer

	stopCkpt, ckptDone chan struct{}
	closeOnce          sync.Once
	closeErr           error
}

// Options tune Open. The zero value is what the hub uses.
type Options struct {
	// Synchronous is SQLite's synchronous setting: "FULL" (default: every commit is fsynced,
	// durable across power loss) or "NORMAL" (durable across a process crash such as kill -9,
	// not across power loss, in WAL mode).
	Synchronous string
	// Readers is the size of the read pool (default 4).
	Readers int
	// MaxMigration stops migrating after this version (0: apply all). Only tests use it, to
	// make an older file.
	MaxMigration int
}

// Open opens or creates the database at path (its directory is created), applies pending
// migrations and starts the group committer. Close it when done.
func Open(path string, opt Options) (*Store, error) {
	if path == "" {
		return nil, errors.New("store: empty database path")
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
	}
	syncMode := strings.ToUpper(opt.Synchronous)
	if syncMode == "" {
		syncMode = "FULL"
	}
	if syncMode != "FULL" && syncMode != "NORMAL" {
		return nil, fmt.Errorf("store: synchronous must be FULL or NORMAL, not %q", opt.Synchronous)
	}
	readers := opt.Readers
	if readers <= 0 {
		readers = 4
	}
	q := url.Values{}
	q.Set("_busy_timeout", "10000")
	q.Set("_journal_mode", "WAL")
	q.Set("_synchronous", syncMode)
	q.Set("_foreign_keys", "1")
	q.Set("_txlock", "immediate")
	// Statement journals in memory (an INSERT ... SELECT of a batch opens one), a 64 MiB page
	// cache, and no checkpoints on the commit path: the checkpointer below runs them.
	q["_pragma"] = []string{"temp_store(MEMORY)", "cache_size(-65536)", "wal_autocheckpoint(0)"}
	w, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	if err := w.Ping(); err != nil {
		w.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	if err := migrate(context.Background(), w, opt.MaxMigration); err != nil {
		w.Close()
		return nil, err
	}
	rq := url.Values{}
	rq.Set("_busy_timeout", "10000")
	rq.Set("_query_only", "1")
	rq["_pragma"] = []string{"cache_size(-16384)"}
	r, err := sql.Open("sqlite", "file:"+path+"?"+rq.Encode())
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("store: %w", err)
	}
	r.SetMaxOpenConns(readers)
	r.SetMaxIdleConns(readers)
	cq := url.Values{}
	cq.Set("_busy_timeout", "10000")
	cq.Set("_synchronous", syncMode)
	c, err := sql.Open("sqlite", "file:"+path+"?"+cq.Encode())
	if err != nil {
		w.Close()
		r.Close()
		return nil, fmt.Errorf("store: %w", err)
	}
	c.SetMaxOpenConns(1)
	s := &Store{w: w, r: r, c: c, stopCkpt: make(chan struct{}), ckptDone: make(chan struct{})}
	if s.commit, err = newCommitter(w); err != nil {
		w.Close()
		r.Close()
		c.Close()
		return nil, err
	}
	go s.checkpointer()
	return s, nil
}

// checkpointer copies the WAL back into the database file every second (a passive
// checkpoint: it never blocks the writer or readers), off the commit path, so that commits
// only append to the WAL. Durability does not depend on it: a commit is durable once its WAL
// frames are synced.
func (s *Store) checkpointer() {
	defer close(s.ckptDone)
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-s.stopCkpt:
			return
		case <-t.C:
			s.c.Exec("PRAGMA wal_checkpoint(PASSIVE)")
		}
	}
}

// Close stops the committer (after committing what it holds) and closes the database.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.commit.stop()
		close(s.stopCkpt)
		<-s.ckptDone
		err1 := s.r.Close()
		err2 := s.c.Close()
		// A full checkpoint on close leaves a small WAL for the next start.
		_, _ = s.w.Exec("PRAGMA wal_checkpoint(TRUNCATE)")
		err3 := s.w.Close()
		s.closeErr = errors.Join(err1, err2, err3)
	})
	return s.closeErr
}

// migration is one numbered file.
type migration struct {
	version int
	name    string
	sql     string
}

// loadMigrations reads migrations/NNNN_name.sql in version order.
func loadMigrations() ([]migration, error) {
	ents, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	var ms []migration
	for _, e := range ents {
		name := e.Name()
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 || !strings.HasSuffix(name, ".sql") {
			return nil, fmt.Errorf("store: migration file %q is not NNNN_name.sql", name)
		}
		b, err := migrationFiles.ReadFile("migrations/" + name)
		if err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		ms = append(ms, migration{v, name, string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i, m := range ms {
		if m.version != i+1 {
			return nil, fmt.Errorf("store: migration %s out of sequence (want version %d)", m.name, i+1)
		}
	}
	return ms, nil
}

// LatestVersion is the schema version this binary migrates to.
func LatestVersion() int {
	ms, err := loadMigrations()
	if err != nil {
		return 0
	}
	return len(ms)
}

// migrate applies every migration newer than the file's version, each in its own transaction
// together with its schema_migrations row, so a crash leaves the file at a whole version.
func migrate(ctx context.Context, db *sql.DB, max int) error {
	ms, err := loadMigrations()
	if err != nil {
		return err
	}
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("store: create schema_migrations: %w", err)
	}
	var have int
	if err := db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&have); err != nil {
		return fmt.Errorf("store: read schema version: %w", err)
	}
	if have > len(ms) {
		return fmt.Errorf("store: database schema version %d is newer than this binary's %d", have, len(ms))
	}
	for _, m := range ms[have:] {
		if max > 0 && m.version > max {
			break
		}
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("store: migration %s: %w", m.name, err)
		}
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			tx.Rollback()
			return fmt.Errorf("store: migration %s: %w", m.name, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
			m.version, m.name, time.Now().UnixMilli()); err != nil {
			tx.Rollback()
			return fmt.Errorf("store: migration %s: %w", m.name, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("store: migration %s: %w", m.name, err)
		}
	}
	return nil
}

// SchemaVersion returns the file's schema version.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := s.r.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v)
	return v, err
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.r.PingContext(ctx) }

func ms(t time.Time) int64 { return t.UnixMilli() }

func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
