package hub

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/prefer-rlhf/prefer/core/text"
	"github.com/prefer-rlhf/prefer/core/wire"
	"github.com/prefer-rlhf/prefer/server/corpus"
)

// tinyCorpus is a generated corpus of short review sentences, so the tests need no download.
func tinyCorpus() []byte {
	r := rand.New(rand.NewPCG(5, 0))
	subj := []string{"The food", "This phone", "The movie", "Our waiter", "The battery", "The plot"}
	verb := []string{"was", "is", "seemed", "felt"}
	adj := []string{"great", "awful", "fine", "slow", "lovely", "terrible", "good", "bad"}
	var b strings.Builder
	for range 400 {
		fmt.Fprintf(&b, "%s %s %s and %s, but %s %s %s today.\n", subj[r.IntN(len(subj))], verb[r.IntN(len(verb))], adj[r.IntN(len(adj))],
			adj[r.IntN(len(adj))], strings.ToLower(subj[r.IntN(len(subj))]), verb[r.IntN(len(verb))], adj[r.IntN(len(adj))])
	}
	return []byte(b.String())
}

// TestTextProjects: a hub that loads its corpus on first need creates text projects and
// serves their text bundle (the tokenizer round-trips, the shape matches the envs'), with an
// ETag; the bundle needs a token of the project and a text project.
func TestTextProjects(t *testing.T) {
	var loads atomic.Int32
	if text.Installed() == nil {
		// A corpus that cannot be loaded is a 400 naming env, and a later request tries again.
		e := newEnv(t, Config{Text: func() (*text.World, error) { loads.Add(1); return nil, errors.New("corpus: npm unreachable") }})
		e.apiErr("POST", "/api/v1/projects", e.teacher, map[string]any{"env": "TextPositive-v0"}, 400, "invalid", "env")
	}
	e := newEnv(t, Config{Text: func() (*text.World, error) {
		loads.Add(1)
		return tinyWorld()
	}})
	for _, name := range []string{"TextPositive-v0", "TextNoE-v0"} {
		var cr map[string]string
		e.do("POST", "/api/v1/projects", e.teacher, map[string]any{"env": name}, 201, &cr)
		w := text.Installed()
		if w == nil {
			t.Fatal("creating a text project did not register the text envs")
		}
		task, _ := text.TaskOf(name)
		path := "/api/v1/projects/" + cr["id"] + "/text"
		var b wire.TextBundle
		resp := e.do("GET", path, e.teacher, nil, 200, &b)
		tok, err := text.LoadBPE(b.Tokenizer)
		if err != nil {
			t.Fatal(err)
		}
		s := "The food was lovely and great."
		if b.Env != name || tok.VocabSize() != w.Tok.VocabSize() || fmt.Sprint(tok.Encode(s)) != fmt.Sprint(w.Tok.Encode(s)) {
			t.Fatalf("%s: bundle env %q, tokenizer of %d tokens, want %d, the same encoding", name, b.Env, tok.VocabSize(), w.Tok.VocabSize())
		}
		if b.PromptTokens != w.PromptLen() || b.Length != task.Length || b.Instructions != task.Goal {
			t.Fatalf("%s: bundle %d prompt tokens, length %d, %q", name, b.PromptTokens, b.Length, b.Instructions)
		}
		etag := resp.Header.Get("ETag")
		if etag == "" || !strings.Contains(resp.Header.Get("Cache-Control"), "private") {
			t.Fatalf("%s: ETag %q, Cache-Control %q", name, etag, resp.Header.Get("Cache-Control"))
		}
		// A rater of the project reads it; the ETag revalidates.
		var jr wire.JoinResponse
		e.do("POST", "/api/v1/join", "", map[string]any{"join_code": cr["join_code"], "name": "Tex"}, 201, &jr)
		r2, _ := e.raw("GET", path, jr.Token, nil, map[string]string{"If-None-Match": etag})
		if r2.StatusCode != 304 {
			t.Fatalf("%s: If-None-Match: %d, want 304", name, r2.StatusCode)
		}
		r3 := e.do("GET", path, jr.Token, nil, 200, nil)
		if r3.Header.Get("ETag") != etag {
			t.Fatalf("%s: ETag changed: %q, %q", name, r3.Header.Get("ETag"), etag)
		}
		// Another project's rater may not; nor anyone without a token.
		e.apiErr("GET", path, e.rater, nil, 403, "forbidden", "")
		e.apiErr("GET", path, "", nil, 401, "unauthorized", "Authorization")
	}
	// text_method: ppo by default, dpo by PATCH, anything else a 400 naming it.
	var sr struct {
		Settings map[string]any `json:"settings"`
	}
	base := "/api/v1/projects/" + e.pid + "/settings"
	e.do("PATCH", base, e.teacher, map[string]any{"pairs_per_round": 20}, 200, &sr)
	if sr.Settings["text_method"] != "ppo" {
		t.Fatalf("default text_method %v", sr.Settings["text_method"])
	}
	e.do("PATCH", base, e.teacher, map[string]any{"text_method": "dpo"}, 200, &sr)
	if sr.Settings["text_method"] != "dpo" {
		t.Fatalf("text_method %v after PATCH", sr.Settings["text_method"])
	}
	e.apiErr("PATCH", base, e.teacher, map[string]any{"text_method": "bon"}, 400, "invalid", "text_method")
	e.apiErr("POST", "/api/v1/projects", e.teacher, map[string]any{"env": "TextPositive-v0", "text_method": "rlhf"}, 400, "invalid", "text_method")
	// A clip project has no text bundle.
	e.apiErr("GET", "/api/v1/projects/"+e.pid+"/text", e.rater, nil, 404, "not_found", "pid")
	// An unknown env is still unknown.
	e.apiErr("POST", "/api/v1/projects", e.teacher, map[string]any{"env": "TextNope-v0"}, 400, "invalid", "env")
	if loads.Load() > 3 {
		t.Fatalf("the world was loaded %d times, want once after it succeeded", loads.Load())
	}
}

// tinyWorld is the text world of tinyCorpus, registered once for the process (text.Installed).
func tinyWorld() (*text.World, error) {
	if w := text.Installed(); w != nil {
		return w, nil
	}
	w, err := corpus.NewWorld(tinyCorpus())
	if err != nil {
		return nil, err
	}
	return w, text.Register(w)
}
