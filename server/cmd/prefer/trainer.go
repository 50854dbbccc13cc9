package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/prefer-rlhf/prefer/core/prefs"
	"github.com/prefer-rlhf/prefer/server/hub"
	"github.com/prefer-rlhf/prefer/server/store"
	"github.com/prefer-rlhf/prefer/server/trainer"
)

func init() {
	register("trainer", "train a remote hub (e.g. the Cloudflare Worker) through its API: labels in, models, policies and pairs out", runTrainer)
}

// runTrainer is `prefer trainer --hub URL --token TEACHER_TOKEN`: the same trainer as `prefer
// serve` runs in-process (server/trainer), with the hub's trainer API (server/hub/trainerapi.go)
// in place of the store. Reward fitting and PPO run here, natively; the hub only stores.
func runTrainer(args []string, _ io.Reader, _, stderr io.Writer) int {
	fs := flag.NewFlagSet("trainer", flag.ContinueOnError)
	fs.SetOutput(stderr)
	hubURL := fs.String("hub", "", "the hub's base URL, e.g. https://prefer-hub.example.workers.dev (required)")
	token := fs.String("token", "", "the hub's teacher token (default: $PREFER_TEACHER_TOKEN)")
	interval := fs.Duration("round-interval", 10*time.Second, "the least time between two rounds of a project")
	minLabels := fs.Int("round-labels", 10, "new labels that start a round")
	poll := fs.Duration("poll", 2*time.Second, "how often to ask the hub for due work")
	once := fs.Bool("once", false, "run one pass over the projects (a round where one is due) and exit")
	seed := fs.Uint64("seed", 1, "the trainer's seed")
	quiet := fs.Bool("quiet", false, "log warnings and errors only")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "prefer trainer: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if *token == "" {
		*token = os.Getenv("PREFER_TEACHER_TOKEN")
	}
	u, err := url.Parse(*hubURL)
	switch {
	case *hubURL == "":
		fmt.Fprintln(stderr, "prefer trainer: --hub URL is required")
		return 2
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		fmt.Fprintf(stderr, "prefer trainer: --hub %q is not an http(s) URL\n", *hubURL)
		return 2
	case *token == "":
		fmt.Fprintln(stderr, "prefer trainer: --token (or $PREFER_TEACHER_TOKEN) is required")
		return 2
	case *interval < 0 || *minLabels < 0 || *poll <= 0:
		fmt.Fprintln(stderr, "prefer trainer: --round-interval and --round-labels must be >= 0, --poll > 0")
		return 2
	}
	level := slog.LevelInfo
	if *quiet {
		level = slog.LevelWarn
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	rs := &remoteStore{base: strings.TrimRight(*hubURL, "/"), token: *token, c: &http.Client{Timeout: 5 * time.Minute}, log: log}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// Fail fast on a wrong URL or token, rather than logging the same error every poll.
	if _, err := rs.Projects(ctx); err != nil {
		fmt.Fprintf(stderr, "prefer trainer: %v\n", err)
		return 1
	}
	cfg := trainer.DefaultConfig()
	cfg.Interval, cfg.MinNewLabels, cfg.Poll, cfg.Seed, cfg.Log = *interval, *minLabels, *poll, *seed, log
	tr, err := trainer.New(rs, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "prefer trainer: %v\n", err)
		return 1
	}
	if *once {
		if err := tr.Step(ctx); err != nil {
			fmt.Fprintf(stderr, "prefer trainer: %v\n", err)
			return 1
		}
		return 0
	}
	log.Info("prefer trainer: training", slog.String("hub", rs.base))
	tr.Run(ctx) // returns when a signal arrives, after publishing the round in progress
	return 0
}

// remoteStore is trainer.Store over the hub's HTTP API. Reads are retried on network errors,
// 5xx and 429 (Retry-After); so is publishing, which the hub deduplicates by round number.
type remoteStore struct {
	base, token string
	c           *http.Client
	log         *slog.Logger
}

