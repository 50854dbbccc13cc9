package classroom

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/prefer-rlhf/prefer/core/jsonnum"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prefer-rlhf/prefer/core/env"
	"github.com/prefer-rlhf/prefer/core/ppo"
	"github.com/prefer-rlhf/prefer/core/prefs"
	"github.com/prefer-rlhf/prefer/core/reward"
	"github.com/prefer-rlhf/prefer/server/hub"
	"github.com/prefer-rlhf/prefer/server/store"
)

// Store is what the classroom views read. *store.Store implements it.
type Store interface {
	Project(ctx context.Context, id string) (*store.Project, error)
	TeacherToken(ctx context.Context, hash string) (projectID string, err error)
	Export(ctx context.Context, projectID string, fn func(*store.ExportRow) error) error
	PolicyHistory(ctx context.Context, projectID string, limit int) ([]store.Policy, error)
	LatestPolicy(ctx context.Context, projectID string) (*store.Policy, error)
	LatestModelVersion(ctx context.Context, projectID string) (int, error)
	Model(ctx context.Context, projectID string, version int) (*store.Model, error)
	DemoStore
	Gold(ctx context.Context, projectID string) (map[string]prefs.Choice, error)
	SetGold(ctx context.Context, projectID, pairID string, choice prefs.Choice) error
	RaterWeights(ctx context.Context, projectID string) (map[string]float64, error)
	SetRaterWeight(ctx context.Context, projectID, raterID string, w float64) error
}

// Handler serves the teacher's classroom views under /classroom/: the dashboard page and its
// data, which the page polls (every 1.5 s, within the 2 s the dashboard promises).
type Handler struct {
	store    Store
	joinBase string // e.g. "http://192.168.1.23:8080": the join link's scheme and host
	log      *slog.Logger
	now      func() time.Time
	mux      *http.ServeMux
	demo     *Demo

	mu      sync.Mutex
	models  map[string][]ModelPoint    // project -> reward models seen, by version
	checker map[string]map[int]float64 // project -> policy version -> checker score
	clip    map[string]policyClip      // project -> the latest policy's clip
}

// policyClip is a drawn clip of one policy version.
type policyClip struct {
	version int
	svg     []byte
}

// ClipSeconds is how much env time the dashboard's policy clip plays before it loops.
const ClipSeconds = 6

// NewHandler returns the classroom views over s. joinBase is the scheme and host of the join
// link students open ("http://" + JoinHost(...)).
func NewHandler(s Store, joinBase string, log *slog.Logger) *Handler {
	if log == nil {
		log = slog.Default()
	}
	h := &Handler{store: s, joinBase: strings.TrimSuffix(joinBase, "/"), log: log, now: time.Now,
		mux: http.NewServeMux(), models: map[string][]ModelPoint{}, checker: map[string]map[int]float64{},
		clip: map[string]policyClip{}}
	h.demo = NewDemo(s, log)
	h.mux.HandleFunc("GET /teacher", h.teacher)
	h.mux.HandleFunc("GET /classroom/{$}", h.page)
	h.mux.HandleFunc("GET /classroom/report", h.report)
	h.mux.HandleFunc("POST /classroom/api/projects/{pid}/demo", h.setDemo)
	h.mux.HandleFunc("POST /classroom/api/projects/{pid}/gold", h.setGold)
	h.mux.HandleFunc("GET /classroom/api/projects/{pid}/policy", h.policyFile)
	h.mux.HandleFunc("GET /classroom/api/projects/{pid}/reward-model", h.rewardModelFile)
	h.mux.HandleFunc("GET /classroom/api/projects/{pid}/clip.svg", h.policyClip)
	h.mux.HandleFunc("POST /classroom/api/projects/{pid}/weight", h.setWeight)
	h.mux.HandleFunc("GET /classroom/api/tasks", h.tasks)
	h.mux.HandleFunc("GET /classroom/api/projects/{pid}/dashboard", h.dashboard)
	return h
}

