package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
)

// Group commit. Every acknowledged comparison must be on disk (synchronous=FULL fsyncs the WAL
// at each commit), and an fsync costs far more than inserting a row. So one goroutine owns the
// writes of comparisons: it takes every request waiting when it is free, inserts them all in
// one transaction, commits once, and only then answers each request. Under load, requests that
// arrive during one fsync share the next one; alone, a request waits for no one.

// Caps on one group, so that one transaction stays short.
const (
	maxGroupRequests = 512
	maxGroupItems    = 50_000
)

// commitReq is one request's comparisons, already validated by the caller.
type commitReq struct {
	projectID, raterID string
	items              string // JSON array of {id, pair_id, choice, created_at, response_ms} for json_each
	n                  int
	received           int64
	done               chan commitRes
}

// commitRes lists the ids that were newly inserted and those already present under another
// rater's name.
type commitRes struct {
	inserted []string
	foreign  []string
	err      error
}

type committer struct {
	db *sql.DB
	// Statements prepared once on the writer connection.
	insert, foreign, touch *sql.Stmt
	ch                     chan *commitReq
	mu                     sync.RWMutex // guards closed against sends racing with stop
	closed                 bool
	done                   chan struct{}
}

// ErrClosed is returned for writes submitted after Close.
var ErrClosed = errors.New("store: closed")

func newCommitter(db *sql.DB) (*committer, error) {
	c := &committer{db: db, ch: make(chan *commitReq, maxGroupRequests), done: make(chan struct{})}
	go c.loop()
	return c, nil
}

// prepare prepares the statements on first use (a store opened at an older schema version, in
// tests, must not fail to open because of them).
func (c *committer) prepare() error {
	if c.insert != nil {
		return nil
	}
	var sts [3]*sql.Stmt
	for i, q := range []string{insertComparisons, foreignComparisons, touchRater} {
		st, err := c.db.Prepare(q)
		if err != nil {
			for _, p := range sts[:i] {
				p.Close()
			}
			return fmt.Errorf("store: %w", err)
		}
		sts[i] = st
	}
	c.insert, c.foreign, c.touch = sts[0], sts[1], sts[2]
	return nil
}

// submit queues r and waits for its group to commit. The wait ignores ctx once queued: the
// result must reach the caller even if it stops listening, because the rows are written.
func (c *committer) submit(ctx context.Context, r *commitReq) commitRes {
	r.done = make(chan commitRes, 1)
	c.mu.RLock()
	if c.closed {
		c.mu.RUnlock()
		return commitRes{err: ErrClosed}
	}
	select {
	case c.ch <- r:
	case <-ctx.Done():
		c.mu.RUnlock()
		return commitRes{err: ctx.Err()}
	}
	c.mu.RUnlock()
	return <-r.done
}

// stop commits what is queued and ends the loop.
func (c *committer) stop() {
	c.mu.Lock()
	if !c.closed {
		c.closed = true
		close(c.ch)
	}
	c.mu.Unlock()
	<-c.done
	for _, st := range []*sql.Stmt{c.insert, c.foreign, c.touch} {
		if st != nil {
			st.Close()
		}
	}
}

func (c *committer) loop() {
	defer close(c.done)
	group := make([]*commitReq, 0, maxGroupRequests)
	for r := range c.ch {
		group = append(group[:0], r)
		items := r.n
	gather:
		for len(group) < maxGroupRequests && items < maxGroupItems {
			select {
			case r, ok := <-c.ch:
				if !ok {
					break gather
				}
				group = append(group, r)
				items += r.n
			default:
				break gather
			}
		}
		res, err := c.write(group)
		if err != nil && len(group) > 1 {
			// Something in the group failed: write each request on its own so that one bad
			// request cannot fail the others.
			for _, r := range group {
				one, err := c.write([]*commitReq{r})
				if err != nil {
					r.done <- commitRes{err: err}
				} else {
					r.done <- one[0]
				}
			}
			continue
		}
		for i, r := range group {
			if err != nil {
				r.done <- commitRes{err: err}
			} else {
				r.done <- res[i]
			}
		}
	}
}

const insertComparisons = `INSERT INTO comparisons (id, project_id, rater_id, pair_id, choice, created_at, response_ms, received_at)
	SELECT json_extract(value, '$.id'), ?1, ?2, json_extract(value, '$.pair_id'), json_extract(value, '$.choice'),
	       json_extract(value, '$.created_at'), json_extract(value, '$.response_ms'), ?3
	FROM json_each(?4) WHERE true
	ON CONFLICT(id) DO NOTHING
	RETURNING id`

const foreignComparisons = `SELECT id FROM comparisons WHERE id IN (SELECT json_extract(value, '$.id') FROM json_each(?1)) AND rater_id <> ?2`

const touchRater = `UPDATE raters SET last_seen_at = ?1 WHERE id = ?2`

// write inserts a group in one transaction and commits it.
func (c *committer) write(group []*commitReq) ([]commitRes, error) {
	ctx := context.Background()
	if err := c.prepare(); err != nil {
		return nil, err
	}
	tx, err := c.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("store: begin: %w", err)
	}
	defer tx.Rollback()
	out := make([]commitRes, len(group))
	touched := map[string]int64{}
	for i, r := range group {
		touched[r.raterID] = max(touched[r.raterID], r.received)
		if r.n == 0 {
			continue
		}
		rows, err := tx.StmtContext(ctx, c.insert).QueryContext(ctx, r.projectID, r.raterID, r.received, r.items)
		if err != nil {
			return nil, fmt.Errorf("store: insert comparisons: %w", err)
		}
		ins := make([]string, 0, r.n)
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, fmt.Errorf("store: insert comparisons: %w", err)
			}
			ins = append(ins, id)
		}
		if err := rows.Close(); err != nil {
			return nil, fmt.Errorf("store: insert comparisons: %w", err)
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("store: insert comparisons: %w", err)
		}
		out[i].inserted = ins
		if len(ins) < r.n {
			// Some were already there: find those another rater owns.
			rows, err := tx.StmtContext(ctx, c.foreign).QueryContext(ctx, r.items, r.raterID)
			if err != nil {
				return nil, fmt.Errorf("store: %w", err)
			}
			for rows.Next() {
				var id string
				if err := rows.Scan(&id); err != nil {
					rows.Close()
					return nil, fmt.Errorf("store: %w", err)
				}
				out[i].foreign = append(out[i].foreign, id)
			}
			rows.Close()
		}
	}
	for id, t := range touched {
		if _, err := tx.StmtContext(ctx, c.touch).ExecContext(ctx, t, id); err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("store: commit: %w", err)
	}
	return out, nil
}