var _ trainer.Store = (*remoteStore)(nil)

// httpError is an API error answer.
type httpError struct {
	status int
	body   string
}

func (e *httpError) Error() string { return fmt.Sprintf("hub answered %d: %s", e.status, e.body) }

// call sends a request and decodes a 2xx JSON answer into out, retrying what may be retried
// for up to about two minutes.
func (s *remoteStore) call(ctx context.Context, method, path string, in, out any) error {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return fmt.Errorf("prefer trainer: %w", err)
		}
	}
	wait := 500 * time.Millisecond
	deadline := time.Now().Add(2 * time.Minute)
	for {
		err := s.once(ctx, method, path, body, out)
		var he *httpError
		retry := err != nil && (!errors.As(err, &he) || he.status >= 500 || he.status == http.StatusTooManyRequests)
		if !retry || time.Now().After(deadline) || ctx.Err() != nil {
			return err
		}
		if errors.As(err, &he) && he.status == http.StatusTooManyRequests {
			wait = max(wait, time.Second)
		}
		s.log.Warn("prefer trainer: retrying", slog.String("path", path), slog.Any("err", err), slog.Duration("in", wait))
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return ctx.Err()
		}
		wait = min(2*wait, 15*time.Second)
	}
}

func (s *remoteStore) once(ctx context.Context, method, path string, body []byte, out any) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, s.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+s.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := s.c.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	if res.StatusCode/100 != 2 {
		return &httpError{res.StatusCode, strings.TrimSpace(string(b))}
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("%s %s: decoding the answer: %w", method, path, err)
		}
	}
	return nil
}

// Projects lists the projects with their settings (the list has no settings: one GET each).
func (s *remoteStore) Projects(ctx context.Context) ([]store.Project, error) {
	var list struct {
		Projects []struct {
			ID string `json:"id"`
		} `json:"projects"`
	}
	if err := s.call(ctx, "GET", "/api/v1/projects", nil, &list); err != nil {
		return nil, err
	}
	out := make([]store.Project, 0, len(list.Projects))
	for _, p := range list.Projects {
		var pj struct {
			ID        string         `json:"id"`
			Env       string         `json:"env"`
			Paused    bool           `json:"paused"`
			CreatedAt time.Time      `json:"created_at"`
			Settings  store.Settings `json:"settings"`
			JoinCode  string         `json:"join_code"`
		}
		if err := s.call(ctx, "GET", "/api/v1/projects/"+p.ID, nil, &pj); err != nil {
			return nil, err
		}
		out = append(out, store.Project{ID: pj.ID, Env: pj.Env, Settings: pj.Settings, JoinCode: pj.JoinCode, Paused: pj.Paused, CreatedAt: pj.CreatedAt})
	}
	return out, nil
}

func (s *remoteStore) Labels(ctx context.Context, projectID string, after int64, withExcluded bool) ([]store.Label, error) {
	var res struct {
		Labels []hub.LabelJSON `json:"labels"`
	}
	path := fmt.Sprintf("/api/v1/projects/%s/trainer/labels?after=%d&excluded=%v", projectID, after, withExcluded)
	if err := s.call(ctx, "GET", path, nil, &res); err != nil {
		return nil, err
	}
	out := make([]store.Label, len(res.Labels))
	for i, l := range res.Labels {
		out[i] = store.Label{Seq: l.Seq, ID: l.ID, RaterID: l.RaterID, PairID: l.PairID, Choice: prefs.Choice(l.Choice), Left: l.Left, Right: l.Right}
	}
	return out, nil
}

