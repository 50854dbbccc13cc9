package hub

import (
	"context"
	"sync"
	"time"

	"github.com/prefer-rlhf/prefer/server/store"
)

// projectStatus caching. Every sync needs its project (settings, paused) and the latest model
// and policy versions; under load these three reads cost as much as the inserts they answer.
// They change only when a teacher acts (which invalidates the entry here) or the trainer
// publishes a round (seen within StatusTTL), so a short-lived cache serves them.

type statusEntry struct {
	proj          *store.Project
	model, policy int
	at            time.Time
}

type statusCache struct {
	mu sync.Mutex
	m  map[string]*statusEntry
}

// status returns project pid with its latest model and policy versions, at most StatusTTL old.
func (h *Hub) status(ctx context.Context, pid string) (*store.Project, int, int, error) {
	ttl := h.cfg.StatusTTL
	now := h.now()
	if ttl > 0 {
		h.statuses.mu.Lock()
		e := h.statuses.m[pid]
		h.statuses.mu.Unlock()
		if e != nil && now.Sub(e.at) < ttl {
			return e.proj, e.model, e.policy, nil
		}
	}
	proj, err := h.store.Project(ctx, pid)
	if err != nil {
		return nil, 0, 0, err
	}
	mv, err := h.store.LatestModelVersion(ctx, pid)
	if err != nil {
		return nil, 0, 0, err
	}
	pv, err := h.store.LatestPolicyVersion(ctx, pid)
	if err != nil {
		return nil, 0, 0, err
	}
	if ttl > 0 {
		h.statuses.mu.Lock()
		if h.statuses.m == nil || len(h.statuses.m) > 10_000 {
			h.statuses.m = map[string]*statusEntry{}
		}
		h.statuses.m[pid] = &statusEntry{proj, mv, pv, now}
		h.statuses.mu.Unlock()
	}
	return proj, mv, pv, nil
}

// forget drops a project's cached status after a teacher changed it.
func (h *Hub) forget(pid string) {
	h.statuses.mu.Lock()
	delete(h.statuses.m, pid)
	h.statuses.mu.Unlock()
}
