package hub

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/prefer-rlhf/prefer/core/lm"
	"github.com/prefer-rlhf/prefer/core/text"
	"github.com/prefer-rlhf/prefer/server/store"
)

// getPolicy: GET /api/v1/projects/{pid}/policy: the latest published policy of a text project,
// the language model the app samples "Try it" continuations from (issue 13). The trainer
// stores it in core/lm's codec with float64 parameters; the answer has float32 ones, half the
// bytes (lm.MarshalBinaryFloat32), for a download to every rater. A published version never
// changes, so the ETag names the version and If-None-Match with it answers 304 after one
// cheap query, without reading the weights.
func (h *Hub) getPolicy(w http.ResponseWriter, r *http.Request) error {
	_, proj, err := h.forProject(r, false)
	if err != nil {
		return err
	}
	if _, ok := text.TaskOf(proj.Env); !ok {
		return errNotFound("pid", "project "+proj.ID+" is not a text project (env "+proj.Env+"): only a text project's policy is served for the browser")
	}
	ctx := r.Context()
	v, err := h.store.LatestPolicyVersion(ctx, proj.ID)
	if err != nil {
		return err
	}
	if v == 0 {
		return errNotPublished(proj.ID)
	}
	if r.Header.Get("If-None-Match") == policyETag(v) {
		policyHeaders(w, v)
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	p, err := h.store.LatestPolicy(ctx, proj.ID)
	if errors.Is(err, store.ErrNotFound) {
		return errNotPublished(proj.ID)
	} else if err != nil {
		return err
	}
	m, err := lm.Decode(p.Weights)
	if err != nil {
		return fmt.Errorf("hub: policy version %d of project %s: %w", p.Version, proj.ID, err)
	}
	body, err := m.MarshalBinaryFloat32()
	if err != nil {
		return err
	}
	policyHeaders(w, p.Version)
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	w.Write(body)
	return nil
}

// policyETag is the ETag of policy version v of a project (its URL names the project).
func policyETag(v int) string { return `"policy-` + strconv.Itoa(v) + `"` }

// policyHeaders sets the version and caching headers of a policy answer. Private: it sits
// behind a token; no-cache: a newer version may replace it at any time, so the app revalidates.
func policyHeaders(w http.ResponseWriter, v int) {
	w.Header().Set("X-Policy-Version", strconv.Itoa(v))
	w.Header().Set("ETag", policyETag(v))
	w.Header().Set("Cache-Control", "private, no-cache")
	w.Header().Set("X-Content-Type-Options", "nosniff")
}

func errNotPublished(pid string) *Error {
	return errNotFound("pid", "project "+pid+" has no policy yet: the trainer publishes the reference model as policy 1 after its first round")
}
