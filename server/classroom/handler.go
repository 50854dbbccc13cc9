package classroom

import (
	"context"
	_ "embed"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prefer-rlhf/prefer/core/prefs"
	"github.com/prefer-rlhf/prefer/server/hub"
	"github.com/prefer-rlhf/prefer/server/store"
)

// Store is what the classroom views read. *store.Store and the Worker's *d1.Store implement it.
type Store interface {
	hub.TeacherTokens
	Project(ctx context.Context, id string) (*store.Project, error)
	Export(ctx context.Context, projectID string, fn func(*store.ExportRow) error) error
	Raters(ctx context.Context, projectID string) ([]store.RaterSummary, error)
	PairCoverage(ctx context.Context, projectID string, overlap int) (labelled, full int, err error)
	PolicyHistory(ctx context.Context, projectID string, limit int) ([]store.Policy, error)
	LatestPolicy(ctx context.Context, projectID string) (*store.Policy, error)
	LatestModelVersion(ctx context.Context, projectID string) (int, error)
	Model(ctx context.Context, projectID string, version int) (*store.Model, error)
	Gold(ctx context.Context, projectID string) (map[string]prefs.Choice, error)
	SetGold(ctx context.Context, projectID, pairID string, choice prefs.Choice) error
	RaterWeights(ctx context.Context, projectID string) (map[string]float64, error)
	SetRaterWeight(ctx context.Context, projectID, raterID string, w float64) error
	RedTeamSubmissions(ctx context.Context, projectID string) ([]store.RedTeamSubmission, error)
}

// Handler serves the teacher's classroom views under /classroom/: the dashboard page and its
// data, which the page polls (every 1.5 s, within the 2 s the dashboard promises). It follows
// the hub's conventions: the hub's teacher check (hub.Teacher), its error body with the field
// at fault (hub.WriteError), and 500 for store faults.
type Handler struct {
	store    Store
	joinBase string // e.g. "http://192.168.1.23:8080": the join link's scheme and host
	log      *slog.Logger
	now      func() time.Time
	mux      *http.ServeMux
	demo     *Demo // nil where nothing may run in the background (the Worker)

	mu      sync.Mutex
	models  map[string][]ModelPoint    // project -> reward models seen, by version
	checker map[string]map[int]float64 // project -> policy version -> checker score
	clip    map[string]policyClip      // project -> the latest policy's clip

	text    TextSource // nil: no text world to sample from (the Worker)
	textMu  sync.Mutex
	textNow map[string]PolicyText // project -> the latest policy's continuations
}

// Options configure New.
type Options struct {
	// JoinBase is the scheme and host of the join link students open ("http://" +
	// JoinHost(...)); "" makes the link relative to the page.
	JoinBase string
	Log      *slog.Logger
	// Demo runs demo raters on this store (prefer serve). Nil turns demo mode off: a Worker
	// keeps nothing running between requests.
	Demo DemoStore
	// Text gives the text world and the reference language model, for "the policy now" of
	// a text project (prefer serve: the trainer's loader). Nil: text projects' continuations
	// are not sampled here, and the task list says text tasks need prefer serve unless a
	// text world is installed.
	Text TextSource
}

// NewHandler returns the classroom views over s with demo raters (prefer serve). joinBase is
// the scheme and host of the join link students open.
func NewHandler(s interface {
	Store
	DemoStore
}, joinBase string, log *slog.Logger) *Handler {
	return New(s, Options{JoinBase: joinBase, Log: log, Demo: s})
}

// New returns the classroom views over s.
func New(s Store, o Options) *Handler {
	log := o.Log
	if log == nil {
		log = slog.Default()
	}
	h := &Handler{store: s, joinBase: strings.TrimSuffix(o.JoinBase, "/"), log: log, now: time.Now,
		mux: http.NewServeMux(), models: map[string][]ModelPoint{}, checker: map[string]map[int]float64{},
		clip: map[string]policyClip{}, text: o.Text, textNow: map[string]PolicyText{}}
	if o.Demo != nil {
		h.demo = NewDemo(o.Demo, log)
	}
	h.mux.HandleFunc("GET /teacher", h.teacher)
	h.mux.HandleFunc("GET /classroom/{$}", h.page)
	h.route("GET /classroom/report", h.report)
	h.route("POST /classroom/api/projects/{pid}/demo", h.setDemo)
	h.route("POST /classroom/api/projects/{pid}/gold", h.setGold)
	h.route("GET /classroom/api/projects/{pid}/policy", h.policyFile)
	h.route("GET /classroom/api/projects/{pid}/reward-model", h.rewardModelFile)
	h.route("GET /classroom/api/projects/{pid}/clip.svg", h.policyClip)
	h.route("GET /classroom/api/projects/{pid}/policy-text", h.policyText)
	h.route("POST /classroom/api/projects/{pid}/weight", h.setWeight)
	h.route("GET /classroom/api/tasks", h.tasks)
	h.route("GET /classroom/api/projects/{pid}/dashboard", h.dashboard)
	h.route("GET /classroom/api/projects/{pid}/redteam", h.leaderboard)
	return h
}

// route registers a handler that returns its error, written in the hub's form.
func (h *Handler) route(pattern string, f func(w http.ResponseWriter, r *http.Request) error) {
	h.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		if err := f(w, r); err != nil {
			hub.WriteError(w, r, h.log, err)
		}
	})
}

// authorize checks the teacher token for project pid (hub.Teacher).
func (h *Handler) authorize(r *http.Request, pid string) error {
	return hub.Teacher(r.Context(), h.store, r, pid)
}

// Demo returns the handler's demo raters (prefer serve starts them with --demo-raters), or nil.
func (h *Handler) Demo() *Demo { return h.demo }

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// teacher sends the printed teacher link (/teacher?token=...) to the dashboard, keeping its
// query.
func (h *Handler) teacher(w http.ResponseWriter, r *http.Request) {
	u := "/classroom/"
	if r.URL.RawQuery != "" {
		u += "?" + r.URL.RawQuery
	}
	http.Redirect(w, r, u, http.StatusFound)
}

//go:embed dashboard.html
var dashboardHTML []byte

func (h *Handler) page(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(dashboardHTML)
}

func (h *Handler) tasks(w http.ResponseWriter, _ *http.Request) error {
	hub.WriteJSON(w, http.StatusOK, map[string]any{"tasks": h.TaskList()})
	return nil
}

// notFound maps store.ErrNotFound to a 404 naming field; other errors pass (500).
func notFound(err error, field, msg string) error {
	if errors.Is(err, store.ErrNotFound) {
		return hub.NotFound(field, msg)
	}
	return err
}
