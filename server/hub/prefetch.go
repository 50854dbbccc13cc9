package hub

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/prefer-rlhf/prefer/core/prefs"
)

// PairLister is an optional Store method: which of ids are pairs of the project, in one query.
// The Worker's D1 store has it: a Worker keeps no pair cache between requests, so checking
// each comparison's pair on its own would cost a database round trip per comparison.
type PairLister interface {
	PairsExist(ctx context.Context, projectID string, ids []string) (map[string]bool, error)
}

// prefetchPairs fills the pair cache with the pairs a sync's comparisons name, in one query,
// when the store can list them. Items it cannot read are left to the per-item validation.
func (h *Hub) prefetchPairs(r *http.Request, pid string, items []json.RawMessage) {
	pl, ok := h.store.(PairLister)
	if !ok || len(items) == 0 {
		return
	}
	seen := map[string]bool{}
	var ids []string
	for _, raw := range items {
		var c struct {
			PairID string `json:"pair_id"`
		}
		if json.Unmarshal(raw, &c) != nil || !prefs.ValidUUID(c.PairID) || seen[c.PairID] {
			continue
		}
		if _, cached := h.pairs.Load(c.PairID); cached {
			continue
		}
		seen[c.PairID] = true
		ids = append(ids, c.PairID)
	}
	if len(ids) == 0 {
		return
	}
	known, err := pl.PairsExist(r.Context(), pid, ids)
	if err != nil {
		return // each item is checked on its own instead
	}
	for id, ok := range known {
		if ok {
			h.pairs.Store(id, pid)
		}
	}
}
