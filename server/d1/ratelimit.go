package d1

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// takeToken is a token bucket (Turner 1986) in one statement, so that concurrent requests in
// different Worker isolates cannot both spend the last token: the bucket refills at ?4 tokens
// per second up to ?2 since its last use, and spends one if at least one is there. SET
// expressions read the old row, so every CASE sees the same refilled value. ?1 key, ?3 now (ms).
const takeToken = `INSERT INTO rate_limits (key, tokens, granted, updated_at) VALUES (?1, ?2 - 1, 1, ?3)
	ON CONFLICT(key) DO UPDATE SET
	  tokens = CASE WHEN MIN(?2, tokens + MAX(0, ?3 - updated_at) * ?4 / 1000.0) >= 1
	                THEN MIN(?2, tokens + MAX(0, ?3 - updated_at) * ?4 / 1000.0) - 1
	                ELSE MIN(?2, tokens + MAX(0, ?3 - updated_at) * ?4 / 1000.0) END,
	  granted = (MIN(?2, tokens + MAX(0, ?3 - updated_at) * ?4 / 1000.0) >= 1),
	  updated_at = MAX(updated_at, ?3)
	RETURNING tokens, granted`

// sweepBuckets drops buckets unused for an hour: they would be full again, so hold nothing.
const sweepBuckets = `DELETE FROM rate_limits WHERE updated_at < ?1`

// Take spends one request of key's budget: rate per second, bursts of burst. When none is
// left it returns false and how long until one is.
func (s *Store) Take(ctx context.Context, key string, rate float64, burst int) (ok bool, wait time.Duration, err error) {
	if rate <= 0 || burst < 1 {
		return false, 0, fmt.Errorf("d1: rate limit: rate %v and burst %d must be positive", rate, burst)
	}
	now := ms(s.now())
	st := []Stmt{{takeToken, []any{key, float64(burst), now, rate}}}
	if rand.IntN(100) == 0 {
		st = append(st, Stmt{sweepBuckets, []any{now - time.Hour.Milliseconds()}})
	}
	rs, err := s.db.Batch(ctx, st...)
	if err != nil {
		return false, 0, fmt.Errorf("d1: rate limit: %w", err)
	}
	row := rs[0].Rows[0]
	if asInt(row[1]) != 0 {
		return true, 0, nil
	}
	tokens := asFloat(row[0])
	return false, time.Duration(math.Max(0, 1-tokens) / rate * float64(time.Second)), nil
}
