package conformance

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"
)

// api is a client of one server under test.
type api struct {
	s *server
	c *http.Client
}

func newAPI(s *server) *api {
	return &api{s: s, c: &http.Client{Timeout: 60 * time.Second}}
}

// resp is an answer, read whole.
type resp struct {
	status int
	header http.Header
	body   []byte
}

// raw is a request body sent as is.
type raw string

// req sends one request with a JSON content type. body is nil (no body), raw (sent as is) or
// any value (sent as JSON). A 429 is waited out and retried (send).
func (a *api) req(t testing.TB, method, path, token string, body any) resp {
	t.Helper()
	return a.send(t, method, path, token, "application/json", body)
}

// send is req with any content type ("": none). A 429 is waited out (Retry-After) and
// retried, as a client does, so that a test's verdict never depends on how fast the requests
// before it went: only the rate-limit test looks at 429s, through sendOnce.
func (a *api) send(t testing.TB, method, path, token, contentType string, body any) resp {
	t.Helper()
	for try := 0; ; try++ {
		r := a.sendOnce(t, method, path, token, contentType, body)
		if r.status != http.StatusTooManyRequests || try == 20 {
			return r
		}
		wait, _ := strconv.Atoi(r.header.Get("Retry-After"))
		time.Sleep(time.Duration(max(wait, 1)) * time.Second)
	}
}

// sendOnce sends one request and returns its answer, a 429 included.
func (a *api) sendOnce(t testing.TB, method, path, token, contentType string, body any) resp {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case raw:
		rd = bytes.NewReader([]byte(b))
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	hr, err := http.NewRequest(method, a.s.url+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil && contentType != "" {
		hr.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		hr.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := a.c.Do(hr)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", method, path, err)
	}
	return resp{res.StatusCode, res.Header, b}
}

// ok checks the status and decodes the body into v (if not nil).
func (r resp) ok(t testing.TB, status int, v any) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	if v != nil {
		if err := json.Unmarshal(r.body, v); err != nil {
			t.Fatalf("decoding %s: %v", r.body, err)
		}
	}
}

// apiError is the body of every error.
type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Field   string `json:"field"`
		Message string `json:"message"`
	} `json:"error"`
}

// isError checks that r is the API error (status, code, field) with a message and a JSON
// content type.
func (r resp) isError(t testing.TB, status int, code, field string) {
	t.Helper()
	var e apiError
	if r.status != status {
		t.Fatalf("status %d, want %d (%s): %s", r.status, status, code, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("error content type %q", ct)
	}
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		t.Fatalf("error body %s: %v", r.body, err)
	}
	if e.Error.Code != code || e.Error.Field != field || e.Error.Message == "" {
		t.Fatalf("error %+v, want code %q field %q and a message", e.Error, code, field)
	}
}

// Fixtures.

type project struct {
	ID       string `json:"id"`
	JoinCode string `json:"join_code"`
}

func (a *api) newProject(t testing.TB, env string) project {
	t.Helper()
	var p project
	a.req(t, "POST", "/api/v1/projects", a.s.teacher, map[string]any{"env": env}).ok(t, http.StatusCreated, &p)
	return p
}

type rater struct {
	RaterID   string `json:"rater_id"`
	Token     string `json:"token"`
	ProjectID string `json:"project_id"`
}

func (a *api) join(t testing.TB, code, name string) rater {
	t.Helper()
	var r rater
	a.req(t, "POST", "/api/v1/join", "", map[string]string{"join_code": code, "name": name}).ok(t, http.StatusCreated, &r)
	return r
}

// clip is a CartPole-v1 clip as a trainer publishes it.
func clip() map[string]any {
	return map[string]any{"id": uuid.NewString(), "env": "CartPole-v1", "policy_version": 0,
		"start_state": []float64{0.01, -0.02, 0.03, 0}, "actions": [][]float64{{1}, {0}, {1}}}
}

// publishPairs publishes n pairs on 2n new clips through the trainer API (a round without a
// checkpoint, so it is never taken for a retry) and returns the pair ids.
func (a *api) publishPairs(t testing.TB, pid string, n int) []string {
	t.Helper()
	var clips []map[string]any
	var pairs []map[string]any
	var ids []string
	for i := 0; i < n; i++ {
		l, r := clip(), clip()
		id := uuid.NewString()
		clips = append(clips, l, r)
		pairs = append(pairs, map[string]any{"id": id, "left": l["id"], "right": r["id"], "priority": float64(n - i)})
		ids = append(ids, id)
	}
	a.req(t, "POST", "/api/v1/projects/"+pid+"/trainer/rounds", a.s.teacher,
		map[string]any{"round": 1, "clips": clips, "pairs": pairs}).ok(t, http.StatusCreated, nil)
	return ids
}

func comparison(pair, choice string) map[string]any {
	return map[string]any{"id": uuid.NewString(), "pair_id": pair, "choice": choice,
		"created_at": time.Now().Add(-time.Minute).UTC().Format(time.RFC3339Nano), "response_ms": 1500}
}

// syncResult is the answer to a sync.
type syncResult struct {
	Accepted   []string `json:"accepted"`
	Duplicates []string `json:"duplicates"`
	Rejected   []struct {
		ID     string `json:"id"`
		Index  int    `json:"index"`
		Field  string `json:"field"`
		Reason string `json:"reason"`
	} `json:"rejected"`
	ModelUpdate *struct {
		ID     string `json:"id"`
		Status string `json:"status"`
		Reason string `json:"reason"`
	} `json:"model_update"`
	Pairs []struct {
		ID    string         `json:"id"`
		Left  map[string]any `json:"left"`
		Right map[string]any `json:"right"`
	} `json:"pairs"`
	Model   map[string]any `json:"model"`
	Project struct {
		Paused        bool `json:"paused"`
		ModelVersion  int  `json:"model_version"`
		PolicyVersion int  `json:"policy_version"`
	} `json:"project"`
}

func (a *api) sync(t testing.TB, r rater, body any) syncResult {
	t.Helper()
	var out syncResult
	a.req(t, "POST", "/api/v1/projects/"+r.ProjectID+"/sync", r.Token, body).ok(t, http.StatusOK, &out)
	return out
}

func path(format string, args ...any) string { return fmt.Sprintf(format, args...) }
