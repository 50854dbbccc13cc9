package hub

import (
	"math"
	"sync"
	"time"
)

// limiter is a token bucket per key (Turner 1986): each key earns rate tokens per second up to
// burst, and a request spends one. Buckets untouched long enough to be full again are dropped.
type limiter struct {
	rate, burst float64
	now         func() time.Time
	mu          sync.Mutex
	buckets     map[string]*bucket
	swept       time.Time
}

type bucket struct {
	tokens float64
	at     time.Time
}

func newLimiter(rate float64, burst int, now func() time.Time) *limiter {
	return &limiter{rate: rate, burst: float64(burst), now: now, buckets: map[string]*bucket{}}
}

// take spends a token of key. If none is left it returns false and how long until one is.
func (l *limiter) take(key string) (ok bool, wait time.Duration) {
	if l == nil || l.rate <= 0 {
		return true, 0
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.swept) > time.Minute {
		l.sweep(now)
	}
	b := l.buckets[key]
	if b == nil {
		b = &bucket{tokens: l.burst, at: now}
		l.buckets[key] = b
	}
	b.tokens = math.Min(l.burst, b.tokens+now.Sub(b.at).Seconds()*l.rate)
	b.at = now
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
}

// sweep drops buckets that would be full by now: they hold no state worth keeping.
func (l *limiter) sweep(now time.Time) {
	full := time.Duration(l.burst / l.rate * float64(time.Second))
	for k, b := range l.buckets {
		if now.Sub(b.at) > full {
			delete(l.buckets, k)
		}
	}
	l.swept = now
}

// limit applies l to key and turns a refusal into a 429 with Retry-After.
func (h *Hub) limit(l *limiter, key string) error {
	ok, wait := l.take(key)
	if ok {
		return nil
	}
	return errRateLimited(int(math.Ceil(wait.Seconds())))
}
