package hub

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/uuid"
	"github.com/prefer-rlhf/prefer/core/prefs"
	"github.com/prefer-rlhf/prefer/core/wire"
	"github.com/prefer-rlhf/prefer/server/store"
)

// env is a hub over a fresh store with a project, a teacher token, a joined rater, clips,
// pairs and one published model.
type testEnv struct {
	t       *testing.T
	st      *store.Store
	path    string // st's database file
	hub     *Hub
	srv     *httptest.Server
	teacher string
	pid     string
	code    string
	rater   string // token
	raterID string
	pairs   []string
	clips   []prefs.Clip
	now     time.Time
}

var bg = context.Background()

func newEnv(t *testing.T, cfg Config) *testEnv {
	t.Helper()
	path := filepath.Join(t.TempDir(), "hub.db")
	st, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := &testEnv{t: t, st: st, path: path, now: time.Now()}
	e.teacher = NewTeacherToken()
	if err := st.AddTeacherToken(bg, HashToken(e.teacher), ""); err != nil {
		t.Fatal(err)
	}
	e.pid, e.code = uuid.NewString(), "TEST42"
	if err := st.CreateProject(bg, &store.Project{ID: e.pid, Env: "CartPole-v1", Settings: store.DefaultSettings(), JoinCode: e.code}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 4; i++ {
		e.clips = append(e.clips, prefs.Clip{ID: uuid.NewString(), Env: "CartPole-v1", PolicyVersion: i,
			StartState: []float64{0, 0, 0.01 * float64(i), 0}, Actions: [][]float64{{0}, {1}, {float64(i % 2)}}})
	}
	var np []store.NewPair
	for i := 0; i < 3; i++ {
		id := uuid.NewString()
		e.pairs = append(e.pairs, id)
		np = append(np, store.NewPair{ID: id, Left: e.clips[i].ID, Right: e.clips[i+1].ID, Priority: float64(3 - i)})
	}
	err = st.PublishRound(bg, &store.Round{ProjectID: e.pid, Clips: e.clips, Pairs: np, ReplacePairs: true,
		Model:  &store.Model{Version: 1, Weights: json.RawMessage(`{"format":"prefer-reward","version":1}`), NumParams: 4, Metrics: map[string]float64{"reward/val_accuracy": 0.5}},
		Policy: &store.Policy{Version: 1, Weights: []byte{1}, LearnedReturn: 2, TrueReturn: 20, EnvSteps: 1000, Labels: 0}})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Public == nil {
		cfg.Public = fstest.MapFS{
			"index.html":       {Data: []byte("<!doctype html><title>Prefer</title>" + strings.Repeat("<p>hello</p>", 50))},
			"app.wasm":         {Data: bytes.Repeat([]byte{0, 97, 115, 109}, 1000)},
			"app.wasm.br":      {Data: []byte("brotli-bytes")},
			"style.css":        {Data: []byte("body{margin:0}" + strings.Repeat(" ", 500))},
			"logo.png":         {Data: []byte{0x89, 'P', 'N', 'G'}},
			"wasm_exec.js":     {Data: []byte("// go\n" + strings.Repeat("x", 300))},
			"wasm_exec.js.gz":  {Data: gz([]byte("// precompressed"))},
			"sub/embedded.txt": {Data: []byte("hi")},
		}
	}
	cfg.Log = nil
	e.hub = New(st, cfg)
	e.srv = httptest.NewServer(e.hub)
	t.Cleanup(e.srv.Close)
	var jr wire.JoinResponse
	e.do("POST", "/api/v1/join", "", map[string]any{"join_code": e.code, "name": "Ada"}, 201, &jr)
	e.rater, e.raterID = jr.Token, jr.RaterID
	return e
}

func gz(b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

// do sends a request and checks the status; body may be nil, a string (sent raw) or a value
// (sent as JSON). out, if not nil, receives the decoded response.
func (e *testEnv) do(method, path, token string, body any, want int, out any) *http.Response {
	e.t.Helper()
	resp, b := e.raw(method, path, token, body, nil)
	if resp.StatusCode != want {
		e.t.Fatalf("%s %s: status %d, want %d: %s", method, path, resp.StatusCode, want, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			e.t.Fatalf("%s %s: decoding %s: %v", method, path, b, err)
		}
	}
	return resp
}

func (e *testEnv) raw(method, path, token string, body any, hdr map[string]string) (*http.Response, []byte) {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, e.srv.URL+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range hdr {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultTransport.(*http.Transport).Clone().RoundTrip(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// apiErr checks that a request fails with the given status, code and field.
func (e *testEnv) apiErr(method, path, token string, body any, status int, code, field string) {
	e.t.Helper()
	e.apiErrH(method, path, token, body, nil, status, code, field)
}

func (e *testEnv) apiErrH(method, path, token string, body any, hdr map[string]string, status int, code, field string) {
	e.t.Helper()
	resp, b := e.raw(method, path, token, body, hdr)
	var eb errorBody
	if err := json.Unmarshal(b, &eb); err != nil {
		e.t.Fatalf("%s %s: not an error body: %s", method, path, b)
	}
	if resp.StatusCode != status || eb.Error.Code != code || eb.Error.Field != field {
		e.t.Fatalf("%s %s: got %d %q field %q (%s), want %d %q field %q", method, path, resp.StatusCode,
			eb.Error.Code, eb.Error.Field, eb.Error.Message, status, code, field)
	}
	if eb.Error.Message == "" {
		e.t.Fatalf("%s %s: empty message", method, path)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		e.t.Fatalf("%s %s: error content type %q", method, path, ct)
	}
}

func (e *testEnv) comparison(pair string, c prefs.Choice) map[string]any {
	return map[string]any{"id": uuid.NewString(), "pair_id": pair, "choice": string(c),
		"created_at": e.now.Add(-time.Minute).UTC().Format(time.RFC3339Nano), "response_ms": 1500}
}

func (e *testEnv) sync(token string, body map[string]any) syncResponse {
	e.t.Helper()
	var res syncResponse
	e.do("POST", "/api/v1/projects/"+e.pid+"/sync", token, body, 200, &res)
	return res
}

func TestHealth(t *testing.T) {
	e := newEnv(t, Config{})
	var h map[string]any
	e.do("GET", "/api/v1/health", "", nil, 200, &h)
	if h["status"] != "ok" || h["schema_version"].(float64) != float64(store.LatestVersion()) {
		t.Fatalf("health %v", h)
	}
	e.hub.Close()
	e.apiErr("GET", "/api/v1/health", "", nil, 503, "unavailable", "")
}

func TestJoin(t *testing.T) {
	e := newEnv(t, Config{})
	var jr wire.JoinResponse
	e.do("POST", "/api/v1/join", "", map[string]any{"join_code": "  test42 ", "name": " Grace "}, 201, &jr)
	if jr.ProjectID != e.pid || !prefs.ValidUUID(jr.RaterID) || !strings.HasPrefix(jr.Token, "pr_") {
		t.Fatalf("join %+v", jr)
	}
	// The token works and only its hash is stored.
	r, err := e.st.RaterByTokenHash(bg, HashToken(jr.Token))
	if err != nil || r.Name != "Grace" {
		t.Fatalf("stored rater %+v %v", r, err)
	}
	if _, err := e.st.RaterByTokenHash(bg, jr.Token); err == nil {
		t.Fatal("token stored in the clear")
	}
	p := "/api/v1/join"
	e.apiErr("POST", p, "", map[string]any{"join_code": "NOPE99", "name": "x"}, 404, "not_found", "join_code")
	e.apiErr("POST", p, "", map[string]any{"join_code": "", "name": "x"}, 400, "invalid", "join_code")
	e.apiErr("POST", p, "", map[string]any{"join_code": e.code}, 400, "invalid", "name")
	e.apiErr("POST", p, "", map[string]any{"join_code": e.code, "name": strings.Repeat("é", 65)}, 400, "invalid", "name")
	e.apiErr("POST", p, "", map[string]any{"join_code": e.code, "name": "a\x07b"}, 400, "invalid", "name")
	e.apiErr("POST", p, "", map[string]any{"join_code": e.code, "name": "x", "role": "teacher"}, 400, "unknown_field", "role")
	e.apiErr("POST", p, "", map[string]any{"join_code": 42, "name": "x"}, 400, "bad_json", "join_code")
	e.apiErr("POST", p, "", `{"join_code": "TEST42", "name": `, 400, "bad_json", "")
	e.apiErr("POST", p, "", `{"join_code": "TEST42", "name": "a"} {}`, 400, "bad_json", "")
	e.apiErr("POST", p, "", `[1]`, 400, "bad_json", "")
	e.apiErrH("POST", p, "", `join_code=TEST42`, map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, 415, "unsupported_media_type", "Content-Type")
	e.apiErr("POST", p, "", strings.Repeat(" ", 1<<20+1), 413, "too_large", "")
	// A missing content type is accepted.
	resp, b := e.raw("POST", p, "", `{"join_code":"TEST42","name":"NoCT"}`, map[string]string{"Content-Type": ""})
	if resp.StatusCode != 201 {
		t.Fatalf("join without content type: %d %s", resp.StatusCode, b)
	}
}

func TestJoinRateLimit(t *testing.T) {
	e := newEnv(t, Config{JoinRate: 0.001, JoinBurst: 2})
	// newEnv's join spent one token; one more passes, the next is limited.
	e.do("POST", "/api/v1/join", "", map[string]any{"join_code": e.code, "name": "b"}, 201, nil)
	resp, _ := e.raw("POST", "/api/v1/join", "", map[string]any{"join_code": e.code, "name": "c"}, nil)
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("third join: %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	e.apiErr("POST", "/api/v1/join", "", map[string]any{"join_code": e.code, "name": "d"}, 429, "rate_limited", "")
}

func TestTokenRateLimit(t *testing.T) {
	e := newEnv(t, Config{Rate: 0.01, Burst: 3})
	for i := 0; i < 3; i++ {
		e.sync(e.rater, map[string]any{})
	}
	resp, b := e.raw("POST", "/api/v1/projects/"+e.pid+"/sync", e.rater, map[string]any{}, nil)
	if resp.StatusCode != 429 {
		t.Fatalf("4th sync: %d %s", resp.StatusCode, b)
	}
	if ra := resp.Header.Get("Retry-After"); ra == "" || ra == "0" {
		t.Fatalf("Retry-After %q", ra)
	}
	// Another token has its own bucket.
	e.do("GET", "/api/v1/projects/"+e.pid, e.teacher, nil, 200, nil)
}

func TestLimiter(t *testing.T) {
	now := time.Unix(1000, 0)
	l := newLimiter(2, 2, func() time.Time { return now })
	for i := 0; i < 2; i++ {
		if ok, _ := l.take("a"); !ok {
			t.Fatal("burst refused")
		}
	}
	ok, wait := l.take("a")
	if ok || wait != 500*time.Millisecond {
		t.Fatalf("over burst: %v %v", ok, wait)
	}
	now = now.Add(500 * time.Millisecond)
	if ok, _ := l.take("a"); !ok {
		t.Fatal("refill refused")
	}
	if ok, _ := l.take("b"); !ok {
		t.Fatal("other key refused")
	}
	now = now.Add(time.Hour)
	l.take("c")
	if len(l.buckets) != 1 {
		t.Fatalf("sweep kept %d buckets", len(l.buckets))
	}
}

func TestSyncExactlyOnce(t *testing.T) {
	e := newEnv(t, Config{})
	a, b := e.comparison(e.pairs[0], prefs.Left), e.comparison(e.pairs[1], prefs.CantTell)
	res := e.sync(e.rater, map[string]any{"comparisons": []any{a, b}})
	if len(res.Accepted) != 2 || len(res.Duplicates) != 0 || len(res.Rejected) != 0 {
		t.Fatalf("first sync %+v", res)
	}
	c := e.comparison(e.pairs[2], prefs.Equal)
	res = e.sync(e.rater, map[string]any{"comparisons": []any{a, c, b}})
	if fmt.Sprint(res.Accepted) != fmt.Sprint([]string{c["id"].(string)}) || len(res.Duplicates) != 2 {
		t.Fatalf("re-send %+v", res)
	}
	n, _ := e.st.CountComparisons(bg, e.pid)
	if n != 3 {
		t.Fatalf("stored %d, want 3", n)
	}
	// What is stored is what was sent.
	var rows []store.ExportRow
	e.st.Export(bg, e.pid, func(r *store.ExportRow) error { rows = append(rows, *r); return nil })
	if rows[0].ID != a["id"] || rows[0].Choice != prefs.Left || rows[0].ResponseMS != 1500 || rows[0].RaterID != e.raterID ||
		rows[1].Choice != prefs.CantTell || rows[0].ReceivedAt.Before(rows[0].CreatedAt) {
		t.Fatalf("stored %+v", rows[0])
	}
}

func TestSyncRejectsBadItemsAlone(t *testing.T) {
	e := newEnv(t, Config{})
	good := e.comparison(e.pairs[0], prefs.Right)
	mut := func(k string, v any) map[string]any {
		c := e.comparison(e.pairs[1], prefs.Left)
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return c
	}
	repeat := e.comparison(e.pairs[2], prefs.Left)
	items := []any{
		good,
		mut("id", "not-a-uuid"),
		mut("pair_id", uuid.NewString()), // unknown pair
		mut("pair_id", "nope"),
		mut("choice", "both"),
		mut("created_at", "yesterday"),
		mut("created_at", "1999-01-01T00:00:00Z"),
		mut("created_at", e.now.Add(48*time.Hour).Format(time.RFC3339)),
		mut("created_at", nil),
		mut("response_ms", -1),
		mut("response_ms", 1.5),
		mut("response_ms", "12"),
		mut("response_ms", nil),
		mut("colour", "red"),
		mut("id", 7),
		"not an object",
		repeat, repeat,
	}
	res := e.sync(e.rater, map[string]any{"comparisons": items})
	wantFields := []string{"id", "pair_id", "pair_id", "choice", "created_at", "created_at", "created_at", "created_at",
		"response_ms", "response_ms", "response_ms", "response_ms", "colour", "id", "comparison"}
	if len(res.Rejected) != len(wantFields) {
		t.Fatalf("rejected %d: %+v", len(res.Rejected), res.Rejected)
	}
	for i, r := range res.Rejected {
		if r.Field != wantFields[i] || r.Index != i+1 || r.Reason == "" {
			t.Errorf("rejected[%d] = %+v, want field %q index %d", i, r, wantFields[i], i+1)
		}
	}
	if res.Rejected[0].ID != "not-a-uuid" {
		t.Errorf("rejected id %q", res.Rejected[0].ID)
	}
	if len(res.Accepted) != 2 || res.Accepted[0] != good["id"] || res.Accepted[1] != repeat["id"] {
		t.Fatalf("accepted %v", res.Accepted)
	}
	if fmt.Sprint(res.Duplicates) != fmt.Sprint([]string{repeat["id"].(string)}) {
		t.Fatalf("duplicates %v", res.Duplicates)
	}
	// Another rater re-using an id is rejected for that item and stores nothing.
	var jr wire.JoinResponse
	e.do("POST", "/api/v1/join", "", map[string]any{"join_code": e.code, "name": "Eve"}, 201, &jr)
	steal := map[string]any{}
	for k, v := range good {
		steal[k] = v
	}
	steal["choice"] = "left"
	res = e.sync(jr.Token, map[string]any{"comparisons": []any{e.comparison(e.pairs[0], prefs.Left), steal}})
	if len(res.Accepted) != 1 || len(res.Rejected) != 1 || res.Rejected[0].Field != "id" || res.Rejected[0].Index != 1 {
		t.Fatalf("foreign id %+v", res)
	}
	var rows []store.ExportRow
	e.st.Export(bg, e.pid, func(r *store.ExportRow) error { rows = append(rows, *r); return nil })
	if rows[0].Choice != prefs.Right {
		t.Fatal("another rater overwrote a comparison")
	}
}

func TestSyncRequestErrors(t *testing.T) {
	e := newEnv(t, Config{})
	path := "/api/v1/projects/" + e.pid + "/sync"
	many := make([]any, 501)
	for i := range many {
		many[i] = e.comparison(e.pairs[0], prefs.Left)
	}
	e.apiErr("POST", path, e.rater, map[string]any{"comparisons": many}, 413, "batch_too_large", "comparisons")
	e.apiErr("POST", path, e.rater, map[string]any{"want_pairs": 101}, 400, "invalid", "want_pairs")
	e.apiErr("POST", path, e.rater, map[string]any{"want_pairs": -1}, 400, "invalid", "want_pairs")
	e.apiErr("POST", path, e.rater, map[string]any{"want_pairs": "5"}, 400, "bad_json", "want_pairs")
	e.apiErr("POST", path, e.rater, map[string]any{"have_model_version": -1}, 400, "invalid", "have_model_version")
	e.apiErr("POST", path, e.rater, map[string]any{"skip_pairs": make([]string, 501)}, 400, "invalid", "skip_pairs")
	e.apiErr("POST", path, e.rater, map[string]any{"comparisons": []any{}, "labels": 3}, 400, "unknown_field", "labels")
	e.apiErr("POST", path, e.rater, map[string]any{"model_update": map[string]any{"id": uuid.NewString(), "extra": 1}}, 400, "unknown_field", "model_update.extra")
	e.apiErr("POST", path, e.rater, map[string]any{"model_update": map[string]any{"id": "x"}}, 400, "invalid", "model_update.id")
	e.apiErr("POST", path, e.rater, map[string]any{"model_update": map[string]any{"id": uuid.NewString(), "labels": "many"}}, 400, "bad_json", "model_update.labels")
	e.apiErr("POST", path, e.rater, `{"comparisons": {}}`, 400, "bad_json", "comparisons")
	e.apiErr("POST", path, e.rater, `{`, 400, "bad_json", "")
	e.apiErr("POST", path, e.rater, strings.Repeat("x", 2<<20), 413, "too_large", "")
	e.apiErrH("POST", path, e.rater, `{}`, map[string]string{"Content-Type": "text/plain"}, 415, "unsupported_media_type", "Content-Type")
	// Authentication and scope.
	e.apiErr("POST", path, "", map[string]any{}, 401, "unauthorized", "Authorization")
	e.apiErr("POST", path, "pr_nope", map[string]any{}, 401, "unauthorized", "Authorization")
	e.apiErrH("POST", path, "", map[string]any{}, map[string]string{"Authorization": "Basic abc"}, 401, "unauthorized", "Authorization")
	e.apiErr("POST", path, e.teacher, map[string]any{}, 403, "forbidden", "")
	e.apiErr("POST", "/api/v1/projects/"+uuid.NewString()+"/sync", e.rater, map[string]any{}, 403, "forbidden", "")
	other := e.otherProjectRater()
	e.apiErr("POST", path, other, map[string]any{}, 403, "forbidden", "")
	resp, _ := e.raw("POST", path, "", map[string]any{}, nil)
	if resp.Header.Get("WWW-Authenticate") == "" {
		t.Fatal("401 without WWW-Authenticate")
	}
	// An empty body is a poll.
	resp, b := e.raw("POST", path, e.rater, nil, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("empty sync %d %s", resp.StatusCode, b)
	}
}

// otherProjectRater makes a second project and returns a rater token of it.
func (e *testEnv) otherProjectRater() string {
	var cr map[string]string
	e.do("POST", "/api/v1/projects", e.teacher, map[string]any{"env": "Pendulum-v1"}, 201, &cr)
	var jr wire.JoinResponse
	e.do("POST", "/api/v1/join", "", map[string]any{"join_code": cr["join_code"], "name": "Other"}, 201, &jr)
	return jr.Token
}

func TestSyncPairsAndModel(t *testing.T) {
	e := newEnv(t, Config{})
	res := e.sync(e.rater, map[string]any{"want_pairs": 2})
	if len(res.Pairs) != 2 || res.Pairs[0].ID != e.pairs[0] || res.Pairs[1].ID != e.pairs[1] {
		t.Fatalf("pairs %+v", res.Pairs)
	}
	var left prefs.Clip
	if err := json.Unmarshal(res.Pairs[0].Left, &left); err != nil || left.ID != e.clips[0].ID || len(left.Actions) != 3 || left.Env != "CartPole-v1" {
		t.Fatalf("left clip %s %v", res.Pairs[0].Left, err)
	}
	var m modelJSON
	if err := json.Unmarshal(res.Model, &m); err != nil || m.Version != 1 || m.NumParams != 4 || !strings.Contains(string(m.Weights), "prefer-reward") {
		t.Fatalf("model %s", res.Model)
	}
	if res.Project.ModelVersion != 1 || res.Project.PolicyVersion != 1 || res.Project.Paused {
		t.Fatalf("project %+v", res.Project)
	}
	// Labelled and skipped pairs are not served again; a current model is not re-sent.
	res = e.sync(e.rater, map[string]any{"comparisons": []any{e.comparison(e.pairs[0], prefs.Left)},
		"want_pairs": 5, "skip_pairs": []string{e.pairs[1]}, "have_model_version": 1})
	if len(res.Pairs) != 1 || res.Pairs[0].ID != e.pairs[2] || !noModel(res) {
		t.Fatalf("second sync pairs %v model %v", res.Pairs, res.Model)
	}
	// The JSON shape: empty lists are [] and model is null, never missing.
	resp, b := e.raw("POST", "/api/v1/projects/"+e.pid+"/sync", e.rater, map[string]any{"have_model_version": 1}, nil)
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"accepted":[]`) || !strings.Contains(string(b), `"model":null`) ||
		!strings.Contains(string(b), `"model_update":null`) || !strings.Contains(string(b), `"pairs":[]`) {
		t.Fatalf("empty sync body %s", b)
	}
}

func TestSyncModelUpdate(t *testing.T) {
	e := newEnv(t, Config{StatusTTL: -1}) // versions are published behind the hub's back below
	upd := func(mod func(map[string]any)) map[string]any {
		u := map[string]any{"id": uuid.NewString(), "base_version": 1, "labels": 12, "delta": []float64{0.1, -0.2, 0.3, 0}, "metrics": map[string]float64{"reward/val_accuracy": 0.9}}
		if mod != nil {
			mod(u)
		}
		return u
	}
	u := upd(nil)
	res := e.sync(e.rater, map[string]any{"model_update": u, "comparisons": []any{e.comparison(e.pairs[0], prefs.Left)}})
	if res.ModelUpdate == nil || res.ModelUpdate.Status != "accepted" || len(res.Accepted) != 1 {
		t.Fatalf("update %+v", res)
	}
	res = e.sync(e.rater, map[string]any{"model_update": u})
	if res.ModelUpdate.Status != "duplicate" {
		t.Fatalf("re-sent update %+v", res.ModelUpdate)
	}
	f32 := make([]byte, 16)
	for i, v := range []float32{1, 2, 3, 4} {
		binary.LittleEndian.PutUint32(f32[4*i:], math.Float32bits(v))
	}
	res = e.sync(e.rater, map[string]any{"model_update": upd(func(u map[string]any) { delete(u, "delta"); u["delta_f32"] = base64.StdEncoding.EncodeToString(f32) })})
	if res.ModelUpdate.Status != "accepted" {
		t.Fatalf("delta_f32 update %+v", res.ModelUpdate)
	}
	ups, _ := e.st.ModelUpdates(bg, e.pid, "pending")
	if len(ups) != 2 || ups[0].Labels != 12 || ups[0].Delta[1] != -0.2 || ups[1].Delta[3] != 4 || ups[0].RaterID != e.raterID {
		t.Fatalf("stored updates %+v", ups)
	}
	for name, mod := range map[string]func(map[string]any){
		"base too new":  func(u map[string]any) { u["base_version"] = 2 },
		"base zero":     func(u map[string]any) { u["base_version"] = 0 },
		"labels":        func(u map[string]any) { u["labels"] = 0 },
		"length":        func(u map[string]any) { u["delta"] = []float64{1} },
		"both":          func(u map[string]any) { u["delta_f32"] = "AAAA" },
		"none":          func(u map[string]any) { delete(u, "delta") },
		"base64":        func(u map[string]any) { delete(u, "delta"); u["delta_f32"] = "!!" },
		"odd bytes":     func(u map[string]any) { delete(u, "delta"); u["delta_f32"] = "AAA=" },
		"float32 range": func(u map[string]any) { u["delta"] = []float64{1e300, 0, 0, 0} },
	} {
		res := e.sync(e.rater, map[string]any{"model_update": upd(mod)})
		if res.ModelUpdate == nil || res.ModelUpdate.Status != "rejected" || res.ModelUpdate.Reason == "" {
			t.Errorf("%s: %+v", name, res.ModelUpdate)
		}
	}
	// Too old: publish versions 2..7; base 1 is then 6 behind with max staleness 5.
	for v := 2; v <= 7; v++ {
		e.st.PublishRound(bg, &store.Round{ProjectID: e.pid, Model: &store.Model{Version: v, Weights: json.RawMessage(`{}`), NumParams: 4}})
	}
	res = e.sync(e.rater, map[string]any{"model_update": upd(nil)})
	if res.ModelUpdate.Status != "rejected" || !strings.Contains(res.ModelUpdate.Reason, "behind") {
		t.Fatalf("stale update %+v", res.ModelUpdate)
	}
	res = e.sync(e.rater, map[string]any{"model_update": upd(func(u map[string]any) { u["base_version"] = 2 })})
	if res.ModelUpdate.Status != "accepted" {
		t.Fatalf("update within staleness %+v", res.ModelUpdate)
	}
}

func TestSyncUpdateWithoutModel(t *testing.T) {
	e := newEnv(t, Config{})
	var cr map[string]string
	e.do("POST", "/api/v1/projects", e.teacher, map[string]any{"env": "CartPole-v1"}, 201, &cr)
	var jr wire.JoinResponse
	e.do("POST", "/api/v1/join", "", map[string]any{"join_code": cr["join_code"], "name": "x"}, 201, &jr)
	var res syncResponse
	e.do("POST", "/api/v1/projects/"+cr["id"]+"/sync", jr.Token, map[string]any{"model_update": map[string]any{"id": uuid.NewString(), "base_version": 1, "labels": 1, "delta": []float64{1}}}, 200, &res)
	if res.ModelUpdate.Status != "rejected" || !noModel(res) || res.Project.ModelVersion != 0 {
		t.Fatalf("%+v", res)
	}
}

func TestGetProject(t *testing.T) {
	e := newEnv(t, Config{})
	e.sync(e.rater, map[string]any{"comparisons": []any{e.comparison(e.pairs[0], prefs.Left)}})
	var p map[string]any
	e.do("GET", "/api/v1/projects/"+e.pid, e.rater, nil, 200, &p)
	if p["env"] != "CartPole-v1" || p["model_version"].(float64) != 1 || p["policy_version"].(float64) != 1 {
		t.Fatalf("project %v", p)
	}
	if _, ok := p["join_code"]; ok {
		t.Fatal("rater sees the join code")
	}
	counts := p["counts"].(map[string]any)
	if counts["comparisons"].(float64) != 1 || counts["raters"].(float64) != 1 || counts["pairs"].(float64) != 3 {
		t.Fatalf("counts %v", counts)
	}
	pol := p["metrics"].(map[string]any)["policy"].(map[string]any)
	if pol["true_return"].(float64) != 20 || len(p["history"].([]any)) != 1 {
		t.Fatalf("metrics %v", p["metrics"])
	}
	if p["settings"].(map[string]any)["clip_seconds"].(float64) != 1.5 {
		t.Fatalf("settings %v", p["settings"])
	}
	e.do("GET", "/api/v1/projects/"+e.pid, e.teacher, nil, 200, &p)
	if p["join_code"] != e.code {
		t.Fatalf("teacher join code %v", p["join_code"])
	}
	e.apiErr("GET", "/api/v1/projects/"+e.pid, e.otherProjectRater(), nil, 403, "forbidden", "")
	e.apiErr("GET", "/api/v1/projects/"+uuid.NewString(), e.teacher, nil, 404, "not_found", "pid")
	e.apiErr("GET", "/api/v1/projects/"+e.pid, "", nil, 401, "unauthorized", "Authorization")
}

func TestClipsAndModels(t *testing.T) {
	e := newEnv(t, Config{})
	var c prefs.Clip
	e.do("GET", "/api/v1/projects/"+e.pid+"/clips/"+e.clips[1].ID, e.rater, nil, 200, &c)
	if c.ID != e.clips[1].ID || c.PolicyVersion != 1 || len(c.StartState) != 4 {
		t.Fatalf("clip %+v", c)
	}
	e.apiErr("GET", "/api/v1/projects/"+e.pid+"/clips/"+uuid.NewString(), e.rater, nil, 404, "not_found", "cid")
	e.apiErr("GET", "/api/v1/projects/"+e.pid+"/clips/"+e.clips[1].ID, e.otherProjectRater(), nil, 403, "forbidden", "")
	var m modelJSON
	e.do("GET", "/api/v1/projects/"+e.pid+"/models/latest", e.rater, nil, 200, &m)
	if m.Version != 1 || m.Metrics["reward/val_accuracy"] != 0.5 || m.NumParams != 4 {
		t.Fatalf("model %+v", m)
	}
	e.do("GET", "/api/v1/projects/"+e.pid+"/models/1", e.teacher, nil, 200, &m)
	e.apiErr("GET", "/api/v1/projects/"+e.pid+"/models/2", e.rater, nil, 404, "not_found", "version")
	for _, v := range []string{"0", "-1", "abc", "1.5"} {
		e.apiErr("GET", "/api/v1/projects/"+e.pid+"/models/"+v, e.rater, nil, 400, "invalid", "version")
	}
}

func TestExport(t *testing.T) {
	e := newEnv(t, Config{})
	c1, c2 := e.comparison(e.pairs[0], prefs.Left), e.comparison(e.pairs[1], prefs.Equal)
	e.sync(e.rater, map[string]any{"comparisons": []any{c1, c2}})
	e.do("POST", "/api/v1/projects/"+e.pid+"/raters/"+e.raterID+"/exclude", e.teacher, nil, 200, nil)
	resp, b := e.raw("GET", "/api/v1/projects/"+e.pid+"/export?format=jsonl", e.teacher, nil, nil)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/x-ndjson" {
		t.Fatalf("jsonl %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 2 {
		t.Fatalf("jsonl lines %d: %s", len(lines), b)
	}
	var row struct {
		ID, Choice, RaterName string `json:"-"`
		ExportRecord
	}
	if err := json.Unmarshal([]byte(lines[1]), &row.ExportRecord); err != nil {
		t.Fatal(err)
	}
	var left prefs.Clip
	json.Unmarshal(row.Left, &left)
	if row.ExportRecord.ID != c2["id"] || row.ExportRecord.Choice != "equal" || !row.ExportRecord.Excluded || row.ExportRecord.RaterName != "Ada" || left.ID != e.clips[1].ID {
		t.Fatalf("jsonl row %s", lines[1])
	}
	resp, b = e.raw("GET", "/api/v1/projects/"+e.pid+"/export?format=csv", e.teacher, nil, nil)
	recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if resp.StatusCode != 200 || err != nil || len(recs) != 3 || recs[0][0] != "id" || recs[1][0] != c1["id"] || recs[1][7] != "left" {
		t.Fatalf("csv %d %v %q", resp.StatusCode, err, recs)
	}
	var clip prefs.Clip
	if err := json.Unmarshal([]byte(recs[1][11]), &clip); err != nil || clip.ID != e.clips[0].ID {
		t.Fatalf("csv clip %q %v", recs[1][11], err)
	}
	resp, b = e.raw("GET", "/api/v1/projects/"+e.pid+"/export", e.teacher, nil, nil)
	if resp.StatusCode != 200 || len(strings.Split(strings.TrimSpace(string(b)), "\n")) != 2 {
		t.Fatalf("default export %d %s", resp.StatusCode, b)
	}
	e.apiErr("GET", "/api/v1/projects/"+e.pid+"/export?format=xml", e.teacher, nil, 400, "invalid", "format")
	e.apiErr("GET", "/api/v1/projects/"+e.pid+"/export", e.rater, nil, 403, "forbidden", "")
	e.apiErr("GET", "/api/v1/projects/"+uuid.NewString()+"/export", e.teacher, nil, 404, "not_found", "pid")
}

func TestTeacherProjects(t *testing.T) {
	e := newEnv(t, Config{})
	var cr map[string]string
	e.do("POST", "/api/v1/projects", e.teacher, map[string]any{"env": "Pendulum-v1", "clip_seconds": 2, "query": "random"}, 201, &cr)
	if !prefs.ValidUUID(cr["id"]) || !regexp.MustCompile(`^[A-Z2-9]{6}$`).MatchString(cr["join_code"]) {
		t.Fatalf("created %v", cr)
	}
	p, err := e.st.Project(bg, cr["id"])
	if err != nil || p.Env != "Pendulum-v1" || p.Settings.ClipSeconds != 2 || p.Settings.Query != "random" || p.Settings.PairsPerRound != 50 {
		t.Fatalf("stored project %+v %v", p, err)
	}
	var list struct{ Projects []projectSummary }
	e.do("GET", "/api/v1/projects", e.teacher, nil, 200, &list)
	if len(list.Projects) != 2 || list.Projects[1].ID != cr["id"] {
		t.Fatalf("list %+v", list)
	}
	e.apiErr("GET", "/api/v1/projects", e.rater, nil, 403, "forbidden", "")
	e.apiErr("POST", "/api/v1/projects", e.rater, map[string]any{"env": "CartPole-v1"}, 403, "forbidden", "")
	e.apiErr("POST", "/api/v1/projects", "", map[string]any{"env": "CartPole-v1"}, 401, "unauthorized", "Authorization")
	e.apiErr("POST", "/api/v1/projects", e.teacher, map[string]any{"env": "Doom-v0"}, 400, "invalid", "env")
	e.apiErr("POST", "/api/v1/projects", e.teacher, map[string]any{}, 400, "invalid", "env")
	e.apiErr("POST", "/api/v1/projects", e.teacher, map[string]any{"env": "CartPole-v1", "clip_seconds": 0}, 400, "invalid", "clip_seconds")
	e.apiErr("POST", "/api/v1/projects", e.teacher, map[string]any{"env": "CartPole-v1", "merge_trim": 0.7}, 400, "invalid", "merge_trim")
	e.apiErr("POST", "/api/v1/projects", e.teacher, map[string]any{"env": "CartPole-v1", "speed": 3}, 400, "unknown_field", "speed")
	e.apiErr("POST", "/api/v1/projects", e.teacher, map[string]any{"env": "CartPole-v1", "pairs_per_round": "many"}, 400, "bad_json", "pairs_per_round")
	e.apiErr("POST", "/api/v1/projects", e.teacher, `{"env": 3}`, 400, "bad_json", "env")
}

func TestTeacherControls(t *testing.T) {
	e := newEnv(t, Config{})
	base := "/api/v1/projects/" + e.pid
	var pr map[string]any
	e.do("POST", base+"/pause", e.teacher, nil, 200, &pr)
	if pr["paused"] != true {
		t.Fatalf("pause %v", pr)
	}
	if res := e.sync(e.rater, map[string]any{"comparisons": []any{e.comparison(e.pairs[0], prefs.Left)}}); !res.Project.Paused || len(res.Accepted) != 1 {
		t.Fatalf("labels while paused %+v", res)
	}
	e.do("POST", base+"/resume", e.teacher, map[string]any{}, 200, &pr)
	if p, _ := e.st.Project(bg, e.pid); p.Paused {
		t.Fatal("still paused")
	}
	e.apiErr("POST", base+"/pause", e.rater, nil, 403, "forbidden", "")
	e.apiErr("POST", base+"/pause", e.teacher, map[string]any{"now": true}, 400, "unknown_field", "now")
	e.apiErr("POST", "/api/v1/projects/"+uuid.NewString()+"/resume", e.teacher, nil, 404, "not_found", "pid")

	var sr struct{ Settings store.Settings }
	e.do("PATCH", base+"/settings", e.teacher, map[string]any{"pairs_per_round": 20, "merge_trim": 0}, 200, &sr)
	if sr.Settings.PairsPerRound != 20 || sr.Settings.MergeTrim != 0 || sr.Settings.ClipSeconds != 1.5 {
		t.Fatalf("settings %+v", sr.Settings)
	}
	if p, _ := e.st.Project(bg, e.pid); p.Settings.PairsPerRound != 20 {
		t.Fatal("settings not stored")
	}
	// Model assistance: off by default; the teacher's switch reaches raters in the next sync.
	if res := e.sync(e.rater, map[string]any{}); res.Project.HideModelPredictions {
		t.Fatal("model predictions hidden by default")
	}
	e.do("PATCH", base+"/settings", e.teacher, map[string]any{"hide_model_predictions": true}, 200, &sr)
	if !sr.Settings.HideModelPredictions || sr.Settings.PairsPerRound != 20 {
		t.Fatalf("settings after hiding predictions %+v", sr.Settings)
	}
	if res := e.sync(e.rater, map[string]any{}); !res.Project.HideModelPredictions {
		t.Fatal("sync does not tell the app to hide its model's predictions")
	}
	e.do("PATCH", base+"/settings", e.teacher, map[string]any{"hide_model_predictions": false}, 200, &sr)
	if res := e.sync(e.rater, map[string]any{}); res.Project.HideModelPredictions {
		t.Fatal("predictions still hidden after the teacher showed them")
	}
	e.apiErr("PATCH", base+"/settings", e.teacher, map[string]any{"hide_model_predictions": "yes"}, 400, "bad_json", "hide_model_predictions")
	e.apiErr("PATCH", base+"/settings", e.teacher, map[string]any{"query": "best"}, 400, "invalid", "query")
	e.apiErr("PATCH", base+"/settings", e.teacher, map[string]any{"objective": "max"}, 400, "invalid", "objective")
	e.apiErr("PATCH", base+"/settings", e.teacher, map[string]any{"uwo_lambda": -1}, 400, "invalid", "uwo_lambda")
	e.apiErr("PATCH", base+"/settings", e.teacher, map[string]any{"robust": "yes"}, 400, "bad_json", "robust")
	// Issue 14's settings: any of the loop's query strategies, the robust fit, an objective.
	e.do("PATCH", base+"/settings", e.teacher, map[string]any{"query": "kcenter_entropy", "robust": true, "objective": "uwo", "uwo_lambda": 1.5}, 200, &sr)
	if sr.Settings.Query != "kcenter_entropy" || !sr.Settings.Robust || sr.Settings.Objective != "uwo" || sr.Settings.UWOLambda != 1.5 || sr.Settings.PairsPerRound != 20 {
		t.Fatalf("settings after the robustness settings %+v", sr.Settings)
	}
	if p, err := e.st.Project(bg, e.pid); err != nil || p.Settings.Query != "kcenter_entropy" || !p.Settings.Robust || p.Settings.Objective != "uwo" {
		t.Fatalf("robustness settings not stored: %+v %v", p, err)
	}
	e.apiErr("PATCH", base+"/settings", e.teacher, map[string]any{"env": "Pendulum-v1"}, 400, "unknown_field", "env")
	e.apiErr("PATCH", base+"/settings", e.rater, map[string]any{}, 403, "forbidden", "")

	var rl struct{ Raters []raterJSON }
	e.do("GET", base+"/raters", e.teacher, nil, 200, &rl)
	if len(rl.Raters) != 1 || rl.Raters[0].Name != "Ada" || rl.Raters[0].Comparisons != 1 || rl.Raters[0].LastSeenAt == nil {
		t.Fatalf("raters %+v", rl)
	}
	e.apiErr("GET", base+"/raters", e.rater, nil, 403, "forbidden", "")
	e.do("POST", base+"/raters/"+e.raterID+"/exclude", e.teacher, nil, 200, &pr)
	if pr["excluded"] != true {
		t.Fatalf("exclude %v", pr)
	}
	if ls, _ := e.st.Labels(bg, e.pid, 0, false); len(ls) != 0 {
		t.Fatal("excluded labels still used")
	}
	// An excluded rater can keep labelling; nothing is deleted.
	if res := e.sync(e.rater, map[string]any{"comparisons": []any{e.comparison(e.pairs[1], prefs.Left)}}); len(res.Accepted) != 1 {
		t.Fatalf("excluded rater sync %+v", res)
	}
	e.do("POST", base+"/raters/"+e.raterID+"/restore", e.teacher, nil, 200, &pr)
	if ls, _ := e.st.Labels(bg, e.pid, 0, false); len(ls) != 2 {
		t.Fatalf("restored labels %d", len(ls))
	}
	e.apiErr("POST", base+"/raters/"+uuid.NewString()+"/exclude", e.teacher, nil, 404, "not_found", "rid")
	e.apiErr("POST", base+"/raters/"+e.raterID+"/exclude", e.rater, nil, 403, "forbidden", "")
}

func TestScopedTeacherToken(t *testing.T) {
	e := newEnv(t, Config{})
	scoped := NewTeacherToken()
	e.st.AddTeacherToken(bg, HashToken(scoped), e.pid)
	e.do("GET", "/api/v1/projects/"+e.pid+"/raters", scoped, nil, 200, nil)
	e.apiErr("POST", "/api/v1/projects", scoped, map[string]any{"env": "CartPole-v1"}, 403, "forbidden", "")
	var cr map[string]string
	e.do("POST", "/api/v1/projects", e.teacher, map[string]any{"env": "CartPole-v1"}, 201, &cr)
	e.apiErr("GET", "/api/v1/projects/"+cr["id"], scoped, nil, 403, "forbidden", "")
	var list struct{ Projects []projectSummary }
	e.do("GET", "/api/v1/projects", scoped, nil, 200, &list)
	if len(list.Projects) != 1 {
		t.Fatalf("scoped list %v", list)
	}
}

func TestRouting(t *testing.T) {
	e := newEnv(t, Config{})
	resp, _ := e.raw("DELETE", "/api/v1/health", "", nil, nil)
	if resp.StatusCode != 405 || !strings.Contains(resp.Header.Get("Allow"), "GET") {
		t.Fatalf("405: %d Allow %q", resp.StatusCode, resp.Header.Get("Allow"))
	}
	e.apiErr("DELETE", "/api/v1/health", "", nil, 405, "method_not_allowed", "")
	e.apiErr("GET", "/api/v1/projects/"+e.pid+"/sync", e.rater, nil, 405, "method_not_allowed", "")
	e.apiErr("GET", "/api/v1/nothing", "", nil, 404, "not_found", "")
	e.apiErr("GET", "/api/v2/health", "", nil, 404, "not_found", "")
	// Without an app, unknown paths are JSON 404s too.
	h := New(e.st, Config{})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/index.html", nil))
	if rec.Code != 404 || !strings.Contains(rec.Body.String(), `"not_found"`) {
		t.Fatalf("no app: %d %s", rec.Code, rec.Body)
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("PUT", "/api/v1/join", nil))
	if rec.Code != 405 || !strings.Contains(rec.Body.String(), `"method_not_allowed"`) {
		t.Fatalf("no app 405: %d %s", rec.Code, rec.Body)
	}
}

func TestStaticFiles(t *testing.T) {
	e := newEnv(t, Config{})
	get := func(path, accept string, hdr map[string]string) (*http.Response, []byte) {
		h := map[string]string{"Accept-Encoding": accept}
		for k, v := range hdr {
			h[k] = v
		}
		return e.raw("GET", path, "", nil, h)
	}
	for _, p := range []string{"/", "/index.html", "/join?code=TEST42", "/teacher?token=x"} {
		resp, b := get(p, "", nil)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" || !strings.HasPrefix(string(b), "<!doctype html>") {
			t.Fatalf("%s: %d %q %.40s", p, resp.StatusCode, resp.Header.Get("Content-Type"), b)
		}
	}
	// gzip on the fly for a compressible type, cached.
	resp, b := get("/index.html", "gzip, deflate", nil)
	if resp.Header.Get("Content-Encoding") != "gzip" || resp.Header.Get("Vary") != "Accept-Encoding" {
		t.Fatalf("gzip headers %v", resp.Header)
	}
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := io.ReadAll(zr)
	if !strings.HasPrefix(string(plain), "<!doctype html>") {
		t.Fatalf("gunzipped %q", plain[:20])
	}
	// brotli when a .br file exists and br is accepted; the wasm content type either way.
	resp, b = get("/app.wasm", "gzip, br", nil)
	if resp.Header.Get("Content-Encoding") != "br" || string(b) != "brotli-bytes" || resp.Header.Get("Content-Type") != "application/wasm" {
		t.Fatalf("br: %v %q", resp.Header, b)
	}
	resp, b = get("/app.wasm", "gzip", nil)
	if resp.Header.Get("Content-Encoding") != "gzip" || resp.Header.Get("Content-Type") != "application/wasm" || len(b) >= 4000 {
		t.Fatalf("wasm gzip: %v %d bytes", resp.Header, len(b))
	}
	resp, b = get("/app.wasm", "br;q=0, gzip;q=0", nil)
	if resp.Header.Get("Content-Encoding") != "" || len(b) != 4000 {
		t.Fatalf("identity: %v %d", resp.Header, len(b))
	}
	// A precompressed .gz is used as is.
	resp, b = get("/wasm_exec.js", "gzip", nil)
	zr, _ = gzip.NewReader(bytes.NewReader(b))
	plain, _ = io.ReadAll(zr)
	if string(plain) != "// precompressed" || resp.Header.Get("Content-Type") != "text/javascript; charset=utf-8" {
		t.Fatalf("precompressed gz %q %v", plain, resp.Header)
	}
	// Images are not recompressed.
	resp, _ = get("/logo.png", "gzip", nil)
	if resp.Header.Get("Content-Encoding") != "" || resp.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("png %v", resp.Header)
	}
	resp, _ = get("/style.css", "", nil)
	if resp.Header.Get("Content-Type") != "text/css; charset=utf-8" {
		t.Fatalf("css %v", resp.Header)
	}
	// ETag revalidation.
	resp, _ = get("/style.css", "", nil)
	tag := resp.Header.Get("ETag")
	resp, b = get("/style.css", "", map[string]string{"If-None-Match": tag})
	if tag == "" || resp.StatusCode != 304 || len(b) != 0 {
		t.Fatalf("304: %d %q", resp.StatusCode, tag)
	}
	resp, _ = get("/sub/embedded.txt", "", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("subdir %d", resp.StatusCode)
	}
	e.apiErr("GET", "/missing.js", "", nil, 404, "not_found", "")
	e.apiErr("GET", "/sub", "", nil, 404, "not_found", "")
	resp, _ = e.raw("GET", "/../../etc/passwd", "", nil, nil)
	if resp.StatusCode == 200 {
		t.Fatalf("traversal %d", resp.StatusCode)
	}
}

// TestOpenAPIAndDocsCoverRoutes: every route registered is in the OpenAPI document and in
// docs/api.md, and the document is served.
func TestOpenAPIAndDocsCoverRoutes(t *testing.T) {
	e := newEnv(t, Config{})
	var doc struct {
		OpenAPI string                    `json:"openapi"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	e.do("GET", "/api/v1/openapi.json", "", nil, 200, &doc)
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi %q", doc.OpenAPI)
	}
	docs, err := os.ReadFile("../../docs/api.md")
	if err != nil {
		t.Fatal(err)
	}
	routes := []string{
		"GET /api/v1/health", "GET /api/v1/openapi.json", "POST /api/v1/join", "GET /api/v1/projects", "POST /api/v1/projects",
		"GET /api/v1/projects/{pid}", "POST /api/v1/projects/{pid}/sync", "GET /api/v1/projects/{pid}/clips/{cid}",
		"GET /api/v1/projects/{pid}/models/{version}", "GET /api/v1/projects/{pid}/export", "POST /api/v1/projects/{pid}/pause",
		"POST /api/v1/projects/{pid}/resume", "PATCH /api/v1/projects/{pid}/settings", "GET /api/v1/projects/{pid}/raters",
		"POST /api/v1/projects/{pid}/raters/{rid}/exclude", "POST /api/v1/projects/{pid}/raters/{rid}/restore",
		"POST /api/v1/projects/{pid}/redteam", "GET /api/v1/projects/{pid}/text",
		"GET /api/v1/projects/{pid}/policy",
	}
	for _, r := range routes {
		method, path, _ := strings.Cut(r, " ")
		// The route is really registered.
		req := httptest.NewRequest(method, strings.NewReplacer("{pid}", "p", "{cid}", "c", "{version}", "1", "{rid}", "r").Replace(path), nil)
		if _, pat := e.hub.mux.Handler(req); pat != r {
			t.Errorf("%s is served by pattern %q", r, pat)
		}
		op := doc.Paths[strings.TrimPrefix(path, "/api/v1")][strings.ToLower(method)]
		if op == nil {
			t.Errorf("%s missing from openapi.json", r)
		}
		short := strings.TrimSuffix(strings.TrimSuffix(path, "/exclude"), "/restore")
		if !strings.Contains(string(docs), short) {
			t.Errorf("%s missing from docs/api.md", r)
		}
	}
	for _, code := range []string{"bad_json", "unknown_field", "invalid", "unauthorized", "forbidden", "not_found", "method_not_allowed",
		"conflict", "too_large", "batch_too_large", "unsupported_media_type", "rate_limited", "internal", "unavailable"} {
		if !strings.Contains(string(docs), "`"+code+"`") {
			t.Errorf("error code %s missing from docs/api.md", code)
		}
	}
}

func TestInternalErrorsAreJSON(t *testing.T) {
	e := newEnv(t, Config{})
	e.st.Close()
	resp, b := e.raw("GET", "/api/v1/projects/"+e.pid, e.teacher, nil, nil)
	if resp.StatusCode < 500 || !strings.Contains(string(b), `"error"`) {
		t.Fatalf("closed store: %d %s", resp.StatusCode, b)
	}
}

// TestConcurrentSyncs: many raters syncing at once through HTTP each get every comparison
// acknowledged once, and the store holds exactly what was acknowledged.
func TestConcurrentSyncs(t *testing.T) {
	e := newEnv(t, Config{NoRateLimit: true})
	const raters, batches, per = 20, 5, 10
	tokens := make([]string, raters)
	for i := range tokens {
		var jr wire.JoinResponse
		e.do("POST", "/api/v1/join", "", map[string]any{"join_code": e.code, "name": fmt.Sprint("r", i)}, 201, &jr)
		tokens[i] = jr.Token
	}
	var mu sync.Mutex
	acked := map[string]int{}
	var wg sync.WaitGroup
	for _, tok := range tokens {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := 0; b < batches; b++ {
				items := make([]any, per)
				for i := range items {
					items[i] = e.comparison(e.pairs[i%3], prefs.Left)
				}
				body, _ := json.Marshal(map[string]any{"comparisons": items})
				req, _ := http.NewRequest("POST", e.srv.URL+"/api/v1/projects/"+e.pid+"/sync", bytes.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+tok)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				var res syncResponse
				json.NewDecoder(resp.Body).Decode(&res)
				resp.Body.Close()
				mu.Lock()
				for _, id := range res.Accepted {
					acked[id]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	n, _ := e.st.CountComparisons(bg, e.pid)
	if n != raters*batches*per || len(acked) != n {
		t.Fatalf("stored %d, acknowledged %d, want %d", n, len(acked), raters*batches*per)
	}
}

// TestStatusCache: a sync sees a new model version within StatusTTL, and a teacher's pause at
// once.
func TestStatusCache(t *testing.T) {
	now := time.Now()
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	e := newEnv(t, Config{StatusTTL: time.Second, Now: clock})
	if res := e.sync(e.rater, map[string]any{}); res.Project.ModelVersion != 1 {
		t.Fatalf("model version %d", res.Project.ModelVersion)
	}
	e.st.PublishRound(bg, &store.Round{ProjectID: e.pid, Model: &store.Model{Version: 2, Weights: json.RawMessage(`{}`), NumParams: 4}})
	if res := e.sync(e.rater, map[string]any{}); res.Project.ModelVersion != 1 {
		t.Fatalf("cached model version %d, want the cached 1", res.Project.ModelVersion)
	}
	e.do("POST", "/api/v1/projects/"+e.pid+"/pause", e.teacher, nil, 200, nil)
	if res := e.sync(e.rater, map[string]any{}); !res.Project.Paused || res.Project.ModelVersion != 2 {
		t.Fatalf("after pause: %+v", res.Project)
	}
	e.st.PublishRound(bg, &store.Round{ProjectID: e.pid, Model: &store.Model{Version: 3, Weights: json.RawMessage(`{}`), NumParams: 4}})
	mu.Lock()
	now = now.Add(2 * time.Second)
	mu.Unlock()
	if res := e.sync(e.rater, map[string]any{}); res.Project.ModelVersion != 3 {
		t.Fatalf("after the TTL: model version %d", res.Project.ModelVersion)
	}
}

// noModel reports whether a sync answer carries no model (null).
func noModel(res syncResponse) bool { return len(res.Model) == 0 || string(res.Model) == "null" }
