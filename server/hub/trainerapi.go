package hub

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"

	"github.com/prefer-rlhf/prefer/core/prefs"
	"github.com/prefer-rlhf/prefer/core/text"
	"github.com/prefer-rlhf/prefer/server/store"
)

// The trainer API: teacher-only endpoints under /api/v1/projects/{pid}/trainer/ through which a
// remote trainer (`prefer trainer --hub URL`) does what `prefer serve`'s in-process trainer does
// through the store: read labels, clips, private model updates and its checkpoint, and publish
// a round. The Worker has no trainer of its own and is trained this way; `prefer serve` serves
// the same endpoints. They map one to one onto server/trainer's Store interface, but for PUT
// .../trainer/text (textbundle.go): a text project's tokenizer, which the Worker, having no
// corpus, gets from its trainer.

// TrainerStore is what the trainer API needs beyond Store. *store.Store and the Worker's D1
// store implement it.
type TrainerStore interface {
	Labels(ctx context.Context, projectID string, after int64, withExcluded bool) ([]store.Label, error)
	ClipsByID(ctx context.Context, projectID string, ids []string) (map[string]prefs.Clip, error)
	ModelUpdates(ctx context.Context, projectID, status string) ([]store.ModelUpdate, error)
	Checkpoint(ctx context.Context, projectID string) (round int, state []byte, err error)
	PublishRound(ctx context.Context, r *store.Round) error
}

// Limits of the trainer API.
const (
	// MaxRoundBody caps a published round: it carries the reward ensemble's weights, the policy
	// and the trainer's checkpoint, so it is larger than the 1 MiB of other requests.
	MaxRoundBody = 32 << 20
	// MaxClipLookup caps the ids of one clip lookup.
	MaxClipLookup = 1000
	// MaxRoundClips and MaxRoundPairs cap what one round publishes.
	MaxRoundClips = 5000
	MaxRoundPairs = 2000
)

func (h *Hub) trainerRoutes() {
	h.api("GET /api/v1/projects/{pid}/trainer/labels", h.trainerLabels)
	h.api("POST /api/v1/projects/{pid}/trainer/clips", h.trainerClips)
	h.api("GET /api/v1/projects/{pid}/trainer/updates", h.trainerUpdates)
	h.api("GET /api/v1/projects/{pid}/trainer/checkpoint", h.trainerCheckpoint)
	h.api("POST /api/v1/projects/{pid}/trainer/rounds", h.trainerPublish)
	h.api("PUT /api/v1/projects/{pid}/trainer/text", h.putTrainerText) // textbundle.go
}

// trainerStore authenticates a trainer request (teacher token, existing project) and returns
// the store's trainer side.
func (h *Hub) trainerStore(r *http.Request) (TrainerStore, *store.Project, error) {
	_, proj, err := h.forProject(r, true)
	if err != nil {
		return nil, nil, err
	}
	ts, ok := h.store.(TrainerStore)
	if !ok {
		return nil, nil, &Error{Status: http.StatusNotImplemented, Code: "not_implemented", Message: "this server's store has no trainer API"}
	}
	return ts, proj, nil
}

// LabelJSON is one comparison as the trainer reads it: its arrival number and its pair's clips.
type LabelJSON struct {
	Seq     int64  `json:"seq"`
	ID      string `json:"id"`
	RaterID string `json:"rater_id"`
	PairID  string `json:"pair_id"`
	Choice  string `json:"choice"`
	Left    string `json:"left"`
	Right   string `json:"right"`
}

