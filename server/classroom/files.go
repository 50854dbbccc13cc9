package classroom

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/prefer-rlhf/prefer/core/ppo"
	"github.com/prefer-rlhf/prefer/core/reward"
	"github.com/prefer-rlhf/prefer/server/hub"
	"github.com/prefer-rlhf/prefer/server/store"
)

// policyClip is a drawn clip of one policy version.
type policyClip struct {
	version int
	svg     []byte
}

// ClipSeconds is how much env time the dashboard's policy clip plays before it loops.
const ClipSeconds = 6

// policyFile: GET /classroom/api/projects/{pid}/policy (teacher) downloads the latest policy
// in the file format of prefer train, which prefer eval loads (for a behaviour, evaluate it on
// "checker/"+env to score it with the checker).
func (h *Handler) policyFile(w http.ResponseWriter, r *http.Request) error {
	pid := r.PathValue("pid")
	if err := h.authorize(r, pid); err != nil {
		return err
	}
	p, err := h.store.LatestPolicy(r.Context(), pid)
	if err != nil {
		return notFound(err, "pid", "no policy yet: the trainer has not published one")
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="policy-%s-v%d.bin"`, pid, p.Version))
	w.Header().Set("Cache-Control", "no-store")
	w.Write(p.Weights)
	return nil
}

// rewardModelFile: GET /classroom/api/projects/{pid}/reward-model (teacher) downloads the latest
// reward model in core/reward's stored form (JSON, format "prefer-reward"), which prefer train
// --reward-model trains a policy on and prefer eval --reward-model scores a policy with. The
// store holds each version in that form (server/trainer publishes json.Marshal of the model);
// it is decoded and encoded again, so that what is served is exactly what reward.Model's
// decoder accepts, whatever a remote trainer sent.
func (h *Handler) rewardModelFile(w http.ResponseWriter, r *http.Request) error {
	pid := r.PathValue("pid")
	if err := h.authorize(r, pid); err != nil {
		return err
	}
	sm, err := h.store.Model(r.Context(), pid, 0)
	if err != nil {
		return notFound(err, "pid", "no reward model yet: the trainer has not published one")
	}
	var m reward.Model
	var b []byte
	if err = m.UnmarshalJSON(sm.Weights); err == nil {
		b, err = m.MarshalJSON()
	}
	if err != nil {
		return fmt.Errorf("classroom: reward model version %d of %s is not in core/reward's format: %w", sm.Version, pid, err)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="reward-model-%s-v%d.json"`, pid, sm.Version))
	w.Header().Set("Cache-Control", "no-store")
	w.Write(b)
	return nil
}

// policyClip: GET /classroom/api/projects/{pid}/clip.svg (teacher) is the latest policy
// playing ClipSeconds of its task from a fixed start, as a looping animated SVG; drawn once per
// policy version.
func (h *Handler) policyClip(w http.ResponseWriter, r *http.Request) error {
	pid := r.PathValue("pid")
	if err := h.authorize(r, pid); err != nil {
		return err
	}
	proj, err := h.store.Project(r.Context(), pid)
	if err == nil && isText(proj.Env) {
		return hub.NotFound("pid", "project "+pid+" is a text project: its policy's continuations are at policy-text")
	}
	if err == nil {
		var lp *store.Policy
		if lp, err = h.store.LatestPolicy(r.Context(), pid); err == nil {
			h.mu.Lock()
			c, ok := h.clip[pid]
			h.mu.Unlock()
			if !ok || c.version != lp.Version {
				var pol ppo.Policy
				if err = pol.UnmarshalBinary(lp.Weights); err == nil {
					c.version = lp.Version
					c.svg, err = PolicyClipSVG(&pol, proj.Env, ClipSeconds, 1, 480)
				}
				if err == nil {
					h.mu.Lock()
					h.clip[pid] = c
					h.mu.Unlock()
				}
			}
			if err == nil {
				w.Header().Set("Content-Type", "image/svg+xml")
				w.Header().Set("Cache-Control", "no-store")
				w.Header().Set("X-Policy-Version", strconv.Itoa(c.version))
				w.Write(c.svg)
				return nil
			}
		}
	}
	return notFound(err, "pid", "no policy yet")
}