// Demo returns the handler's demo raters (prefer serve starts them with --demo-raters).
func (h *Handler) Demo() *Demo { return h.demo }

// teacher sends the printed teacher link (/teacher?token=...) to the dashboard, keeping its
// query.
func (h *Handler) teacher(w http.ResponseWriter, r *http.Request) {
	u := "/classroom/"
	if r.URL.RawQuery != "" {
		u += "?" + r.URL.RawQuery
	}
	http.Redirect(w, r, u, http.StatusFound)
}

// setDemo: POST /classroom/api/projects/{pid}/demo {"raters": N, "noise": P} (teacher) starts
// N demo raters (0 stops them).
func (h *Handler) setDemo(w http.ResponseWriter, r *http.Request) {
	pid := r.PathValue("pid")
	if err := h.authorize(r, pid); err != nil {
		writeError(w, http.StatusUnauthorized, "unauthorized", err.Error())
		return
	}
	var in DemoState
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		writeError(w, http.StatusBadRequest, "invalid", "classroom: demo: "+err.Error())
		return
	}
	err := h.demo.Set(r.Context(), pid, in.Raters, in.Noise)
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, "not_found", "no such project")
	case err != nil:
		writeError(w, http.StatusBadRequest, "invalid", err.Error())
	default:
		writeJSON(w, http.StatusOK, h.demo.State(pid))
	}
}

// setGold: POST /classroom/api/projects/{pid}/gold {"pair": ID, "choice": "left"|"right"|"equal"|""}
// (teacher) marks a gold pair with its known answer; an empty choice unmarks it.
func (h *Handler) setGold(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Pair   string       `json:"pair"`
		Choice prefs.Choice `json:"choice"`
	}
	pid, ok := h.decodeTeacher(w, r, &in)
	if !ok {
		return
	}
	h.answer(w, h.store.SetGold(r.Context(), pid, in.Pair, in.Choice), in)
}

// setWeight: POST /classroom/api/projects/{pid}/weight {"rater": ID, "weight": W} (teacher) sets
// the weight of a rater's labels in training, in [0, 1]; 1 restores it. The trainer honours it
// in its next round.
func (h *Handler) setWeight(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Rater  string  `json:"rater"`
		Weight float64 `json:"weight"`
	}
	pid, ok := h.decodeTeacher(w, r, &in)
	if !ok {
		return
	}
	h.answer(w, h.store.SetRaterWeight(r.Context(), pid, in.Rater, in.Weight), in)
}

// policyFile: GET /classroom/api/projects/{pid}/policy (teacher) downloads the latest policy
// in the file format of prefer train, which prefer eval loads (for a behaviour, evaluate it on
// "checker/"+env to score it with the checker).
func (h *Handler) policyFile(w http.ResponseWriter, r *http.Request) {
	pid := r.PathValue("pid")
	if err := h.authorize(r, pid); err != nil {
		writeError(w, http.StatusUnauthorized, "unauthorized", err.Error())
		return
	}
	p, err := h.store.LatestPolicy(r.Context(), pid)
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, "not_found", "no policy yet: the trainer has not published one")
		return
	case err != nil:
		h.log.Error("classroom: policy", "project", pid, "err", err)
		writeError(w, http.StatusInternalServerError, "internal", "internal error")
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="policy-%s-v%d.bin"`, pid, p.Version))
	w.Header().Set("Cache-Control", "no-store")
	w.Write(p.Weights)
}

// rewardModelFile: GET /classroom/api/projects/{pid}/reward-model (teacher) downloads the latest
// reward model in core/reward's stored form (JSON, format "prefer-reward"), which prefer train
// --reward-model trains a policy on and prefer eval --reward-model scores a policy with. The
// store holds each version in that form (server/trainer publishes json.Marshal of the model);
// it is decoded and encoded again, so that what is served is exactly what reward.Model's
// decoder accepts, whatever a remote trainer sent.
func (h *Handler) rewardModelFile(w http.ResponseWriter, r *http.Request) {
	pid := r.PathValue("pid")
	if err := h.authorize(r, pid); err != nil {
		writeError(w, http.StatusUnauthorized, "unauthorized", err.Error())
		return
	}
	sm, err := h.store.Model(r.Context(), pid, 0)
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, "not_found", "no reward model yet: the trainer has not published one")
		return
	case err != nil:
		h.log.Error("classroom: reward model", "project", pid, "err", err)
		writeError(w, http.StatusInternalServerError, "internal", "internal error")
		return
	}
	var m reward.Model
	var b []byte
	if err = m.UnmarshalJSON(sm.Weights); err == nil {
		b, err = m.MarshalJSON()
	}
	if err != nil {
		h.log.Error("classroom: reward model", "project", pid, "version", sm.Version, "err", err)
		writeError(w, http.StatusInternalServerError, "internal", fmt.Sprintf("reward model version %d is not in core/reward's format", sm.Version))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="reward-model-%s-v%d.json"`, pid, sm.Version))
	w.Header().Set("Cache-Control", "no-store")
	w.Write(b)
}

