package hub

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/prefer-rlhf/prefer/core/merge"
	"github.com/prefer-rlhf/prefer/core/prefs"
	"github.com/prefer-rlhf/prefer/core/wire"
	"github.com/prefer-rlhf/prefer/server/store"
)

// syncRequest is the body of POST /api/v1/projects/{pid}/sync. Comparisons are kept raw so
// that each is decoded on its own: a bad one is rejected alone.
type syncRequest = wire.SyncRequest[json.RawMessage]

// syncResponse is the answer, with pairs' clips as stored.
type syncResponse = wire.SyncResponse[wire.Pair]

// wireComparison is one comparison as a client sends it. Fields are decoded as plain JSON
// types and validated here, so that every problem names its field.
type wireComparison struct {
	ID         string          `json:"id"`
	PairID     string          `json:"pair_id"`
	Choice     string          `json:"choice"`
	CreatedAt  string          `json:"created_at"`
	ResponseMS json.RawMessage `json:"response_ms"`
}

type wireModelUpdate struct {
	ID          string             `json:"id"`
	BaseVersion int                `json:"base_version"`
	Labels      int                `json:"labels"`
	Delta       []float64          `json:"delta"`
	DeltaF32    *string            `json:"delta_f32"`
	Metrics     map[string]float64 `json:"metrics"`
}

// MaxUpdateLabels bounds a model update's label count, its FedAvg weight.
const MaxUpdateLabels = 1_000_000

// sync: POST /api/v1/projects/{pid}/sync. See docs/api.md.
func (h *Hub) sync(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	p, err := h.authenticate(ctx, r)
	if err != nil {
		return err
	}
	pid := r.PathValue("pid")
	if p.rater == nil {
		return errForbidden("sync needs a rater token (join the project first)")
	}
	if p.rater.ProjectID != pid {
		return errForbidden("this token may not act on project " + pid)
	}
	rater := p.rater
	body, err := readBody(w, r, h.cfg.MaxBody)
	if err != nil {
		return err
	}
	var req syncRequest
	if e := decodeStrict(body, &req, ""); e != nil {
		return e
	}
	if len(req.Comparisons) > h.cfg.MaxBatch {
		return errBatchTooLarge(h.cfg.MaxBatch)
	}
	if req.WantPairs < 0 || req.WantPairs > h.cfg.MaxWantPairs {
		return errInvalid("want_pairs", fmt.Sprintf("want_pairs must be between 0 and %d", h.cfg.MaxWantPairs))
	}
	if len(req.SkipPairs) > h.cfg.MaxSkipPairs {
		return errInvalid("skip_pairs", fmt.Sprintf("skip_pairs may hold at most %d ids", h.cfg.MaxSkipPairs))
	}
	if req.HaveModelVersion < 0 {
		return errInvalid("have_model_version", "have_model_version must be >= 0")
	}
	var upd *wireModelUpdate
	if len(req.ModelUpdate) > 0 && string(req.ModelUpdate) != "null" {
		upd = new(wireModelUpdate)
		if e := decodeStrict(req.ModelUpdate, upd, "model_update."); e != nil {
			return e
		}
		if !prefs.ValidUUID(upd.ID) {
			return errInvalid("model_update.id", "model_update.id must be a UUID")
		}
	}

	now := h.now()
	res := syncResponse{Accepted: []string{}, Duplicates: []string{}, Rejected: []wire.Rejection{}, Pairs: []wire.Pair{}}

	// Validate each comparison on its own; keep the good ones.
	h.prefetchPairs(r, pid, req.Comparisons)
	good := make([]prefs.Comparison, 0, len(req.Comparisons))
	index := make(map[string]int, len(req.Comparisons)) // id -> position in the request
	var repeats []string
	for i, raw := range req.Comparisons {
		c, id, fe := h.parseComparison(r, pid, raw, now)
		if fe != nil {
			res.Rejected = append(res.Rejected, wire.Rejection{ID: id, Index: i, Field: fe.Field, Reason: fe.Reason})
			continue
		}
		if _, dup := index[c.ID]; dup {
			repeats = append(repeats, c.ID)
			continue
		}
		index[c.ID] = i
		good = append(good, c)
	}

	proj, latest, pv, err := h.status(ctx, pid)
	if err != nil {
		return err
	}
	// Store them, up to the rater's cap; this returns once they are committed to disk.
	capped := proj.Settings.MaxLabelsPerRater
	var labels int
	if len(good) > 0 {
		sr, err := h.store.AddComparisonsCapped(ctx, pid, rater.ID, good, now, capped)
		if err != nil {
			return err
		}
		res.Accepted = append(res.Accepted, sr.Accepted...)
		res.Duplicates = append(res.Duplicates, sr.Duplicates...)
		for _, id := range sr.Foreign {
			res.Rejected = append(res.Rejected, wire.Rejection{ID: id, Index: index[id], Field: "id", Reason: "is already used by another comparison"})
		}
		for _, id := range sr.Quota {
			res.Rejected = append(res.Rejected, wire.Rejection{ID: id, Index: index[id], Field: wire.QuotaField,
				Reason: fmt.Sprintf("the project takes at most %d comparisons per rater", capped)})
		}
		labels = sr.Labels
	} else if labels, err = h.store.RaterLabels(ctx, rater.ID); err != nil {
		return err
	}
	res.Duplicates = append(res.Duplicates, repeats...)

	if upd != nil {
		st, err := h.storeUpdate(r, proj, rater.ID, upd, latest, now)
		if err != nil {
			return err
		}
		res.ModelUpdate = st
	}
	// A rater at the cap gets no pairs; one near it no more than it may still label.
	want := req.WantPairs
	if capped > 0 {
		want = min(want, max(0, capped-labels))
	}
	if want > 0 {
		ps, err := h.store.PairsForOverlap(ctx, pid, rater.ID, want, req.SkipPairs, proj.Settings.Overlap)
		if err != nil {
			return err
		}
		for _, p := range ps {
			res.Pairs = append(res.Pairs, wire.Pair{ID: p.ID, Left: p.Left, Right: p.Right, Tag: p.Tag})
			h.pairs.Store(p.ID, pid)
		}
	}
	if latest > req.HaveModelVersion {
		m, err := h.store.Model(ctx, pid, latest)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if m != nil {
			if res.Model, err = json.Marshal(toModelJSON(m)); err != nil {
				return err
			}
		}
	}
	set := proj.Settings
	res.Project = wire.Project{Paused: proj.Paused, ModelVersion: latest, PolicyVersion: pv,
		HideModelPredictions: set.HideModelPredictions, Overlap: set.Overlap, MaxLabelsPerRater: set.MaxLabelsPerRater,
		Labels: labels, CompletionURL: set.CompletionURL, Instructions: set.Instructions}
	writeJSON(w, http.StatusOK, res)
	return nil
}