// trainerLabels: GET .../trainer/labels?after=SEQ&excluded=false -> {"labels": [...]}, in
// arrival order, excluded raters' labels left out unless excluded=true.
func (h *Hub) trainerLabels(w http.ResponseWriter, r *http.Request) error {
	ts, proj, err := h.trainerStore(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	var after int64
	if s := q.Get("after"); s != "" {
		if after, err = strconv.ParseInt(s, 10, 64); err != nil || after < 0 {
			return errInvalid("after", "after must be an integer >= 0")
		}
	}
	withExcluded := false
	switch q.Get("excluded") {
	case "", "false":
	case "true":
		withExcluded = true
	default:
		return errInvalid("excluded", "excluded must be true or false")
	}
	ls, err := ts.Labels(r.Context(), proj.ID, after, withExcluded)
	if err != nil {
		return err
	}
	out := make([]LabelJSON, len(ls))
	for i, l := range ls {
		out[i] = LabelJSON{l.Seq, l.ID, l.RaterID, l.PairID, string(l.Choice), l.Left, l.Right}
	}
	writeJSON(w, http.StatusOK, map[string]any{"labels": out})
	return nil
}

// trainerClips: POST .../trainer/clips {"ids": [...]} -> {"clips": [Clip...]}: the project's
// clips among ids (unknown ids are left out).
func (h *Hub) trainerClips(w http.ResponseWriter, r *http.Request) error {
	ts, proj, err := h.trainerStore(r)
	if err != nil {
		return err
	}
	body, err := readBody(w, r, h.cfg.MaxBody)
	if err != nil {
		return err
	}
	var req struct {
		IDs []string `json:"ids"`
	}
	if e := decodeStrict(body, &req, ""); e != nil {
		return e
	}
	if len(req.IDs) > MaxClipLookup {
		return errInvalid("ids", fmt.Sprintf("ids may hold at most %d clip ids", MaxClipLookup))
	}
	for i, id := range req.IDs {
		if !prefs.ValidUUID(id) {
			return errInvalid(fmt.Sprintf("ids[%d]", i), "must be a UUID")
		}
	}
	m, err := ts.ClipsByID(r.Context(), proj.ID, req.IDs)
	if err != nil {
		return err
	}
	out := make([]prefs.Clip, 0, len(m))
	for _, id := range req.IDs {
		if c, ok := m[id]; ok {
			out = append(out, c)
			delete(m, id)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"clips": out})
	return nil
}

// UpdateJSON is a private model update as the trainer reads it; the delta is little-endian
// float32, base64 (as a sync's delta_f32).
type UpdateJSON struct {
	ID          string             `json:"id"`
	RaterID     string             `json:"rater_id"`
	BaseVersion int                `json:"base_version"`
	Labels      int                `json:"labels"`
	DeltaF32    string             `json:"delta_f32"`
	Metrics     map[string]float64 `json:"metrics"`
	Status      string             `json:"status"`
	MergedInto  int                `json:"merged_into"`
	Reason      string             `json:"reason"`
	ReceivedAt  string             `json:"received_at"`
}

// trainerUpdates: GET .../trainer/updates?status=pending -> {"updates": [...]}, oldest first.
func (h *Hub) trainerUpdates(w http.ResponseWriter, r *http.Request) error {
	ts, proj, err := h.trainerStore(r)
	if err != nil {
		return err
	}
	status := r.URL.Query().Get("status")
	switch status {
	case "", "pending", "merged", "rejected":
	default:
		return errInvalid("status", `status must be "pending", "merged" or "rejected" (or absent for all)`)
	}
	us, err := ts.ModelUpdates(r.Context(), proj.ID, status)
	if err != nil {
		return err
	}
	out := make([]UpdateJSON, len(us))
	for i, u := range us {
		met := u.Metrics
		if met == nil {
			met = map[string]float64{}
		}
		out[i] = UpdateJSON{u.ID, u.RaterID, u.BaseVersion, u.Labels, base64.StdEncoding.EncodeToString(store.EncodeDelta(u.Delta)),
			met, u.Status, u.MergedInto, u.Reason, u.ReceivedAt.UTC().Format("2006-01-02T15:04:05.000Z07:00")}
	}
	writeJSON(w, http.StatusOK, map[string]any{"updates": out})
	return nil
}

// trainerCheckpoint: GET .../trainer/checkpoint -> {"round": n, "state": base64}, or 404.
func (h *Hub) trainerCheckpoint(w http.ResponseWriter, r *http.Request) error {
	ts, proj, err := h.trainerStore(r)
	if err != nil {
		return err
	}
	round, state, err := ts.Checkpoint(r.Context(), proj.ID)
	if errors.Is(err, store.ErrNotFound) {
		return errNotFound("", "no checkpoint yet")
	} else if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"round": round, "state": state})
	return nil
}

// RoundJSON is a published round: store.Round on the wire. Byte fields are base64.
type RoundJSON struct {
	Round        int               `json:"round"`
	Checkpoint   []byte            `json:"checkpoint"`
	Model        *RoundModelJSON   `json:"model"`
	Policy       *RoundPolicyJSON  `json:"policy"`
	Clips        []prefs.Clip      `json:"clips"`
	Pairs        []RoundPairJSON   `json:"pairs"`
	ReplacePairs bool              `json:"replace_pairs"`
	Merged       []string          `json:"merged"`
	Rejected     map[string]string `json:"rejected"`
}

// RoundModelJSON is a new reward-model version.
type RoundModelJSON struct {
	Version   int                `json:"version"`
	Weights   json.RawMessage    `json:"weights"`
	NumParams int                `json:"num_params"`
	Metrics   map[string]float64 `json:"metrics"`
}