// policyClip: GET /classroom/api/projects/{pid}/clip.svg (teacher) is the latest policy
// playing ClipSeconds of its task from a fixed start, as a looping animated SVG; drawn once per
// policy version.
func (h *Handler) policyClip(w http.ResponseWriter, r *http.Request) {
	pid := r.PathValue("pid")
	if err := h.authorize(r, pid); err != nil {
		writeError(w, http.StatusUnauthorized, "unauthorized", err.Error())
		return
	}
	proj, err := h.store.Project(r.Context(), pid)
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
				return
			}
		}
	}
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "not_found", "no policy yet")
		return
	}
	h.log.Error("classroom: policy clip", "project", pid, "err", err)
	writeError(w, http.StatusInternalServerError, "internal", "internal error")
}

// decodeTeacher checks the teacher token and decodes a small JSON body strictly into v.
func (h *Handler) decodeTeacher(w http.ResponseWriter, r *http.Request, v any) (string, bool) {
	pid := r.PathValue("pid")
	if err := h.authorize(r, pid); err != nil {
		writeError(w, http.StatusUnauthorized, "unauthorized", err.Error())
		return "", false
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeError(w, http.StatusBadRequest, "invalid", "classroom: "+err.Error())
		return "", false
	}
	return pid, true
}

func (h *Handler) answer(w http.ResponseWriter, err error, v any) {
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, "not_found", "no such pair, rater or project")
	case err != nil:
		writeError(w, http.StatusBadRequest, "invalid", err.Error())
	default:
		writeJSON(w, http.StatusOK, v)
	}
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]any{"error": map[string]string{"code": code, "message": msg}})
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

//go:embed dashboard.html
var dashboardHTML []byte

func (h *Handler) page(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(dashboardHTML)
}

func (h *Handler) tasks(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"tasks": Tasks()})
}

// Dashboard is the data behind the dashboard, one poll's worth.
type Dashboard struct {
	Project  ProjectInfo   `json:"project"`
	Summary  Summary       `json:"summary"`
	Policies []PolicyPoint `json:"policies"`
	Models   []ModelPoint  `json:"models"`
	// Charts are SVG documents drawn on the server, ready to be put in the page.
	Charts map[string]string `json:"charts"`
}

// ProjectInfo describes the class session.
type ProjectInfo struct {
	ID       string    `json:"id"`
	Env      string    `json:"env"`
	Goal     string    `json:"goal"`
	Checker  bool      `json:"checker"` // a behaviour: the "true" curve is the scripted checker
	JoinCode string    `json:"join_code"`
	JoinURL  string    `json:"join_url"`
	QR       string    `json:"qr_svg"`
	Paused   bool      `json:"paused"`
	Demo     DemoState `json:"demo"`
	// HideModelPredictions is the model-assistance switch (store.Settings): raters' apps hide
	// their model's predicted preference.
	HideModelPredictions bool `json:"hide_model_predictions"`
	// PolicyVersion is the latest policy's version (0: none yet).
	PolicyVersion int `json:"policy_version"`
}