// parseComparison decodes and validates one comparison. It returns the id it could read
// (for the rejection) and a *prefs.FieldError for the first bad field.
func (h *Hub) parseComparison(r *http.Request, pid string, raw json.RawMessage, now time.Time) (prefs.Comparison, string, *prefs.FieldError) {
	var wc wireComparison
	if e := decodeStrict(raw, &wc, ""); e != nil {
		// Learn the id if the item has one, to report it.
		var idOnly struct {
			ID any `json:"id"`
		}
		json.Unmarshal(raw, &idOnly)
		id, _ := idOnly.ID.(string)
		field, reason := e.Field, e.Message
		if e.Code == "unknown_field" {
			reason = "is not a comparison field"
		}
		if field == "" {
			field = "comparison"
		}
		return prefs.Comparison{}, id, &prefs.FieldError{Field: field, Reason: reason}
	}
	c := prefs.Comparison{ID: wc.ID, PairID: wc.PairID, Choice: prefs.Choice(wc.Choice)}
	if !prefs.ValidUUID(wc.ID) {
		return c, wc.ID, &prefs.FieldError{Field: "id", Reason: "must be a UUID"}
	}
	if !prefs.ValidUUID(wc.PairID) {
		return c, wc.ID, &prefs.FieldError{Field: "pair_id", Reason: "must be a UUID"}
	}
	if !c.Choice.Valid() {
		return c, wc.ID, &prefs.FieldError{Field: "choice", Reason: `must be one of "left", "right", "equal", "cant_tell"`}
	}
	if wc.CreatedAt == "" {
		return c, wc.ID, &prefs.FieldError{Field: "created_at", Reason: "is required (RFC 3339 time)"}
	}
	t, err := time.Parse(time.RFC3339Nano, wc.CreatedAt)
	if err != nil {
		return c, wc.ID, &prefs.FieldError{Field: "created_at", Reason: "must be an RFC 3339 time such as 2026-03-01T09:30:00Z"}
	}
	c.CreatedAt = t.UTC().Truncate(time.Millisecond)
	if len(wc.ResponseMS) == 0 {
		return c, wc.ID, &prefs.FieldError{Field: "response_ms", Reason: "is required"}
	}
	ms, err := strconv.ParseInt(string(wc.ResponseMS), 10, 64)
	if err != nil {
		return c, wc.ID, &prefs.FieldError{Field: "response_ms", Reason: "must be an integer number of milliseconds"}
	}
	c.ResponseMS = ms
	// The rest of prefs.Comparison.Validate (the id, pair and choice are checked above).
	if c.CreatedAt.Year() < 2000 || c.CreatedAt.After(now.Add(24*time.Hour)) {
		return c, wc.ID, &prefs.FieldError{Field: "created_at", Reason: "is out of range"}
	}
	if c.ResponseMS < 0 || c.ResponseMS > prefs.MaxResponseMS {
		return c, wc.ID, &prefs.FieldError{Field: "response_ms", Reason: "must be between 0 and 86400000"}
	}
	ok, err := h.pairKnown(r, pid, c.PairID)
	if err != nil {
		return c, wc.ID, &prefs.FieldError{Field: "pair_id", Reason: "could not be checked; retry"}
	}
	if !ok {
		return c, wc.ID, &prefs.FieldError{Field: "pair_id", Reason: "is not a pair of this project"}
	}
	return c, wc.ID, nil
}