// RoundPolicyJSON is a new policy checkpoint; a null return is unknown.
type RoundPolicyJSON struct {
	Version       int      `json:"version"`
	Weights       []byte   `json:"weights"`
	LearnedReturn *float64 `json:"learned_return"`
	TrueReturn    *float64 `json:"true_return"`
	KL            *float64 `json:"kl,omitempty"` // from the initial policy per step; null or absent: unknown
	EnvSteps      int64    `json:"env_steps"`
	Labels        int      `json:"labels"`
}

// RoundPairJSON is a new pair of clip ids.
type RoundPairJSON struct {
	ID       string  `json:"id"`
	Left     string  `json:"left"`
	Right    string  `json:"right"`
	Priority float64 `json:"priority"`
	// Tag is "red_team" for a pair of the trainer's adversary, else empty.
	Tag string `json:"tag,omitempty"`
}

// trainerPublish: POST .../trainer/rounds RoundJSON -> 201 {"round": n}. A round whose number
// is not above the stored checkpoint's is a retry of one already published: 200
// {"round": n, "duplicate": true}, and nothing is written.
func (h *Hub) trainerPublish(w http.ResponseWriter, r *http.Request) error {
	ts, proj, err := h.trainerStore(r)
	if err != nil {
		return err
	}
	body, err := readBody(w, r, MaxRoundBody)
	if err != nil {
		return err
	}
	var in RoundJSON
	if e := decodeStrict(body, &in, ""); e != nil {
		return e
	}
	ctx := r.Context()
	if in.Round < 1 {
		return errInvalid("round", "round must be >= 1")
	}
	last, _, err := ts.Checkpoint(ctx, proj.ID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		last = 0
	case err != nil:
		return err
	}
	if in.Checkpoint != nil && in.Round <= last {
		writeJSON(w, http.StatusOK, map[string]any{"round": in.Round, "duplicate": true})
		return nil
	}
	out, e := h.checkRound(ctx, ts, proj, &in)
	if e != nil {
		return e
	}
	if err := ts.PublishRound(ctx, out); err != nil {
		return err
	}
	h.forget(proj.ID) // syncs see the new versions at once (status.go)
	writeJSON(w, http.StatusCreated, map[string]any{"round": in.Round})
	return nil
}

