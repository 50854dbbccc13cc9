package hub

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prefer-rlhf/prefer/core/jsonnum"
	"github.com/prefer-rlhf/prefer/core/prefs"
	"github.com/prefer-rlhf/prefer/core/text"
	"github.com/prefer-rlhf/prefer/core/wire"
	"github.com/prefer-rlhf/prefer/server/store"
)

// Client is the Go client of the hub's HTTP API (docs/api.md), for `prefer trainer`, the tools
// and the tests. An error answer comes back as *Error with the status, code, field and message
// of the hub's error body. Its trainer methods make it a server/trainer Store, so the same
// trainer runs in-process on the store or remotely over this client.
type Client struct {
	// Base is the hub's base URL without a trailing slash, e.g. http://127.0.0.1:8080.
	Base string
	// Token is the bearer token sent with every request ("" for none).
	Token string
	// HTTP does the requests.
	HTTP *http.Client
	// Retry, when positive, is how long a call retries what may be retried: network errors,
	// 5xx, and 429 after its Retry-After. Zero: every call is tried once.
	Retry time.Duration
	// Log, if not nil, gets a warning per retry.
	Log *slog.Logger
	// TextWorld, if not nil, is a trainer's text world: before the first round the client
	// publishes to a text project, it uploads the project's bundle from it (PutText), which a
	// hub without a corpus (the Worker) needs to serve and check the round's text clips.
	TextWorld func() (*text.World, error)

	uploaded sync.Map // ids of the text projects whose bundle this client uploaded
}

// NewClient returns a client of the hub at base acting with token.
func NewClient(base, token string) *Client {
	return &Client{Base: strings.TrimRight(base, "/"), Token: token, HTTP: &http.Client{Timeout: 5 * time.Minute}}
}

// Do sends in (nil: no body) as JSON and decodes a 2xx answer's JSON into out (nil: ignored).
func (c *Client) Do(ctx context.Context, method, path string, in, out any) error {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return fmt.Errorf("hub: client: %w", err)
		}
	}
	wait := 500 * time.Millisecond
	deadline := time.Now().Add(c.Retry)
	for {
		err := c.once(ctx, method, path, body, out)
		var he *Error
		isAPI := errors.As(err, &he)
		retry := err != nil && (!isAPI || he.Status >= 500 || he.Status == http.StatusTooManyRequests)
		if !retry || c.Retry <= 0 || time.Now().After(deadline) || ctx.Err() != nil {
			return err
		}
		if isAPI && he.RetryAfter > 0 {
			wait = max(wait, time.Duration(he.RetryAfter)*time.Second)
		}
		if c.Log != nil {
			c.Log.Warn("hub client: retrying", slog.String("path", path), slog.Any("err", err), slog.Duration("in", wait))
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return ctx.Err()
		}
		wait = min(2*wait, 15*time.Second)
	}
}

func (c *Client) once(ctx context.Context, method, path string, body []byte, out any) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.Base+path, rd)
	if err != nil {
		return err
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := c.HTTP.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	if res.StatusCode/100 != 2 {
		return decodeError(res, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("hub: %s %s: decoding the answer: %w", method, path, err)
		}
	}
	return nil
}

// decodeError turns an error answer into *Error; a body that is not the hub's error body (a
// proxy's page, say) becomes the message.
func decodeError(res *http.Response, b []byte) *Error {
	var eb struct {
		Error struct {
			Code    string `json:"code"`
			Field   string `json:"field"`
			Message string `json:"message"`
		} `json:"error"`
	}
	e := &Error{Status: res.StatusCode}
	if json.Unmarshal(b, &eb) == nil && eb.Error.Code != "" {
		e.Code, e.Field, e.Message = eb.Error.Code, eb.Error.Field, eb.Error.Message
	} else {
		e.Code, e.Message = "http_"+strconv.Itoa(res.StatusCode), strings.TrimSpace(string(b))
	}
	if s, err := strconv.Atoi(res.Header.Get("Retry-After")); err == nil {
		e.RetryAfter = s
	}
	return e
}

