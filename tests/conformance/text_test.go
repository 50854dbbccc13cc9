package conformance

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/prefer-rlhf/prefer/core/text"
	"github.com/prefer-rlhf/prefer/core/wire"
)

// writeCorpus writes a small generated corpus of review sentences for `prefer serve --corpus`,
// so the suite needs no download, and returns its path.
func writeCorpus(t testing.TB) string {
	t.Helper()
	r := rand.New(rand.NewPCG(13, 0))
	subj := []string{"The food", "This phone", "The movie", "Our waiter", "The battery", "The plot"}
	verb := []string{"was", "is", "seemed", "felt"}
	adj := []string{"great", "awful", "fine", "slow", "lovely", "terrible", "good", "bad"}
	var b strings.Builder
	for range 400 {
		fmt.Fprintf(&b, "%s %s %s and %s, but %s %s %s today.\n", subj[r.IntN(len(subj))], verb[r.IntN(len(verb))], adj[r.IntN(len(adj))],
			adj[r.IntN(len(adj))], strings.ToLower(subj[r.IntN(len(subj))]), verb[r.IntN(len(verb))], adj[r.IntN(len(adj))])
	}
	path := filepath.Join(t.TempDir(), "corpus.txt")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// testBundle is a text bundle of env as a trainer uploads it, with a tokenizer of vocab tokens
// trained on the suite's generated corpus.
func testBundle(t testing.TB, env string, vocab int) wire.TextBundle {
	t.Helper()
	c, err := os.ReadFile(writeCorpus(t))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := json.Marshal(text.Train(c, vocab))
	if err != nil {
		t.Fatal(err)
	}
	task, _ := text.TaskOf(env)
	return wire.TextBundle{Env: env, Tokenizer: tok, PromptTokens: 5, Length: task.Length, Instructions: task.Goal}
}

// textClip is a text clip as a trainer publishes it: the prompt's ids then an empty slot per
// continuation token in the start state, one token per action.
func textClip(env string, b wire.TextBundle, prompt, cont []int) map[string]any {
	start, actions := text.ClipLayout{Length: b.Length}.Clip(prompt, cont)
	return map[string]any{"id": uuid.NewString(), "env": env, "policy_version": 0, "start_state": start, "actions": actions}
}

// trlLine is a line of the trl export.
type trlLine struct {
	Prompt   string `json:"prompt"`
	Chosen   string `json:"chosen"`
	Rejected string `json:"rejected"`
}

// testTextProjects: a text project end to end through the API on both servers: its text
// bundle, text clips published by a trainer, labels synced (a retry stored once), the native
// export holding each label once, the trl export one line per left or right choice in
// arrival order (an excluded rater's left out), and format=trl refused on a clip project.
//
// `prefer serve` stores its corpus's bundle when it creates the project. The Worker has no
// corpus: there the project has no bundle until its trainer uploads one (PUT .../trainer/text,
// which this test does as `prefer trainer` would), and GET /text, a round's text clips and the
// trl export are 409 conflict before. Once the project has labels, its bundle may be sent
// again but not replaced by another tokenizer.
func testTextProjects(t *testing.T, a *api) {
	const env = "TextPositive-v0"
	p := a.newProject(t, env)
	base := "/api/v1/projects/" + p.ID
	var b wire.TextBundle
	if a.s.text {
		a.req(t, "GET", base+"/text", a.s.teacher, nil).ok(t, 200, &b)
	} else {
		a.req(t, "GET", base+"/text", a.s.teacher, nil).isError(t, 409, "conflict", "env")
		a.req(t, "GET", base+"/export?format=trl", a.s.teacher, nil).isError(t, 409, "conflict", "format")
		b = testBundle(t, env, 400)
		bad := b
		bad.Env = "TextNoE-v0"
		a.req(t, "PUT", base+"/trainer/text", a.s.teacher, bad).isError(t, 400, "invalid", "env")
		bad = b
		bad.Tokenizer = json.RawMessage(`{"format":"prefer-bpe","version":9,"merges":[]}`)
		a.req(t, "PUT", base+"/trainer/text", a.s.teacher, bad).isError(t, 400, "invalid", "tokenizer")
	}
	// The trainer's upload: the bundle the server has (a no-op on prefer serve) or its own.
	a.req(t, "PUT", base+"/trainer/text", a.s.teacher, b).ok(t, 200, nil)
	var served wire.TextBundle
	res0 := a.req(t, "GET", base+"/text", a.s.teacher, nil)
	res0.ok(t, 200, &served)
	if res0.header.Get("ETag") == "" || fmt.Sprint(served) != fmt.Sprint(b) {
		t.Fatalf("text bundle served %+v with ETag %q, want the one uploaded", served, res0.header.Get("ETag"))
	}
	tok, err := text.LoadBPE(b.Tokenizer)
	task, _ := text.TaskOf(env)
	if err != nil || b.Env != env || b.PromptTokens <= 0 || b.Length != task.Length || b.Instructions != task.Goal {
		t.Fatalf("text bundle %+v: %v", b, err)
	}
	prompt := tok.Encode("The food was lovely and fine, but the plot was slow today.")[:b.PromptTokens]
	conts := []string{" lovely and great", " awful, but ok", " fine today.", " slow and bad", " ü good"}
	var ids [][]int
	for _, c := range conts {
		ids = append(ids, tok.Encode(c))
		if len(ids[len(ids)-1]) > b.Length {
			t.Fatalf("%q is longer than a continuation", c)
		}
	}
	// Three pairs: (0, 1), (2, 3), (4, 0).
	var clips, pairs []any
	var pairIDs []string
	for _, lr := range [][2]int{{0, 1}, {2, 3}, {4, 0}} {
		l, r := textClip(env, b, prompt, ids[lr[0]]), textClip(env, b, prompt, ids[lr[1]])
		id := uuid.NewString()
		clips = append(clips, l, r)
		pairs = append(pairs, map[string]any{"id": id, "left": l["id"], "right": r["id"], "priority": 1})
		pairIDs = append(pairIDs, id)
	}
	// A clip with a token id outside the tokenizer is refused, naming it.
	wrong := textClip(env, b, prompt, []int{tok.VocabSize()})
	a.req(t, "POST", base+"/trainer/rounds", a.s.teacher, map[string]any{"round": 1, "clips": []any{wrong}}).isError(t, 400, "invalid", "clips[0].actions")
	a.req(t, "POST", base+"/trainer/rounds", a.s.teacher, map[string]any{"round": 1, "clips": clips, "pairs": pairs}).ok(t, 201, nil)

	ada, bob := a.join(t, p.JoinCode, "Ada"), a.join(t, p.JoinCode, "Bob")
	adaLabels := []any{comparison(pairIDs[0], "left"), comparison(pairIDs[1], "right"), comparison(pairIDs[2], "equal")}
	bobLabels := []any{comparison(pairIDs[0], "cant_tell"), comparison(pairIDs[2], "left")}
	if res := a.sync(t, ada, map[string]any{"comparisons": adaLabels}); len(res.Accepted) != 3 {
		t.Fatalf("ada's sync: %+v", res)
	}
	if res := a.sync(t, ada, map[string]any{"comparisons": adaLabels}); len(res.Duplicates) != 3 {
		t.Fatalf("ada's retry: %+v", res)
	}
	a.sync(t, bob, map[string]any{"comparisons": bobLabels})

	res := a.req(t, "GET", base+"/export", a.s.teacher, nil)
	res.ok(t, 200, nil)
	var native []string
	for _, l := range bytes.Split(bytes.TrimSpace(res.body), []byte("\n")) {
		var row struct {
			ID   string         `json:"id"`
			Left map[string]any `json:"left"`
		}
		if err := json.Unmarshal(l, &row); err != nil || row.Left["env"] != env {
			t.Fatalf("native export row %s: %v", l, err)
		}
		native = append(native, row.ID)
	}
	var want []string
	for _, c := range append(adaLabels, bobLabels...) {
		want = append(want, c.(map[string]any)["id"].(string))
	}
	if strings.Join(native, " ") != strings.Join(want, " ") {
		t.Fatalf("native export holds %v, want each label once: %v", native, want)
	}

	p0, d := tok.Decode(prompt), func(i int) string { return tok.Decode(ids[i]) }
	trl := func() []trlLine {
		t.Helper()
		res := a.req(t, "GET", base+"/export?format=trl", a.s.teacher, nil)
		if res.status != 200 || !strings.HasPrefix(res.header.Get("Content-Type"), "application/x-ndjson") {
			t.Fatalf("trl export: %d %s: %s", res.status, res.header.Get("Content-Type"), res.body)
		}
		var out []trlLine
		sc := bufio.NewScanner(bytes.NewReader(res.body))
		for sc.Scan() {
			var l trlLine
			dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&l); err != nil {
				t.Fatalf("trl line %s: %v", sc.Bytes(), err)
			}
			out = append(out, l)
		}
		return out
	}
	// Ada's left on (0, 1), right on (2, 3), Bob's left on (4, 0); no ties, no can't-tell.
	wantTRL := []trlLine{{p0, d(0), d(1)}, {p0, d(3), d(2)}, {p0, d(4), d(0)}}
	if got := trl(); fmt.Sprint(got) != fmt.Sprint(wantTRL) {
		t.Fatalf("trl export %q, want %q", got, wantTRL)
	}
	a.req(t, "POST", base+"/raters/"+bob.RaterID+"/exclude", a.s.teacher, nil).ok(t, 200, nil)
	if got := trl(); fmt.Sprint(got) != fmt.Sprint(wantTRL[:2]) {
		t.Fatalf("trl export with Bob excluded %q, want %q", got, wantTRL[:2])
	}
	if n := exportCount(t, a, p.ID); n != 5 {
		t.Fatalf("the native export holds %d labels with Bob excluded, want 5 (marked)", n)
	}

	// With labels stored, the same bundle may be sent again, another tokenizer may not: the
	// labelled clips' token ids would change meaning.
	a.req(t, "PUT", base+"/trainer/text", a.s.teacher, b).ok(t, 200, nil)
	a.req(t, "PUT", base+"/trainer/text", a.s.teacher, testBundle(t, env, 300)).isError(t, 409, "conflict", "tokenizer")
	a.req(t, "PUT", base+"/trainer/text", ada.Token, b).isError(t, 403, "forbidden", "")
	a.req(t, "GET", base+"/export?format=trl", ada.Token, nil).isError(t, 403, "forbidden", "")
	clipProject := a.newProject(t, "CartPole-v1")
	a.req(t, "GET", "/api/v1/projects/"+clipProject.ID+"/export?format=trl", a.s.teacher, nil).isError(t, 400, "invalid", "format")
	a.req(t, "GET", "/api/v1/projects/"+clipProject.ID+"/text", a.s.teacher, nil).isError(t, 404, "not_found", "pid")
}