// authorize checks the teacher token for project pid.
func (h *Handler) authorize(r *http.Request, pid string) error {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || tok == "" {
		return errUnauthorized
	}
	scope, err := h.store.TeacherToken(r.Context(), hub.HashToken(tok))
	if err != nil || (scope != "" && scope != pid) {
		return errUnauthorized
	}
	return nil
}

var errUnauthorized = errors.New("classroom: a teacher token for this project is required")

func (h *Handler) dashboard(w http.ResponseWriter, r *http.Request) {
	pid := r.PathValue("pid")
	if err := h.authorize(r, pid); err != nil {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"error": map[string]string{"code": "unauthorized", "message": err.Error()}})
		return
	}
	d, err := h.Build(r.Context(), pid)
	if errors.Is(err, store.ErrNotFound) {
		writeJSON(w, http.StatusNotFound, map[string]any{"error": map[string]string{"code": "not_found", "message": "no such project"}})
		return
	}
	if err != nil {
		h.log.Error("classroom: dashboard", "project", pid, "err", err)
		writeJSON(w, http.StatusInternalServerError, map[string]any{"error": map[string]string{"code": "internal", "message": "internal error"}})
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, d)
}

// Build assembles the dashboard of project pid.
func (h *Handler) Build(ctx context.Context, pid string) (*Dashboard, error) {
	p, err := h.store.Project(ctx, pid)
	if err != nil {
		return nil, err
	}
	task, _ := TaskOf(p.Env)
	d := &Dashboard{Project: ProjectInfo{ID: p.ID, Env: p.Env, Goal: task.Goal, Checker: task.Checker,
		JoinCode: p.JoinCode, JoinURL: h.joinBase + "/join?code=" + p.JoinCode, Paused: p.Paused,
		Demo: h.demo.State(pid), HideModelPredictions: p.Settings.HideModelPredictions}}
	if d.Project.Goal == "" {
		d.Project.Goal = p.Env
	}
	if qr, err := QRSVG(d.Project.JoinURL, "Join link "+d.Project.JoinURL); err == nil {
		d.Project.QR = string(qr)
	}

	var rows []LabelRow
	err = h.store.Export(ctx, pid, func(e *store.ExportRow) error {
		rows = append(rows, LabelRow{Rater: e.RaterID, RaterName: e.RaterName, Pair: e.PairID, Choice: e.Choice,
			At: e.ReceivedAt, Excluded: e.Excluded})
		return nil
	})
	if err != nil {
		return nil, err
	}
	gold, err := h.store.Gold(ctx, pid)
	if err != nil {
		return nil, err
	}
	weights, err := h.store.RaterWeights(ctx, pid)
	if err != nil {
		return nil, err
	}
	d.Summary = Summarize(rows, gold, h.now())
	for i := range d.Summary.PerRater {
		d.Summary.PerRater[i].Weight = 1
		if w, ok := weights[d.Summary.PerRater[i].Rater]; ok {
			d.Summary.PerRater[i].Weight = w
		}
	}
	for i := range d.Summary.Disputed {
		d.Summary.Disputed[i].Gold = gold[d.Summary.Disputed[i].Pair]
	}
	d.Summary.GoldPairs = len(gold)

	if d.Policies, d.Project.PolicyVersion, err = h.policies(ctx, p); err != nil {
		return nil, err
	}
	if d.Models, err = h.modelPoints(ctx, pid); err != nil {
		return nil, err
	}
	trueName := "true reward"
	if task.Checker {
		trueName = "checker"
	}
	d.Charts = map[string]string{
		"reward_hacking": string(RewardHackingSVG(d.Policies, trueName, 960, 540)),
		"accuracy":       string(AccuracySVG(d.Models, 640, 280)),
		"per_minute":     string(MinutesSVG(d.Summary.PerMinute, 640, 240)),
	}
	return d, nil
}

