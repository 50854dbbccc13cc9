package hub

import (
	"bytes"
	"crypto/rand"
	"encoding/csv"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/prefer-rlhf/prefer/core/jsonnum"
	"github.com/prefer-rlhf/prefer/core/text"
	"github.com/prefer-rlhf/prefer/server/store"
)

type modelJSON struct {
	Version   int                `json:"version"`
	CreatedAt time.Time          `json:"created_at"`
	NumParams int                `json:"num_params"`
	Metrics   map[string]float64 `json:"metrics"`
	Weights   json.RawMessage    `json:"weights"`
}

func toModelJSON(m *store.Model) *modelJSON {
	met := m.Metrics
	if met == nil {
		met = map[string]float64{}
	}
	return &modelJSON{m.Version, m.CreatedAt, m.NumParams, met, m.Weights}
}

type historyPoint struct {
	Version       int         `json:"version"`
	LearnedReturn jsonnum.Num `json:"learned_return"` // null: unknown
	TrueReturn    jsonnum.Num `json:"true_return"`
	EnvSteps      int64       `json:"env_steps"`
	Labels        int         `json:"labels"`
	CreatedAt     time.Time   `json:"created_at"`
}

type projectJSON struct {
	ID            string         `json:"id"`
	Env           string         `json:"env"`
	Paused        bool           `json:"paused"`
	CreatedAt     time.Time      `json:"created_at"`
	Settings      store.Settings `json:"settings"`
	Counts        store.Counts   `json:"counts"`
	ModelVersion  int            `json:"model_version"`
	PolicyVersion int            `json:"policy_version"`
	Metrics       struct {
		Model  map[string]float64 `json:"model"`
		Policy *historyPoint      `json:"policy"`
	} `json:"metrics"`
	History  []historyPoint `json:"history"`
	JoinCode string         `json:"join_code,omitempty"`
}

// HistoryLen is how many policy versions GET /projects/{pid} returns.
const HistoryLen = 200

// getProject: GET /api/v1/projects/{pid}.
func (h *Hub) getProject(w http.ResponseWriter, r *http.Request) error {
	p, proj, err := h.forProject(r, false)
	if err != nil {
		return err
	}
	ctx := r.Context()
	out := projectJSON{ID: proj.ID, Env: proj.Env, Paused: proj.Paused, CreatedAt: proj.CreatedAt, Settings: proj.Settings, History: []historyPoint{}}
	if out.Counts, err = h.store.Counts(ctx, proj.ID); err != nil {
		return err
	}
	out.Metrics.Model = map[string]float64{}
	m, err := h.store.Model(ctx, proj.ID, 0)
	switch {
	case err == nil:
		out.ModelVersion, out.Metrics.Model = m.Version, m.Metrics
	case !errors.Is(err, store.ErrNotFound):
		return err
	}
	hist, err := h.store.PolicyHistory(ctx, proj.ID, HistoryLen)
	if err != nil {
		return err
	}
	for _, pol := range hist {
		out.History = append(out.History, historyPoint{pol.Version, jsonnum.Num(pol.LearnedReturn), jsonnum.Num(pol.TrueReturn), pol.EnvSteps, pol.Labels, pol.CreatedAt})
	}
	if n := len(out.History); n > 0 {
		last := out.History[n-1]
		out.PolicyVersion, out.Metrics.Policy = last.Version, &last
	}
	if p.teacher {
		out.JoinCode = proj.JoinCode
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// getClip: GET /api/v1/projects/{pid}/clips/{cid}.
func (h *Hub) getClip(w http.ResponseWriter, r *http.Request) error {
	if _, _, err := h.forProject(r, false); err != nil {
		return err
	}
	c, err := h.store.Clip(r.Context(), r.PathValue("pid"), r.PathValue("cid"))
	if errors.Is(err, store.ErrNotFound) {
		return errNotFound("cid", "no clip "+r.PathValue("cid")+" in this project")
	} else if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

// getModel: GET /api/v1/projects/{pid}/models/{version|latest}.
func (h *Hub) getModel(w http.ResponseWriter, r *http.Request) error {
	if _, _, err := h.forProject(r, false); err != nil {
		return err
	}
	v := 0
	if s := r.PathValue("version"); s != "latest" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return errInvalid("version", `version must be a positive integer or "latest"`)
		}
		v = n
	}
	m, err := h.store.Model(r.Context(), r.PathValue("pid"), v)
	if errors.Is(err, store.ErrNotFound) {
		return errNotFound("version", "no such model version")
	} else if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toModelJSON(m))
	return nil
}

type projectSummary struct {
	ID        string    `json:"id"`
	Env       string    `json:"env"`
	JoinCode  string    `json:"join_code"`
	Paused    bool      `json:"paused"`
	CreatedAt time.Time `json:"created_at"`
}

