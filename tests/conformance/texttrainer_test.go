package conformance

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/prefer-rlhf/prefer/core/lm"
	"github.com/prefer-rlhf/prefer/core/text"
	"github.com/prefer-rlhf/prefer/core/wire"
	"github.com/prefer-rlhf/prefer/server/corpus"
)

// tinyLM writes a small language model over the tokenizer of the corpus at corpusPath (as
// `prefer trainer` builds it: corpus.NewWorld), for `prefer trainer --lm`: random weights,
// since the test checks the plumbing, not the learning.
func tinyLM(t *testing.T, corpusPath string) string {
	t.Helper()
	b, err := os.ReadFile(corpusPath)
	if err != nil {
		t.Fatal(err)
	}
	w, err := corpus.NewWorld(b)
	if err != nil {
		t.Fatal(err)
	}
	c := lm.DefaultConfig()
	c.Vocab, c.Ctx, c.Dim, c.Layers, c.Heads = w.Tok.VocabSize(), 24, 16, 1, 2
	m, err := lm.New(c, 1)
	if err != nil {
		t.Fatal(err)
	}
	bin, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "lm.bin")
	if err := os.WriteFile(path, bin, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// testRemoteTextTrainer is `prefer trainer --hub` on a text project end to end: its first
// round uploads the tokenizer bundle of its corpus (the Worker has none; on prefer serve it is
// the same as the server's) and publishes the reference as policy 1 and pairs of text clips;
// a rater labels them; the next round reads those labels, fits the text reward model, tunes
// the policy and publishes version 2 with the labels counted, and new pairs.
func testRemoteTextTrainer(t *testing.T, a *api) {
	// `prefer trainer` trains every unpaused project: pause the others for the test.
	var list struct {
		Projects []struct {
			ID     string `json:"id"`
			Paused bool   `json:"paused"`
		} `json:"projects"`
	}
	a.req(t, "GET", "/api/v1/projects", a.s.teacher, nil).ok(t, http.StatusOK, &list)
	for _, p := range list.Projects {
		if !p.Paused {
			a.req(t, "POST", "/api/v1/projects/"+p.ID+"/pause", a.s.teacher, nil).ok(t, http.StatusOK, nil)
			t.Cleanup(func() { a.req(t, "POST", "/api/v1/projects/"+p.ID+"/resume", a.s.teacher, nil) })
		}
	}
	const env = "TextPositive-v0"
	var p project
	a.req(t, "POST", "/api/v1/projects", a.s.teacher, map[string]any{"env": env,
		"ppo_steps_per_round": 12, "pairs_per_round": 8}).ok(t, http.StatusCreated, &p)
	base := "/api/v1/projects/" + p.ID
	if !a.s.text {
		a.req(t, "GET", base+"/text", a.s.teacher, nil).isError(t, http.StatusConflict, "conflict", "env")
	}
	corpusPath := writeCorpus(t)
	lmPath := tinyLM(t, corpusPath)
	trainOnce := func() {
		t.Helper()
		cmd := exec.Command(preferBin(t), "trainer", "--hub", a.s.url, "--token", a.s.teacher, "--once",
			"--round-labels", "1", "--round-interval", "0", "--corpus", corpusPath, "--lm", lmPath)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("prefer trainer: %v\n%s", err, out)
		}
		t.Logf("prefer trainer:\n%s", out)
	}
	trainOnce()

	var b wire.TextBundle
	a.req(t, "GET", base+"/text", a.s.teacher, nil).ok(t, http.StatusOK, &b)
	tok, err := text.LoadBPE(b.Tokenizer)
	if err != nil || b.Env != env || b.PromptTokens != corpus.PromptLen {
		t.Fatalf("the uploaded bundle %+v: %v", b, err)
	}
	r := a.join(t, p.JoinCode, "Ada")
	res := a.sync(t, r, map[string]any{"want_pairs": 8})
	if len(res.Pairs) != 8 || res.Project.PolicyVersion != 1 {
		t.Fatalf("after the first round: %d pairs, policy %d; want 8 pairs and the reference as policy 1", len(res.Pairs), res.Project.PolicyVersion)
	}
	// A rater who prefers the continuation with more letters a (any rule will do): every pair
	// is two continuations of one prompt, decoded with the uploaded tokenizer.
	var labels []any
	for _, pr := range res.Pairs {
		var conts [2]string
		for i, c := range []map[string]any{pr.Left, pr.Right} {
			st, acts := c["start_state"].([]any), c["actions"].([]any)
			if c["env"] != env || len(st) != b.PromptTokens+b.Length || len(acts) != b.Length {
				t.Fatalf("clip %v is not a text clip of the bundle's shape", c)
			}
			ids := make([]int, len(acts))
			for j, a := range acts {
				ids[j] = int(a.([]any)[0].(float64))
			}
			conts[i] = tok.Decode(ids)
		}
		choice := "left"
		if countA(conts[1]) > countA(conts[0]) {
			choice = "right"
		}
		labels = append(labels, comparison(pr.ID, choice))
	}
	if got := a.sync(t, r, map[string]any{"comparisons": labels}); len(got.Accepted) != len(labels) {
		t.Fatalf("sync: %+v", got)
	}

	trainOnce()
	var proj struct {
		ModelVersion  int `json:"model_version"`
		PolicyVersion int `json:"policy_version"`
		History       []struct {
			Version int `json:"version"`
			Labels  int `json:"labels"`
		} `json:"history"`
		Counts struct {
			ActivePairs int `json:"active_pairs"`
			Pairs       int `json:"pairs"`
		} `json:"counts"`
	}
	a.req(t, "GET", base, a.s.teacher, nil).ok(t, http.StatusOK, &proj)
	last := proj.History[len(proj.History)-1]
	if proj.ModelVersion != 1 || proj.PolicyVersion != 2 || last.Version != 2 || last.Labels != len(labels) {
		t.Fatalf("after the second round: model %d, policy %d, history %+v; want model 1 and policy 2 trained on %d labels",
			proj.ModelVersion, proj.PolicyVersion, proj.History, len(labels))
	}
	if proj.Counts.Pairs != 16 || proj.Counts.ActivePairs != 8 {
		t.Fatalf("pairs after two rounds: %+v; want 16, of which the newest 8 active", proj.Counts)
	}

	// Try it: the rater downloads the latest policy as the app does (float32 weights, the
	// version in a header), and revalidates it with its ETag.
	pol := a.req(t, "GET", base+"/policy", r.Token, nil)
	if pol.status != http.StatusOK || pol.header.Get("X-Policy-Version") != "2" || pol.header.Get("ETag") == "" {
		t.Fatalf("GET /policy: %d, version %q, ETag %q: %.200s", pol.status, pol.header.Get("X-Policy-Version"), pol.header.Get("ETag"), pol.body)
	}
	if m, err := lm.Decode(pol.body); err != nil || m.Config.Vocab != tok.VocabSize() {
		t.Fatalf("the downloaded policy does not decode as the project's LM: %v", err)
	}
	hr, _ := http.NewRequest("GET", a.s.url+base+"/policy", nil)
	hr.Header.Set("Authorization", "Bearer "+r.Token)
	hr.Header.Set("If-None-Match", pol.header.Get("ETag"))
	if res, err := a.c.Do(hr); err != nil || res.StatusCode != http.StatusNotModified {
		t.Fatalf("GET /policy with its ETag: %v %v, want 304", res, err)
	} else {
		res.Body.Close()
	}
}

func countA(s string) int {
	n := 0
	for _, r := range s {
		if r == 'a' {
			n++
		}
	}
	return n
}