// Join joins the project with req's join code: POST /api/v1/join. The client itself keeps its
// token; use the answer's Token for a rater's client.
func (c *Client) Join(ctx context.Context, req wire.JoinRequest) (wire.JoinResponse, error) {
	var out wire.JoinResponse
	err := c.Do(ctx, "POST", "/api/v1/join", req, &out)
	return out, err
}

// Sync is POST /api/v1/projects/{pid}/sync as a rater.
func (c *Client) Sync(ctx context.Context, pid string, req wire.SyncRequest[prefs.Comparison]) (wire.SyncResponse[prefs.Pair], error) {
	var out wire.SyncResponse[prefs.Pair]
	err := c.Do(ctx, "POST", "/api/v1/projects/"+url.PathEscape(pid)+"/sync", req, &out)
	return out, err
}

// ProjectJSON is GET /api/v1/projects/{pid} as far as clients read it.
type ProjectJSON struct {
	ID        string         `json:"id"`
	Env       string         `json:"env"`
	Paused    bool           `json:"paused"`
	CreatedAt time.Time      `json:"created_at"`
	Settings  store.Settings `json:"settings"`
	JoinCode  string         `json:"join_code"`
	History   []HistoryJSON  `json:"history"`
}

// HistoryJSON is one published policy version in a project's history; unknown returns are NaN.
type HistoryJSON struct {
	Version       int         `json:"version"`
	LearnedReturn jsonnum.Num `json:"learned_return"`
	TrueReturn    jsonnum.Num `json:"true_return"`
	EnvSteps      int64       `json:"env_steps"`
	Labels        int         `json:"labels"`
}

// Project is GET /api/v1/projects/{pid}. Settings a hub does not send (an older hub's) keep
// their defaults, as the store decodes them.
func (c *Client) Project(ctx context.Context, pid string) (ProjectJSON, error) {
	out := ProjectJSON{Settings: store.DefaultSettings()}
	err := c.Do(ctx, "GET", "/api/v1/projects/"+url.PathEscape(pid), nil, &out)
	return out, err
}

// CreateProject is POST /api/v1/projects (teacher): env plus any settings; it returns the new
// project's id and join code.
func (c *Client) CreateProject(ctx context.Context, env string, settings map[string]any) (id, joinCode string, err error) {
	body := map[string]any{"env": env}
	for k, v := range settings {
		body[k] = v
	}
	var out struct {
		ID       string `json:"id"`
		JoinCode string `json:"join_code"`
	}
	err = c.Do(ctx, "POST", "/api/v1/projects", body, &out)
	return out.ID, out.JoinCode, err
}

// PatchSettings is PATCH /api/v1/projects/{pid}/settings (teacher) with any subset of the
// settings; it returns them all.
func (c *Client) PatchSettings(ctx context.Context, pid string, settings map[string]any) (store.Settings, error) {
	var out struct {
		Settings store.Settings `json:"settings"`
	}
	err := c.Do(ctx, "PATCH", "/api/v1/projects/"+url.PathEscape(pid)+"/settings", settings, &out)
	return out.Settings, err
}

// The trainer API (teacher): server/trainer's Store over HTTP.

// Projects lists the projects with their settings (the list has none: one GET each).
func (c *Client) Projects(ctx context.Context) ([]store.Project, error) {
	var list struct {
		Projects []struct {
			ID string `json:"id"`
		} `json:"projects"`
	}
	if err := c.Do(ctx, "GET", "/api/v1/projects", nil, &list); err != nil {
		return nil, err
	}
	out := make([]store.Project, 0, len(list.Projects))
	for _, p := range list.Projects {
		pj, err := c.Project(ctx, p.ID)
		if err != nil {
			return nil, err
		}
		out = append(out, store.Project{ID: pj.ID, Env: pj.Env, Settings: pj.Settings, JoinCode: pj.JoinCode, Paused: pj.Paused, CreatedAt: pj.CreatedAt})
	}
	return out, nil
}