// listProjects: GET /api/v1/projects (teacher).
func (h *Hub) listProjects(w http.ResponseWriter, r *http.Request) error {
	p, err := h.authenticate(r.Context(), r)
	if err != nil {
		return err
	}
	if !p.teacher {
		return errForbidden("this endpoint needs the teacher token")
	}
	ps, err := h.store.Projects(r.Context())
	if err != nil {
		return err
	}
	out := []projectSummary{}
	for _, pr := range ps {
		if p.canRead(pr.ID) {
			out = append(out, projectSummary{pr.ID, pr.Env, pr.JoinCode, pr.Paused, pr.CreatedAt})
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"projects": out})
	return nil
}

// createProject: POST /api/v1/projects (teacher) {"env", ...settings} -> 201 {"id", "join_code"}.
func (h *Hub) createProject(w http.ResponseWriter, r *http.Request) error {
	p, err := h.authenticate(r.Context(), r)
	if err != nil {
		return err
	}
	if !p.teacher || p.scope != "" {
		return errForbidden("creating a project needs the server's teacher token")
	}
	body, err := readBody(w, r, h.cfg.MaxBody)
	if err != nil {
		return err
	}
	// The settings sit at the top level next to env: decode env apart, then the rest strictly
	// into the defaults.
	var head struct {
		Env *string `json:"env"`
	}
	if err := json.Unmarshal(bytes.TrimSpace(orEmpty(body)), &head); err != nil {
		return jsonError(err, "")
	}
	if head.Env == nil || *head.Env == "" {
		return errInvalid("env", "env is required")
	}
	if err := h.checkEnv(*head.Env); err != nil {
		return err
	}
	set, e := decodeSettings(body, store.DefaultSettings(), true)
	if e != nil {
		return e
	}
	proj := &store.Project{ID: uuid.NewString(), Env: *head.Env, Settings: set, CreatedAt: h.now()}
	for try := 0; ; try++ {
		proj.JoinCode = NewJoinCode()
		err := h.store.CreateProject(r.Context(), proj)
		if err == nil {
			break
		}
		if try == 5 {
			return err
		}
		// A join code collision is the likely cause: try another code.
		if _, lookErr := h.store.ProjectByJoinCode(r.Context(), proj.JoinCode); lookErr != nil {
			return err
		}
	}
	// A hub with a text world stores its bundle now (textbundle.go); without one (the
	// Worker), the trainer uploads it. Should this fail, the first read stores it.
	if _, ok := text.TaskOf(proj.Env); ok && h.cfg.Text != nil {
		if world, err := h.textWorld("env", proj.Env); err == nil {
			if err := h.storeWorldBundle(r.Context(), proj, world); err != nil {
				h.log.Warn("hub: storing a text bundle", "project", proj.ID, "err", err)
			}
		}
	}
	writeJSON(w, http.StatusCreated, map[string]string{"id": proj.ID, "join_code": proj.JoinCode})
	return nil
}

func orEmpty(b []byte) []byte {
	if len(bytes.TrimSpace(b)) == 0 {
		return []byte("{}")
	}
	return b
}

func joinNames(ns []string) string {
	var b bytes.Buffer
	for i, n := range ns {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(n)
	}
	return b.String()
}

// decodeSettings decodes settings from body over base, strictly, and validates the result.
// withEnv allows an "env" field (creating a project).
func decodeSettings(body []byte, base store.Settings, withEnv bool) (store.Settings, *Error) {
	set := base
	var e *Error
	if withEnv {
		v := struct {
			*store.Settings
			Env string `json:"env"`
		}{Settings: &set}
		e = decodeStrict(body, &v, "")
	} else {
		e = decodeStrict(body, &set, "")
	}
	if e != nil {
		e.Field = strings.TrimPrefix(e.Field, "Settings.")
		e.Message = strings.TrimPrefix(e.Message, "Settings.")
		return set, e
	}
	if err := set.Validate(); err != nil {
		var se *store.SettingsError
		if errors.As(err, &se) {
			return set, errInvalid(se.Field, se.Field+" "+se.Reason)
		}
		return set, errInvalid("", err.Error())
	}
	return set, nil
}

// joinAlphabet leaves out characters that are easy to confuse on a projector (0/O, 1/I/L).
const joinAlphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"

// NewJoinCode returns a random 6-character join code.
func NewJoinCode() string {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("hub: no randomness: " + err.Error())
	}
	for i := range b {
		b[i] = joinAlphabet[int(b[i])%len(joinAlphabet)]
	}
	return string(b[:])
}

// readEmpty reads a body that must be empty or {}: any field in it is an unknown field.
func (h *Hub) readEmpty(w http.ResponseWriter, r *http.Request) error {
	body, err := readBody(w, r, h.cfg.MaxBody)
	if err != nil {
		return err
	}
	var empty struct{}
	if e := decodeStrict(body, &empty, ""); e != nil {
		return e
	}
	return nil
}