// checkRound validates a published round against the project and turns it into a store.Round.
func (h *Hub) checkRound(ctx context.Context, ts TrainerStore, proj *store.Project, in *RoundJSON) (*store.Round, error) {
	out := &store.Round{ProjectID: proj.ID, Round: in.Round, Checkpoint: in.Checkpoint, ReplacePairs: in.ReplacePairs,
		Merged: in.Merged, Rejected: in.Rejected}
	if m := in.Model; m != nil {
		latest, err := h.store.LatestModelVersion(ctx, proj.ID)
		if err != nil {
			return nil, err
		}
		if m.Version != latest+1 {
			return nil, errInvalid("model.version", fmt.Sprintf("model.version must be %d (the latest is %d)", latest+1, latest))
		}
		if !json.Valid(m.Weights) || len(m.Weights) == 0 || m.Weights[0] != '{' {
			return nil, errInvalid("model.weights", "model.weights must be a JSON object (core/reward's format)")
		}
		if m.NumParams < 1 {
			return nil, errInvalid("model.num_params", "model.num_params must be >= 1")
		}
		out.Model = &store.Model{ProjectID: proj.ID, Version: m.Version, Weights: m.Weights, NumParams: m.NumParams, Metrics: m.Metrics}
	}
	if (len(in.Merged) > 0) && in.Model == nil {
		return nil, errInvalid("merged", "merged updates need a new model version")
	}
	if p := in.Policy; p != nil {
		latest, err := h.store.LatestPolicyVersion(ctx, proj.ID)
		if err != nil {
			return nil, err
		}
		if p.Version != latest+1 {
			return nil, errInvalid("policy.version", fmt.Sprintf("policy.version must be %d (the latest is %d)", latest+1, latest))
		}
		if len(p.Weights) == 0 {
			return nil, errInvalid("policy.weights", "policy.weights must not be empty")
		}
		if p.EnvSteps < 0 || p.Labels < 0 {
			return nil, errInvalid("policy", "policy.env_steps and policy.labels must be >= 0")
		}
		pol := &store.Policy{ProjectID: proj.ID, Version: p.Version, Weights: p.Weights, LearnedReturn: math.NaN(), TrueReturn: math.NaN(),
			KL: math.NaN(), EnvSteps: p.EnvSteps, Labels: p.Labels}
		if p.LearnedReturn != nil {
			pol.LearnedReturn = *p.LearnedReturn
		}
		if p.TrueReturn != nil {
			pol.TrueReturn = *p.TrueReturn
		}
		if p.KL != nil {
			if !(*p.KL >= 0) || math.IsInf(*p.KL, 0) {
				return nil, errInvalid("policy.kl", "policy.kl must be finite and >= 0")
			}
			pol.KL = *p.KL
		}
		out.Policy = pol
	}
	if len(in.Clips) > MaxRoundClips {
		return nil, errInvalid("clips", fmt.Sprintf("a round may publish at most %d clips", MaxRoundClips))
	}
	if len(in.Pairs) > MaxRoundPairs {
		return nil, errInvalid("pairs", fmt.Sprintf("a round may publish at most %d pairs", MaxRoundPairs))
	}
	var tr *textReader // a text project's stored bundle, which reads its clips
	if _, ok := text.TaskOf(proj.Env); ok && len(in.Clips) > 0 {
		var err error
		if tr, err = h.projectText(ctx, proj, "clips"); err != nil {
			return nil, err
		}
	}
	here := map[string]bool{}
	for i := range in.Clips {
		c := &in.Clips[i]
		f := fmt.Sprintf("clips[%d]", i)
		if !prefs.ValidUUID(c.ID) {
			return nil, errInvalid(f+".id", "must be a UUID")
		}
		if c.Env != proj.Env {
			return nil, errInvalid(f+".env", "must be the project's env "+strconv.Quote(proj.Env))
		}
		if err := c.Validate(); err != nil {
			var fe *prefs.FieldError
			if errors.As(err, &fe) {
				return nil, errInvalid(f+"."+fe.Field, f+"."+fe.Field+" "+fe.Reason)
			}
			return nil, errInvalid(f, err.Error())
		}
		if tr != nil {
			if err := checkTextClip(tr, c, f); err != nil {
				return nil, err
			}
		}
		if here[c.ID] {
			return nil, errInvalid(f+".id", "is repeated in this round")
		}
		here[c.ID] = true
	}
	if len(here) > 0 {
		ids := make([]string, 0, len(here))
		for _, c := range in.Clips {
			ids = append(ids, c.ID)
		}
		dup, err := ts.ClipsByID(ctx, proj.ID, ids)
		if err != nil {
			return nil, err
		}
		for i, c := range in.Clips {
			if _, ok := dup[c.ID]; ok {
				return nil, errInvalid(fmt.Sprintf("clips[%d].id", i), "a clip with this id is already stored")
			}
		}
	}
	var elsewhere []string
	pairIDs := map[string]bool{}
	for i, p := range in.Pairs {
		f := fmt.Sprintf("pairs[%d]", i)
		if !prefs.ValidUUID(p.ID) || pairIDs[p.ID] {
			return nil, errInvalid(f+".id", "must be a UUID not repeated in this round")
		}
		pairIDs[p.ID] = true
		for _, side := range [2]struct{ name, id string }{{"left", p.Left}, {"right", p.Right}} {
			name, id := side.name, side.id
			if !prefs.ValidUUID(id) {
				return nil, errInvalid(f+"."+name, "must be a clip's UUID")
			}
			if !here[id] {
				elsewhere = append(elsewhere, id)
			}
		}
		if p.Left == p.Right {
			return nil, errInvalid(f+".right", "a pair needs two different clips")
		}
		if math.IsNaN(p.Priority) || math.IsInf(p.Priority, 0) {
			return nil, errInvalid(f+".priority", "must be finite")
		}
		if !store.ValidTag(p.Tag) {
			return nil, errInvalid(f+".tag", "must be empty or \"red_team\"")
		}
		out.Pairs = append(out.Pairs, store.NewPair{ID: p.ID, Left: p.Left, Right: p.Right, Priority: p.Priority, Tag: p.Tag})
	}
	if len(elsewhere) > 0 {
		known, err := ts.ClipsByID(ctx, proj.ID, elsewhere)
		if err != nil {
			return nil, err
		}
		for i, p := range in.Pairs {
			for _, side := range [2]struct{ name, id string }{{"left", p.Left}, {"right", p.Right}} {
				if _, ok := known[side.id]; !ok && !here[side.id] {
					return nil, errInvalid(fmt.Sprintf("pairs[%d].%s", i, side.name), "no clip "+side.id+" in this round or this project")
				}
			}
		}
	}
	out.Clips = in.Clips
	return out, nil
}