func (s *remoteStore) ClipsByID(ctx context.Context, projectID string, ids []string) (map[string]prefs.Clip, error) {
	out := make(map[string]prefs.Clip, len(ids))
	for start := 0; start < len(ids); start += hub.MaxClipLookup {
		chunk := ids[start:min(start+hub.MaxClipLookup, len(ids))]
		var res struct {
			Clips []prefs.Clip `json:"clips"`
		}
		if err := s.call(ctx, "POST", "/api/v1/projects/"+projectID+"/trainer/clips", map[string]any{"ids": chunk}, &res); err != nil {
			return nil, err
		}
		for _, c := range res.Clips {
			out[c.ID] = c
		}
	}
	return out, nil
}

func (s *remoteStore) ModelUpdates(ctx context.Context, projectID, status string) ([]store.ModelUpdate, error) {
	var res struct {
		Updates []hub.UpdateJSON `json:"updates"`
	}
	if err := s.call(ctx, "GET", "/api/v1/projects/"+projectID+"/trainer/updates?status="+url.QueryEscape(status), nil, &res); err != nil {
		return nil, err
	}
	out := make([]store.ModelUpdate, len(res.Updates))
	for i, u := range res.Updates {
		b, err := base64.StdEncoding.DecodeString(u.DeltaF32)
		if err != nil {
			return nil, fmt.Errorf("prefer trainer: update %s: %w", u.ID, err)
		}
		delta, err := store.DecodeDelta(b)
		if err != nil {
			return nil, err
		}
		rec, _ := time.Parse(time.RFC3339Nano, u.ReceivedAt)
		out[i] = store.ModelUpdate{ID: u.ID, ProjectID: projectID, RaterID: u.RaterID, BaseVersion: u.BaseVersion, Labels: u.Labels,
			Delta: delta, Metrics: u.Metrics, Status: u.Status, MergedInto: u.MergedInto, Reason: u.Reason, ReceivedAt: rec}
	}
	return out, nil
}

func (s *remoteStore) Checkpoint(ctx context.Context, projectID string) (int, []byte, error) {
	var res struct {
		Round int    `json:"round"`
		State []byte `json:"state"`
	}
	err := s.call(ctx, "GET", "/api/v1/projects/"+projectID+"/trainer/checkpoint", nil, &res)
	var he *httpError
	if errors.As(err, &he) && he.status == http.StatusNotFound {
		return 0, nil, store.ErrNotFound
	}
	if err != nil {
		return 0, nil, err
	}
	return res.Round, res.State, nil
}

func (s *remoteStore) PublishRound(ctx context.Context, r *store.Round) error {
	in := hub.RoundJSON{Round: r.Round, Checkpoint: r.Checkpoint, Clips: r.Clips, ReplacePairs: r.ReplacePairs,
		Merged: r.Merged, Rejected: r.Rejected}
	if m := r.Model; m != nil {
		in.Model = &hub.RoundModelJSON{Version: m.Version, Weights: m.Weights, NumParams: m.NumParams, Metrics: finite(m.Metrics)}
	}
	if p := r.Policy; p != nil {
		in.Policy = &hub.RoundPolicyJSON{Version: p.Version, Weights: p.Weights, LearnedReturn: finitePtr(p.LearnedReturn),
			TrueReturn: finitePtr(p.TrueReturn), KL: finitePtr(p.KL), EnvSteps: p.EnvSteps, Labels: p.Labels}
	}
	for _, p := range r.Pairs {
		in.Pairs = append(in.Pairs, hub.RoundPairJSON{ID: p.ID, Left: p.Left, Right: p.Right, Priority: p.Priority})
	}
	if err := s.call(ctx, "POST", "/api/v1/projects/"+r.ProjectID+"/trainer/rounds", in, nil); err != nil {
		return fmt.Errorf("prefer trainer: publishing round %d: %w", r.Round, err)
	}
	return nil
}

// finite drops NaN and infinities, which JSON cannot carry.
func finite(m map[string]float64) map[string]float64 {
	out := make(map[string]float64, len(m))
	for k, v := range m {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			out[k] = v
		}
	}
	return out
}

func finitePtr(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}