// pairKnown reports whether pid has the pair. Pairs are never deleted, so a pair seen once is
// remembered and the hot path needs no database read.
func (h *Hub) pairKnown(r *http.Request, pid, pairID string) (bool, error) {
	if v, ok := h.pairs.Load(pairID); ok {
		return v.(string) == pid, nil
	}
	ok, err := h.store.PairExists(r.Context(), pid, pairID)
	if err != nil {
		return false, err
	}
	if ok {
		h.pairs.Store(pairID, pid)
	}
	return ok, nil
}

// storeUpdate validates a private model update against the project's models and stores it.
// A bad update is answered with status "rejected" and a reason, not an HTTP error, so the
// comparisons of the same request still count.
func (h *Hub) storeUpdate(r *http.Request, proj *store.Project, raterID string, u *wireModelUpdate, latest int, now time.Time) (*wire.UpdateVerdict, error) {
	reject := func(format string, args ...any) (*wire.UpdateVerdict, error) {
		return &wire.UpdateVerdict{ID: u.ID, Status: "rejected", Reason: fmt.Sprintf(format, args...)}, nil
	}
	ctx := r.Context()
	if latest == 0 {
		return reject("there is no global model yet to base an update on")
	}
	if u.BaseVersion < 1 || u.BaseVersion > latest {
		return reject("base_version %d does not exist (latest is %d)", u.BaseVersion, latest)
	}
	if max := proj.Settings.MaxModelStaleness; latest-u.BaseVersion > max {
		return reject("base_version %d is %d versions behind the latest %d (max %d)", u.BaseVersion, latest-u.BaseVersion, latest, max)
	}
	if u.Labels < 1 || u.Labels > MaxUpdateLabels {
		return reject("labels must be between 1 and %d", MaxUpdateLabels)
	}
	var delta []float32
	switch {
	case u.DeltaF32 != nil && u.Delta != nil:
		return reject("send delta or delta_f32, not both")
	case u.DeltaF32 != nil:
		b, err := base64.StdEncoding.DecodeString(*u.DeltaF32)
		if err != nil {
			return reject("delta_f32 is not standard base64")
		}
		if len(b)%4 != 0 {
			return reject("delta_f32 holds %d bytes, not a whole number of float32s", len(b))
		}
		delta, _ = merge.DecodeDelta(b)
	case u.Delta != nil:
		delta = make([]float32, len(u.Delta))
		for i, v := range u.Delta {
			delta[i] = float32(v)
		}
	default:
		return reject("delta (or delta_f32) is required")
	}
	n, err := h.store.ModelNumParams(ctx, proj.ID, u.BaseVersion)
	if err != nil {
		return nil, err
	}
	if len(delta) != n {
		return reject("delta has %d values; model version %d has %d parameters", len(delta), u.BaseVersion, n)
	}
	for i, v := range delta {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return reject("delta[%d] is not a finite float32", i)
		}
	}
	for k, v := range u.Metrics {
		if math.IsNaN(v) || math.IsInf(v, 0) || len(k) > 100 {
			return reject("metrics must be finite numbers with short names")
		}
	}
	if len(u.Metrics) > 50 {
		return reject("at most 50 metrics")
	}
	dup, err := h.store.AddModelUpdate(ctx, &store.ModelUpdate{ID: u.ID, ProjectID: proj.ID, RaterID: raterID,
		BaseVersion: u.BaseVersion, Labels: u.Labels, Delta: delta, Metrics: u.Metrics, ReceivedAt: now})
	if errors.Is(err, store.ErrForeignID) {
		return reject("id is already used by another update")
	}
	if err != nil {
		return nil, err
	}
	if dup {
		return &wire.UpdateVerdict{ID: u.ID, Status: "duplicate"}, nil
	}
	return &wire.UpdateVerdict{ID: u.ID, Status: "accepted"}, nil
}