// Labels is GET .../trainer/labels: comparisons in arrival order after seq.
func (c *Client) Labels(ctx context.Context, projectID string, after int64, withExcluded bool) ([]store.Label, error) {
	var res struct {
		Labels []LabelJSON `json:"labels"`
	}
	path := fmt.Sprintf("/api/v1/projects/%s/trainer/labels?after=%d&excluded=%v", url.PathEscape(projectID), after, withExcluded)
	if err := c.Do(ctx, "GET", path, nil, &res); err != nil {
		return nil, err
	}
	out := make([]store.Label, len(res.Labels))
	for i, l := range res.Labels {
		out[i] = store.Label{Seq: l.Seq, ID: l.ID, RaterID: l.RaterID, PairID: l.PairID, Choice: prefs.Choice(l.Choice), Left: l.Left, Right: l.Right}
	}
	return out, nil
}

// ClipsByID is POST .../trainer/clips, in chunks of MaxClipLookup.
func (c *Client) ClipsByID(ctx context.Context, projectID string, ids []string) (map[string]prefs.Clip, error) {
	out := make(map[string]prefs.Clip, len(ids))
	for start := 0; start < len(ids); start += MaxClipLookup {
		chunk := ids[start:min(start+MaxClipLookup, len(ids))]
		var res struct {
			Clips []prefs.Clip `json:"clips"`
		}
		if err := c.Do(ctx, "POST", "/api/v1/projects/"+url.PathEscape(projectID)+"/trainer/clips", map[string]any{"ids": chunk}, &res); err != nil {
			return nil, err
		}
		for _, cl := range res.Clips {
			out[cl.ID] = cl
		}
	}
	return out, nil
}

