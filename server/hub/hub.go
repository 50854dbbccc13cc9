// Package hub is the HTTP API of the Prefer hub: JSON under /api/v1 (docs/api.md), bearer
// tokens, strict decoding, limits, and the browser app's static files.
//
// The hub does no training: it stores what raters send and serves what the trainer publishes,
// both through the store, so a request never waits for training.
package hub

import (
	"context"
	"encoding/json"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prefer-rlhf/prefer/core/prefs"
	"github.com/prefer-rlhf/prefer/core/text"
	"github.com/prefer-rlhf/prefer/core/wire"
	"github.com/prefer-rlhf/prefer/server/store"
)

// Store is what the hub needs from the database. *store.Store implements it; the Worker's D1
// store implements it too.
type Store interface {
	Ping(ctx context.Context) error
	SchemaVersion(ctx context.Context) (int, error)

	CreateProject(ctx context.Context, p *store.Project) error
	Project(ctx context.Context, id string) (*store.Project, error)
	ProjectByJoinCode(ctx context.Context, code string) (*store.Project, error)
	Projects(ctx context.Context) ([]store.Project, error)
	SetPaused(ctx context.Context, id string, paused bool) error
	SetSettings(ctx context.Context, id string, s store.Settings) error
	Counts(ctx context.Context, projectID string) (store.Counts, error)

	CreateRater(ctx context.Context, r *store.Rater, tokenHash string) error
	RaterByTokenHash(ctx context.Context, hash string) (*store.Rater, error)
	RaterByParticipant(ctx context.Context, projectID, participant string) (*store.Rater, error)
	AddRaterToken(ctx context.Context, raterID, tokenHash string, at time.Time) error
	RaterLabels(ctx context.Context, raterID string) (int, error)
	Raters(ctx context.Context, projectID string) ([]store.RaterSummary, error)
	SetExcluded(ctx context.Context, projectID, raterID string, excluded bool) error
	TeacherToken(ctx context.Context, hash string) (projectID string, err error)

	Clip(ctx context.Context, projectID, clipID string) (json.RawMessage, error)
	PairExists(ctx context.Context, projectID, pairID string) (bool, error)
	PairsForOverlap(ctx context.Context, projectID, raterID string, n int, skip []string, overlap int) ([]store.Pair, error)
	AddComparisonsCapped(ctx context.Context, projectID, raterID string, cs []prefs.Comparison, received time.Time, max int) (store.SyncResult, error)
	Export(ctx context.Context, projectID string, fn func(*store.ExportRow) error) error

	LatestModelVersion(ctx context.Context, projectID string) (int, error)
	LatestPolicyVersion(ctx context.Context, projectID string) (int, error)
	LatestPolicy(ctx context.Context, projectID string) (*store.Policy, error)
	Model(ctx context.Context, projectID string, version int) (*store.Model, error)
	ModelNumParams(ctx context.Context, projectID string, version int) (int, error)
	AddModelUpdate(ctx context.Context, u *store.ModelUpdate) (duplicate bool, err error)
	PolicyHistory(ctx context.Context, projectID string, limit int) ([]store.Policy, error)

	AddRedTeam(ctx context.Context, s *store.RedTeamSubmission) error

	TextStore // textbundle.go
}

// Config sets the hub's limits. Zero fields take the defaults of DefaultConfig.
type Config struct {
	MaxBody      int64   // request body cap in bytes (1 MiB)
	MaxBatch     int     // comparisons per sync (500)
	MaxWantPairs int     // pairs per sync (100)
	MaxSkipPairs int     // skip_pairs per sync (500)
	Rate         float64 // requests per second per token (20)
	Burst        int     // bucket size per token (40)
	JoinRate     float64 // joins per second per client address (2)
	JoinBurst    int     // (60: a class behind one address joins at once)
	// NoRateLimit turns the per-token limit off (the benchmark's simulated raters).
	NoRateLimit bool
	// StatusTTL is how long a sync may reuse a project's settings and latest versions
	// (250 ms); negative: never.
	StatusTTL time.Duration
	// Public holds the browser app served at /; nil serves no app.
	Public fs.FS
	// Text loads the text envs' world (core/text) the first time a text project needs it, and
	// registers it (server/corpus.Register); the hub stores its tokenizer with each text
	// project. nil (the Worker): the hub has no world, and a text project's trainer uploads
	// the tokenizer (PUT .../trainer/text).
	Text func() (*text.World, error)
	Log  *slog.Logger
	Now  func() time.Time
}