// pause: POST /api/v1/projects/{pid}/pause and /resume (teacher).
func (h *Hub) pause(paused bool) handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		_, proj, err := h.forProject(r, true)
		if err != nil {
			return err
		}
		if err := h.readEmpty(w, r); err != nil {
			return err
		}
		if err := h.store.SetPaused(r.Context(), proj.ID, paused); err != nil {
			return err
		}
		h.forget(proj.ID)
		writeJSON(w, http.StatusOK, map[string]any{"id": proj.ID, "paused": paused})
		return nil
	}
}

// patchSettings: PATCH /api/v1/projects/{pid}/settings (teacher).
func (h *Hub) patchSettings(w http.ResponseWriter, r *http.Request) error {
	_, proj, err := h.forProject(r, true)
	if err != nil {
		return err
	}
	body, err := readBody(w, r, h.cfg.MaxBody)
	if err != nil {
		return err
	}
	set, e := decodeSettings(body, proj.Settings, false)
	if e != nil {
		return e
	}
	if err := h.store.SetSettings(r.Context(), proj.ID, set); err != nil {
		return err
	}
	h.forget(proj.ID)
	writeJSON(w, http.StatusOK, map[string]any{"settings": set})
	return nil
}

type raterJSON struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Participant string `json:"participant"`
	Excluded    bool   `json:"excluded"`
	Comparisons int    `json:"comparisons"`
	Labels      int    `json:"labels"`
	// ActiveMinutes sums the rater's response times, each label's capped at 5 minutes.
	ActiveMinutes float64 `json:"active_minutes"`
	// MedianSecondsPerLabel is null for a rater with no labels.
	MedianSecondsPerLabel *float64   `json:"median_seconds_per_label"`
	CreatedAt             time.Time  `json:"created_at"`
	LastSeenAt            *time.Time `json:"last_seen_at"`
}

// RaterTimeColumns are the columns of the raters CSV (GET .../raters?format=csv): the time
// table a crowd project pays by.
var RaterTimeColumns = []string{"rater_id", "name", "participant", "excluded", "labels", "active_minutes",
	"median_seconds_per_label", "created_at", "last_seen_at"}

// RaterTimeRow is a rater's row of the raters CSV.
func RaterTimeRow(rt store.RaterSummary) []string {
	med, seen := "", ""
	if !math.IsNaN(rt.MedianMS) {
		med = strconv.FormatFloat(rt.MedianMS/1000, 'f', 3, 64)
	}
	if !rt.LastSeen.IsZero() {
		seen = rt.LastSeen.Format(time.RFC3339Nano)
	}
	return []string{rt.ID, rt.Name, rt.Participant, strconv.FormatBool(rt.Excluded), strconv.Itoa(rt.Comparisons),
		strconv.FormatFloat(float64(rt.ActiveMS)/60000, 'f', 3, 64), med, rt.CreatedAt.Format(time.RFC3339Nano), seen}
}

// listRaters: GET /api/v1/projects/{pid}/raters?format=json|csv (teacher).
func (h *Hub) listRaters(w http.ResponseWriter, r *http.Request) error {
	_, proj, err := h.forProject(r, true)
	if err != nil {
		return err
	}
	format := r.URL.Query().Get("format")
	if format != "" && format != "json" && format != "csv" {
		return errInvalid("format", `format must be "json" or "csv"`)
	}
	rs, err := h.store.Raters(r.Context(), proj.ID)
	if err != nil {
		return err
	}
	if format == "csv" {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="prefer-`+proj.ID+`-raters.csv"`)
		w.Header().Set("Cache-Control", "no-store")
		cw := csv.NewWriter(w)
		cw.Write(RaterTimeColumns)
		for _, rt := range rs {
			cw.Write(RaterTimeRow(rt))
		}
		cw.Flush()
		return nil
	}
	out := []raterJSON{}
	for _, rt := range rs {
		j := raterJSON{ID: rt.ID, Name: rt.Name, Participant: rt.Participant, Excluded: rt.Excluded, Comparisons: rt.Comparisons,
			Labels: rt.Comparisons, ActiveMinutes: float64(rt.ActiveMS) / 60000, CreatedAt: rt.CreatedAt}
		if !math.IsNaN(rt.MedianMS) {
			sec := rt.MedianMS / 1000
			j.MedianSecondsPerLabel = &sec
		}
		if !rt.LastSeen.IsZero() {
			t := rt.LastSeen
			j.LastSeenAt = &t
		}
		out = append(out, j)
	}
	writeJSON(w, http.StatusOK, map[string]any{"raters": out})
	return nil
}

// exclude: POST /api/v1/projects/{pid}/raters/{rid}/exclude and /restore (teacher).
func (h *Hub) exclude(excluded bool) handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		_, proj, err := h.forProject(r, true)
		if err != nil {
			return err
		}
		if err := h.readEmpty(w, r); err != nil {
			return err
		}
		rid := r.PathValue("rid")
		err = h.store.SetExcluded(r.Context(), proj.ID, rid, excluded)
		if errors.Is(err, store.ErrNotFound) {
			return errNotFound("rid", "no rater "+rid+" in this project")
		} else if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, map[string]any{"id": rid, "excluded": excluded})
		return nil
	}
}