// ModelUpdates is GET .../trainer/updates?status=S.
func (c *Client) ModelUpdates(ctx context.Context, projectID, status string) ([]store.ModelUpdate, error) {
	var res struct {
		Updates []UpdateJSON `json:"updates"`
	}
	if err := c.Do(ctx, "GET", "/api/v1/projects/"+url.PathEscape(projectID)+"/trainer/updates?status="+url.QueryEscape(status), nil, &res); err != nil {
		return nil, err
	}
	out := make([]store.ModelUpdate, len(res.Updates))
	for i, u := range res.Updates {
		b, err := base64.StdEncoding.DecodeString(u.DeltaF32)
		if err != nil {
			return nil, fmt.Errorf("hub: update %s: %w", u.ID, err)
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

// Checkpoint is GET .../trainer/checkpoint; store.ErrNotFound before the first round.
func (c *Client) Checkpoint(ctx context.Context, projectID string) (int, []byte, error) {
	var res struct {
		Round int    `json:"round"`
		State []byte `json:"state"`
	}
	err := c.Do(ctx, "GET", "/api/v1/projects/"+url.PathEscape(projectID)+"/trainer/checkpoint", nil, &res)
	var he *Error
	if errors.As(err, &he) && he.Status == http.StatusNotFound {
		return 0, nil, store.ErrNotFound
	}
	if err != nil {
		return 0, nil, err
	}
	return res.Round, res.State, nil
}

// Text is GET /api/v1/projects/{pid}/text: a text project's bundle; before its trainer
// uploads one (the Worker), a *Error with status 409.
func (c *Client) Text(ctx context.Context, pid string) (wire.TextBundle, error) {
	var b wire.TextBundle
	err := c.Do(ctx, "GET", "/api/v1/projects/"+url.PathEscape(pid)+"/text", nil, &b)
	return b, err
}

// PutText is PUT .../trainer/text: uploads a text project's bundle (NewTextBundle of the
// trainer's world). The same tokenizer again is a no-op; another once the project has labels
// is a *Error with status 409.
func (c *Client) PutText(ctx context.Context, pid string, b wire.TextBundle) error {
	return c.Do(ctx, "PUT", "/api/v1/projects/"+url.PathEscape(pid)+"/trainer/text", b, nil)
}

// uploadText uploads text project pid's bundle from c.TextWorld, once per client.
func (c *Client) uploadText(ctx context.Context, pid string) error {
	if _, ok := c.uploaded.Load(pid); ok {
		return nil
	}
	p, err := c.Project(ctx, pid)
	if err != nil {
		return err
	}
	if _, ok := text.TaskOf(p.Env); ok {
		w, err := c.TextWorld()
		if err != nil {
			return err
		}
		b, err := NewTextBundle(w, p.Env)
		if err != nil {
			return err
		}
		err = c.PutText(ctx, pid, b)
		var he *Error
		if errors.As(err, &he) && he.Status == http.StatusConflict {
			return fmt.Errorf("hub: project %s keeps another tokenizer than this trainer's corpus gives, and has labels: train it with the corpus it was created with (%s)", pid, he.Message)
		} else if err != nil {
			return err
		}
	}
	c.uploaded.Store(pid, true)
	return nil
}

// PublishRound is POST .../trainer/rounds; the hub deduplicates a retry by round number. With
// TextWorld set, a text project's first round is preceded by its bundle (uploadText).
func (c *Client) PublishRound(ctx context.Context, r *store.Round) error {
	if c.TextWorld != nil {
		if err := c.uploadText(ctx, r.ProjectID); err != nil {
			return err
		}
	}
	in := RoundJSON{Round: r.Round, Checkpoint: r.Checkpoint, Clips: r.Clips, ReplacePairs: r.ReplacePairs,
		Merged: r.Merged, Rejected: r.Rejected}
	if m := r.Model; m != nil {
		metrics := make(map[string]float64, len(m.Metrics))
		for k, v := range m.Metrics {
			if jsonnum.Finite(v) { // JSON cannot carry the others; absent means unknown
				metrics[k] = v
			}
		}
		in.Model = &RoundModelJSON{Version: m.Version, Weights: m.Weights, NumParams: m.NumParams, Metrics: metrics}
	}
	if p := r.Policy; p != nil {
		in.Policy = &RoundPolicyJSON{Version: p.Version, Weights: p.Weights, LearnedReturn: finitePtr(p.LearnedReturn),
			TrueReturn: finitePtr(p.TrueReturn), KL: finitePtr(p.KL), EnvSteps: p.EnvSteps, Labels: p.Labels}
	}
	for _, p := range r.Pairs {
		in.Pairs = append(in.Pairs, RoundPairJSON{ID: p.ID, Left: p.Left, Right: p.Right, Priority: p.Priority, Tag: p.Tag})
	}
	if err := c.Do(ctx, "POST", "/api/v1/projects/"+url.PathEscape(r.ProjectID)+"/trainer/rounds", in, nil); err != nil {
		return fmt.Errorf("hub: publishing round %d: %w", r.Round, err)
	}
	return nil
}

// finitePtr is v, or nil (JSON null: unknown) when v is not finite.
func finitePtr(v float64) *float64 {
	if !jsonnum.Finite(v) {
		return nil
	}
	return &v
}

// ExportRow is one comparison of the JSONL export as far as clients read it.
type ExportRow struct {
	ID          string       `json:"id"`
	RaterID     string       `json:"rater_id"`
	Participant string       `json:"participant"`
	PairID      string       `json:"pair_id"`
	Choice      prefs.Choice `json:"choice"`
	Excluded    bool         `json:"excluded"`
	Left        prefs.Clip   `json:"left"`
	Right       prefs.Clip   `json:"right"`
}

// Export is GET /api/v1/projects/{pid}/export?format=jsonl (teacher), read whole.
func (c *Client) Export(ctx context.Context, pid string) ([]ExportRow, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", c.Base+"/api/v1/projects/"+url.PathEscape(pid)+"/export?format=jsonl", nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.Token)
	res, err := c.HTTP.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(res.Body)
		return nil, decodeError(res, b)
	}
	var rows []ExportRow
	dec := json.NewDecoder(res.Body)
	for dec.More() {
		var r ExportRow
		if err := dec.Decode(&r); err != nil {
			return nil, fmt.Errorf("hub: export: %w", err)
		}
		rows = append(rows, r)
	}
	return rows, nil
}