// DefaultConfig returns the limits of docs/api.md.
func DefaultConfig() Config {
	return Config{MaxBody: 1 << 20, MaxBatch: wire.MaxComparisons, MaxWantPairs: wire.MaxWantPairs, MaxSkipPairs: wire.MaxSkipPairs,
		Rate: 20, Burst: 40, JoinRate: 2, JoinBurst: 60, StatusTTL: 250 * time.Millisecond}
}

// Hub serves the API. Create it with New; it is an http.Handler.
type Hub struct {
	store    Store
	cfg      Config
	log      *slog.Logger
	now      func() time.Time
	mux      *http.ServeMux
	tokens   *limiter // per token hash
	joins    *limiter // per client address
	auth     authCache
	pairs    sync.Map // pair id -> project id, for pairs known to exist (they are never deleted)
	statuses statusCache
	models   modelCache // the reward model red-team submissions are scored with
	static   *static
	closing  atomic.Bool
}

// New returns a hub over s.
func New(s Store, cfg Config) *Hub {
	d := DefaultConfig()
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = d.MaxBody
	}
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = d.MaxBatch
	}
	if cfg.MaxWantPairs <= 0 {
		cfg.MaxWantPairs = d.MaxWantPairs
	}
	if cfg.MaxSkipPairs <= 0 {
		cfg.MaxSkipPairs = d.MaxSkipPairs
	}
	if cfg.Rate <= 0 {
		cfg.Rate, cfg.Burst = d.Rate, d.Burst
	}
	if cfg.JoinRate <= 0 {
		cfg.JoinRate, cfg.JoinBurst = d.JoinRate, d.JoinBurst
	}
	if cfg.StatusTTL == 0 {
		cfg.StatusTTL = d.StatusTTL
	}
	if cfg.Burst < 1 {
		cfg.Burst = 1
	}
	if cfg.JoinBurst < 1 {
		cfg.JoinBurst = 1
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	h := &Hub{store: s, cfg: cfg, log: cfg.Log, now: cfg.Now, mux: http.NewServeMux()}
	if !cfg.NoRateLimit {
		h.tokens = newLimiter(cfg.Rate, cfg.Burst, cfg.Now)
	}
	h.joins = newLimiter(cfg.JoinRate, cfg.JoinBurst, cfg.Now)
	if cfg.Public != nil {
		h.static = newStatic(cfg.Public)
	}
	h.routes()
	return h
}

// handler is an API handler: it returns an error instead of writing one.
type handler func(w http.ResponseWriter, r *http.Request) error

func (h *Hub) api(pattern string, f handler) {
	h.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		if err := f(w, r); err != nil {
			h.writeError(w, r, err)
		}
	})
}

