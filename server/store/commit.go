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
	max                int // the rater's cap (0: none)
	received           int64
	done               chan commitRes
}

// commitRes lists the ids that were newly inserted, which of the others are stored (and
// whether under this rater), and the rater's label count after the insert.
type commitRes struct {
	inserted []string
	stored   map[string]bool
	labels   int
	err      error
}

type committer struct {
	db *sql.DB
	// Statements prepared once on the writer connection.
	insert, capped, stored, touch, count, pairRaters *sql.Stmt
	ch                                               chan *commitReq
	mu                                               sync.RWMutex // guards closed against sends racing with stop
	closed                                           bool
	done                                             chan struct{}
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
	var sts [6]*sql.Stmt
	for i, q := range []string{SQLInsertComparisons, SQLInsertComparisonsCapped, SQLStoredComparisons, SQLTouchRater, SQLAddRaterLabels, SQLCountPairRaters} {
		st, err := c.db.Prepare(q)
		if err != nil {
			for _, p := range sts[:i] {
				p.Close()
			}
			return fmt.Errorf("store: %w", err)
		}
		sts[i] = st
	}
	c.insert, c.capped, c.stored, c.touch, c.count, c.pairRaters = sts[0], sts[1], sts[2], sts[3], sts[4], sts[5]
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
	for _, st := range []*sql.Stmt{c.insert, c.capped, c.stored, c.touch, c.count, c.pairRaters} {
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
		if err := c.insertOne(ctx, tx, r, &out[i]); err != nil {
			return nil, err
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

// insertOne inserts one request's comparisons inside tx (up to its cap), counting the pairs
// the rater labels for the first time, and learns which of the others are stored already.
func (c *committer) insertOne(ctx context.Context, tx *sql.Tx, r *commitReq, out *commitRes) error {
	// Before the insert: the count finds the rater's first labels on pairs among the rows the
	// insert is about to add (SQLCountPairRaters).
	if _, err := tx.StmtContext(ctx, c.pairRaters).ExecContext(ctx, r.raterID, r.items, r.max); err != nil {
		return fmt.Errorf("store: count pair raters: %w", err)
	}
	var rows *sql.Rows
	var err error
	if r.max > 0 {
		rows, err = tx.StmtContext(ctx, c.capped).QueryContext(ctx, r.projectID, r.raterID, r.received, r.items, r.max)
	} else {
		rows, err = tx.StmtContext(ctx, c.insert).QueryContext(ctx, r.projectID, r.raterID, r.received, r.items)
	}
	if err != nil {
		return fmt.Errorf("store: insert comparisons: %w", err)
	}
	out.inserted = make([]string, 0, r.n)
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return fmt.Errorf("store: insert comparisons: %w", err)
		}
		out.inserted = append(out.inserted, id)
	}
	if err := rows.Close(); err != nil {
		return fmt.Errorf("store: insert comparisons: %w", err)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: insert comparisons: %w", err)
	}
	// Right after the insert: its changes() are the rows it inserted.
	if err := tx.StmtContext(ctx, c.count).QueryRowContext(ctx, r.raterID).Scan(&out.labels); err != nil {
		return fmt.Errorf("store: count rater labels: %w", err)
	}
	if len(out.inserted) == r.n {
		return nil
	}
	// Some were not inserted: learn which are stored, and whose.
	rows, err = tx.StmtContext(ctx, c.stored).QueryContext(ctx, r.items, r.raterID)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	defer rows.Close()
	out.stored = map[string]bool{}
	for rows.Next() {
		var id string
		var mine bool
		if err := rows.Scan(&id, &mine); err != nil {
			return fmt.Errorf("store: %w", err)
		}
		out.stored[id] = mine
	}
	return rows.Err()
}