// policies returns the policy history, oldest first. For a behaviour, the true return is the
// checker's score of the policy, as the trainer recorded it; where it did not, it is measured
// here (ppo.Evaluate on env.ScoredEnv) for each new latest policy and remembered.
func (h *Handler) policies(ctx context.Context, p *store.Project) ([]PolicyPoint, int, error) {
	hist, err := h.store.PolicyHistory(ctx, p.ID, 500)
	if err != nil {
		return nil, 0, err
	}
	_, isBehaviour := env.BehaviourOf(p.Env)
	latest := 0
	for _, q := range hist {
		latest = max(latest, q.Version)
	}
	// The trainer records a behaviour's checker score itself (server/trainer/round.go); the
	// dashboard measures only where it did not (a policy from an older trainer).
	measured := false
	for _, q := range hist {
		if q.Version == latest && !math.IsNaN(q.TrueReturn) {
			measured = true
		}
	}
	if isBehaviour && latest > 0 && !measured {
		h.mu.Lock()
		_, done := h.checker[p.ID][latest]
		h.mu.Unlock()
		if !done {
			score := math.NaN()
			if lp, err := h.store.LatestPolicy(ctx, p.ID); err == nil && lp.Version == latest {
				var pol ppo.Policy
				if pol.UnmarshalBinary(lp.Weights) == nil {
					if scored, err := env.ScoredEnv(p.Env); err == nil {
						score = ppo.Evaluate(&pol, scored, 5, uint64(latest))
					}
				}
			}
			h.mu.Lock()
			if h.checker[p.ID] == nil {
				h.checker[p.ID] = map[int]float64{}
			}
			h.checker[p.ID][latest] = score
			h.mu.Unlock()
		}
	}
	out := make([]PolicyPoint, 0, len(hist))
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, q := range hist {
		pt := PolicyPoint{EnvSteps: q.EnvSteps, Learned: q.LearnedReturn, True: q.TrueReturn, KL: q.KL}
		if s, ok := h.checker[p.ID][q.Version]; ok && isBehaviour && math.IsNaN(pt.True) {
			pt.True = s
		}
		out = append(out, pt)
	}
	return out, latest, nil
}

// modelPoints returns the reward models' validation accuracy by version, reading each new
// version once.
func (h *Handler) modelPoints(ctx context.Context, pid string) ([]ModelPoint, error) {
	latest, err := h.store.LatestModelVersion(ctx, pid)
	if err != nil {
		return nil, err
	}
	h.mu.Lock()
	have := h.models[pid]
	h.mu.Unlock()
	next := 1
	if len(have) > 0 {
		next = have[len(have)-1].Version + 1
	}
	for v := next; v <= latest; v++ {
		m, err := h.store.Model(ctx, pid, v)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		acc, ok := m.Metrics["reward/val_accuracy"]
		if !ok {
			acc = math.NaN()
		}
		have = append(have, ModelPoint{Version: v, Labels: int(m.Metrics["reward/labels"]), ValAccuracy: acc})
	}
	h.mu.Lock()
	h.models[pid] = have
	h.mu.Unlock()
	return append([]ModelPoint(nil), have...), nil
}

// writeJSON writes v; PolicyPoint and ModelPoint floats may be NaN, which JSON cannot carry,
// so they are sent through Num.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// MarshalJSON encodes NaN as null.
func (p PolicyPoint) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		EnvSteps int64       `json:"env_steps"`
		Learned  jsonnum.Num `json:"learned_return"`
		True     jsonnum.Num `json:"true_return"`
		KL       jsonnum.Num `json:"kl"`
	}{p.EnvSteps, jsonnum.Num(p.Learned), jsonnum.Num(p.True), jsonnum.Num(p.KL)})
}

// MarshalJSON encodes NaN as null.
func (m ModelPoint) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Version     int         `json:"version"`
		Labels      int         `json:"labels"`
		ValAccuracy jsonnum.Num `json:"val_accuracy"`
	}{m.Version, m.Labels, jsonnum.Num(m.ValAccuracy)})
}
