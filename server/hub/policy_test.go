package hub

import (
	"bytes"
	"strconv"
	"testing"

	"github.com/google/uuid"
	"github.com/prefer-rlhf/prefer/core/lm"
	"github.com/prefer-rlhf/prefer/core/text"
	"github.com/prefer-rlhf/prefer/core/wire"
	"github.com/prefer-rlhf/prefer/server/store"
)

// TestPolicyDownload: GET /api/v1/projects/{pid}/policy gives a text project's latest policy
// with float32 parameters (the published float64 model rounded), its version in a header and
// an ETag that answers 304; a newer version replaces it; a project with no policy yet and a
// clip project are 404s naming pid; a token of another project is 403, none 401.
func TestPolicyDownload(t *testing.T) {
	e := newEnv(t, Config{Text: tinyWorld})
	var cr map[string]string
	e.do("POST", "/api/v1/projects", e.teacher, map[string]any{"env": "TextPositive-v0"}, 201, &cr)
	pid, path := cr["id"], "/api/v1/projects/"+cr["id"]+"/policy"
	var jr wire.JoinResponse
	e.do("POST", "/api/v1/join", "", map[string]any{"join_code": cr["join_code"], "name": "Tex"}, 201, &jr)

	e.apiErr("GET", path, jr.Token, nil, 404, "not_found", "pid") // nothing published yet

	c := lm.DefaultConfig()
	c.Vocab, c.Ctx, c.Dim, c.Layers, c.Heads = text.Installed().Tok.VocabSize(), 32, 16, 1, 2
	publish := func(v int, seed uint64) *lm.Model {
		m, err := lm.New(c, seed)
		if err != nil {
			t.Fatal(err)
		}
		w, _ := m.MarshalBinary()
		if err := e.st.PublishRound(bg, &store.Round{ProjectID: pid, Round: v, Policy: &store.Policy{Version: v, Weights: w}}); err != nil {
			t.Fatal(err)
		}
		return m
	}
	check := func(token string, v int, m *lm.Model) string {
		t.Helper()
		resp, body := e.raw("GET", path, token, nil, nil)
		if resp.StatusCode != 200 || resp.Header.Get("X-Policy-Version") != strconv.Itoa(v) || resp.Header.Get("Content-Type") != "application/octet-stream" {
			t.Fatalf("status %d, version %q, type %q: %s", resp.StatusCode, resp.Header.Get("X-Policy-Version"), resp.Header.Get("Content-Type"), body)
		}
		want, _ := m.MarshalBinaryFloat32()
		if !bytes.Equal(body, want) {
			t.Fatalf("version %d: %d bytes, not the float32 encoding of the published model (%d bytes)", v, len(body), len(want))
		}
		got, err := lm.Decode(body)
		if err != nil || got.Config.Dim != c.Dim || len(got.Params) != len(m.Params) {
			t.Fatalf("the download does not decode to the policy: %v", err)
		}
		return resp.Header.Get("ETag")
	}
	m1 := publish(1, 1)
	etag := check(jr.Token, 1, m1)
	check(e.teacher, 1, m1)
	if r, _ := e.raw("GET", path, jr.Token, nil, map[string]string{"If-None-Match": etag}); r.StatusCode != 304 || r.Header.Get("X-Policy-Version") != "1" {
		t.Fatalf("If-None-Match with the ETag: %d, version %q; want 304, 1", r.StatusCode, r.Header.Get("X-Policy-Version"))
	}
	m2 := publish(2, 2)
	if r, _ := e.raw("GET", path, jr.Token, nil, map[string]string{"If-None-Match": etag}); r.StatusCode != 200 {
		t.Fatalf("If-None-Match with version 1's ETag after version 2: %d, want 200", r.StatusCode)
	}
	if check(jr.Token, 2, m2) == etag {
		t.Fatal("the ETag did not change with the version")
	}

	e.apiErr("GET", "/api/v1/projects/"+e.pid+"/policy", e.rater, nil, 404, "not_found", "pid") // a clip project
	e.apiErr("GET", path, e.rater, nil, 403, "forbidden", "")
	e.apiErr("GET", path, "", nil, 401, "unauthorized", "Authorization")
	e.apiErr("GET", "/api/v1/projects/"+uuid.NewString()+"/policy", e.teacher, nil, 404, "not_found", "pid")
}
