package main

import (
	"context"
	"log/slog"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/prefer-rlhf/prefer/server/classroom"
	"github.com/prefer-rlhf/prefer/server/hub"
)

// Store is what the Worker serves from: the hub's store and the classroom's (d1.Store).
type Store interface {
	hub.Store
	classroom.Store
}

// limiter is the rate-limit store: d1.Store's Take.
type limiter interface {
	Take(ctx context.Context, key string, rate float64, burst int) (ok bool, wait time.Duration, err error)
}

// newHandler is the Worker's whole API: the native hub's handlers (server/hub) and the teacher
// dashboard (server/classroom, without demo raters: nothing runs between requests) over the D1
// store, behind rate limits kept in D1. The hub's own limits are buckets in memory, which a
// Worker loses after every request, so here the same limits (hub.DefaultConfig) are applied
// before the hub sees the request, with the hub's 429 body and Retry-After.
//
// rate and burst override the per-token limit when positive (the Worker vars PREFER_RATE and
// PREFER_BURST).
func newHandler(st Store, lim limiter, log *slog.Logger, rate float64, burst int) http.Handler {
	d := hub.DefaultConfig()
	if rate > 0 {
		d.Rate = rate
	}
	if burst > 0 {
		d.Burst = burst
	}
	h := hub.New(st, hub.Config{Log: log, NoRateLimit: true})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var key string
		var rate float64
		var burst int
		switch {
		case r.Method == http.MethodPost && r.URL.Path == "/api/v1/join":
			// Per client address, as the hub does; the Workers runtime sets CF-Connecting-IP
			// (syumai/workers puts it in RemoteAddr).
			key, rate, burst = "j:"+r.RemoteAddr, d.JoinRate, d.JoinBurst
		case strings.HasPrefix(r.URL.Path, "/api/v1/projects") || strings.HasPrefix(r.URL.Path, "/classroom/api/"):
			// Per token, for every endpoint that needs one; without a token the hub answers 401.
			if tok, ok := hub.Bearer(r); ok {
				key, rate, burst = "t:"+hub.HashToken(tok), d.Rate, d.Burst
			}
		}
		if key != "" {
			ok, wait, err := lim.Take(r.Context(), key, rate, burst)
			if err != nil {
				// The limit cannot be read: let the request through rather than refuse service
				// on a fault of the limiter, and say so in the log.
				log.Error("worker: rate limit", slog.Any("err", err))
			} else if !ok {
				hub.WriteError(w, r, log, hub.RateLimited(int(math.Ceil(wait.Seconds()))))
				return
			}
		}
		if r.URL.Path == "/teacher" || strings.HasPrefix(r.URL.Path, "/classroom/") {
			// The join link on the dashboard is this Worker's own origin.
			cls := classroom.New(st, classroom.Options{JoinBase: origin(r), Log: log})
			cls.ServeHTTP(w, r)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// origin is the scheme and host the request came to.
func origin(r *http.Request) string {
	scheme := r.URL.Scheme
	if scheme == "" {
		scheme = "https"
		if r.TLS == nil && (strings.HasPrefix(r.Host, "localhost") || strings.HasPrefix(r.Host, "127.0.0.1")) {
			scheme = "http"
		}
	}
	return scheme + "://" + r.Host
}