func (h *Hub) routes() {
	h.api("GET /api/v1/health", h.health)
	h.api("GET /api/v1/openapi.json", h.openAPI)
	h.api("POST /api/v1/join", h.join)
	h.api("GET /api/v1/projects", h.listProjects)
	h.api("POST /api/v1/projects", h.createProject)
	h.api("GET /api/v1/projects/{pid}", h.getProject)
	h.api("POST /api/v1/projects/{pid}/sync", h.sync)
	h.api("GET /api/v1/projects/{pid}/clips/{cid}", h.getClip)
	h.api("GET /api/v1/projects/{pid}/models/{version}", h.getModel)
	h.api("GET /api/v1/projects/{pid}/export", h.export)
	h.api("GET /api/v1/projects/{pid}/text", h.getText)
	h.api("GET /api/v1/projects/{pid}/policy", h.getPolicy)
	h.api("POST /api/v1/projects/{pid}/pause", h.pause(true))
	h.api("POST /api/v1/projects/{pid}/resume", h.pause(false))
	h.api("PATCH /api/v1/projects/{pid}/settings", h.patchSettings)
	h.api("GET /api/v1/projects/{pid}/raters", h.listRaters)
	h.api("POST /api/v1/projects/{pid}/raters/{rid}/exclude", h.exclude(true))
	h.api("POST /api/v1/projects/{pid}/raters/{rid}/restore", h.exclude(false))
	h.api("POST /api/v1/projects/{pid}/redteam", h.redTeamSubmit)
	h.trainerRoutes() // trainerapi.go: the remote trainer's endpoints
	if h.static != nil {
		h.mux.HandleFunc("GET /join", h.appIndex)
		h.mux.HandleFunc("GET /teacher", h.appIndex)
		h.mux.HandleFunc("GET /", h.appFiles)
	}
}

// ServeHTTP routes a request. A method the route does not allow is a JSON 405 (ServeMux's own
// answer is plain text), so that every API error has the same body.
func (h *Hub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_, pattern := h.mux.Handler(r)
	if pattern == "GET /" && strings.HasPrefix(r.URL.Path, "/api/") {
		// Only the app's catch-all matched: no API route has this method and path.
		if allow := h.allowed(r); allow != "" {
			h.methodNotAllowed(w, r, allow)
			return
		}
		h.writeError(w, r, errNotFound("", "no API route "+r.Method+" "+r.URL.Path))
		return
	}
	if pattern == "" {
		// ServeMux found no pattern: either no route (its 404) or the wrong method (its 405,
		// with an Allow header). Learn which, then answer in the API's form.
		rec := &statusRecorder{header: http.Header{}}
		h.mux.ServeHTTP(rec, r)
		if rec.status == http.StatusMethodNotAllowed {
			h.methodNotAllowed(w, r, rec.header.Get("Allow"))
			return
		}
		h.writeError(w, r, errNotFound("", "no route "+r.URL.Path))
		return
	}
	h.mux.ServeHTTP(w, r)
}

// allowed lists the methods that have an API route for r's path.
func (h *Hub) allowed(r *http.Request) string {
	var ms []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch} {
		if m == r.Method {
			continue
		}
		r2 := r.Clone(r.Context())
		r2.Method = m
		if _, p := h.mux.Handler(r2); p != "" && p != "GET /" {
			ms = append(ms, m)
		}
	}
	return strings.Join(ms, ", ")
}

func (h *Hub) methodNotAllowed(w http.ResponseWriter, r *http.Request, allow string) {
	w.Header().Set("Allow", allow)
	h.writeError(w, r, &Error{Status: http.StatusMethodNotAllowed, Code: "method_not_allowed",
		Message: r.Method + " is not allowed here; allowed: " + allow})
}

// statusRecorder captures the status and headers a handler writes, and drops the body.
type statusRecorder struct {
	header http.Header
	status int
}

func (s *statusRecorder) Header() http.Header         { return s.header }
func (s *statusRecorder) Write(b []byte) (int, error) { return len(b), nil }
func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
}

// Close marks the hub as shutting down: health answers 503 so a load balancer moves on, while
// requests in flight finish (http.Server.Shutdown waits for them).
func (h *Hub) Close() { h.closing.Store(true) }

func (h *Hub) health(w http.ResponseWriter, r *http.Request) error {
	if h.closing.Load() {
		return errUnavailable()
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	v, err := h.store.SchemaVersion(ctx)
	if err != nil {
		h.log.Error("hub: health: database", slog.Any("err", err))
		return &Error{Status: http.StatusServiceUnavailable, Code: "unavailable", Message: "the database does not answer"}
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "time": h.now().UTC(), "schema_version": v})
	return nil
}
