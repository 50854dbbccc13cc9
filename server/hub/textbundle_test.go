package hub

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/prefer-rlhf/prefer/core/prefs"
	"github.com/prefer-rlhf/prefer/core/text"
	"github.com/prefer-rlhf/prefer/core/text/texttest"
	"github.com/prefer-rlhf/prefer/core/wire"
	"github.com/prefer-rlhf/prefer/server/store"
)

// bundleOf is a text bundle of TextPositive-v0 with a tokenizer of vocab tokens trained on the
// shared test corpus.
func bundleOf(t *testing.T, vocab, promptTokens int) (wire.TextBundle, *text.BPE) {
	t.Helper()
	tok := text.Train([]byte(texttest.Corpus(texttest.Reviews(300))), vocab)
	b, err := json.Marshal(tok)
	if err != nil {
		t.Fatal(err)
	}
	task, _ := text.TaskOf("TextPositive-v0")
	return wire.TextBundle{Env: task.Name, Tokenizer: b, PromptTokens: promptTokens, Length: task.Length, Instructions: task.Goal}, tok
}

// textRound is a published round of one pair of text clips continuing prompt.
func textRound(round int, b wire.TextBundle, prompt []int, conts ...[]int) (map[string]any, string) {
	var clips []map[string]any
	for _, cont := range conts {
		start, acts := text.ClipLayout{Length: b.Length}.Clip(prompt, cont)
		clips = append(clips, map[string]any{"id": uuid.NewString(), "env": b.Env, "policy_version": 0, "start_state": start, "actions": acts})
	}
	pair := uuid.NewString()
	return map[string]any{"round": round, "clips": clips,
		"pairs": []any{map[string]any{"id": pair, "left": clips[0]["id"], "right": clips[1]["id"], "priority": 1}}}, pair
}

// ids is n token ids of tok's text s, repeated or cut to n.
func ids(tok *text.BPE, s string, n int) []int {
	var out []int
	for len(out) < n {
		out = append(out, tok.Encode(s)...)
	}
	return out[:n]
}

// TestTextBundleUploaded: on a hub without a text world (the Worker's configuration) a text
// project is created with no bundle: GET /text, its text clips and its TRL export are 409
// until the trainer uploads one. The upload is validated field by field, served with an
// ETag, read to check the clips of a round, and once the project has labels it may be sent
// again but not replaced by another tokenizer or prompt length.
func TestTextBundleUploaded(t *testing.T) {
	e := newEnv(t, Config{})
	var cr map[string]string
	e.do("POST", "/api/v1/projects", e.teacher, map[string]any{"env": "TextPositive-v0"}, 201, &cr)
	pid := cr["id"]
	base := "/api/v1/projects/" + pid
	b, tok := bundleOf(t, 300, 5)
	prompt := ids(tok, "The food was lovely", b.PromptTokens)
	round, pair := textRound(1, b, prompt, ids(tok, " and great.", b.Length), ids(tok, " and awful.", b.Length))

	e.apiErr("GET", base+"/text", e.teacher, nil, 409, "conflict", "env")
	e.apiErr("POST", base+"/trainer/rounds", e.teacher, round, 409, "conflict", "clips")
	e.apiErr("GET", base+"/export?format=trl", e.teacher, nil, 409, "conflict", "format")

	// Bad uploads name their field; only the teacher uploads, only to a text project.
	bad := func(field string, edit func(*wire.TextBundle)) {
		t.Helper()
		c := b
		edit(&c)
		e.apiErr("PUT", base+"/trainer/text", e.teacher, c, 400, "invalid", field)
	}
	bad("env", func(c *wire.TextBundle) { c.Env = "TextNoE-v0" })
	bad("tokenizer", func(c *wire.TextBundle) {
		c.Tokenizer = json.RawMessage(`{"format":"prefer-bpe","version":9,"merges":[]}`)
	})
	bad("tokenizer", func(c *wire.TextBundle) { c.Tokenizer = nil })
	bad("prompt_tokens", func(c *wire.TextBundle) { c.PromptTokens = 0 })
	bad("length", func(c *wire.TextBundle) { c.Length = 0 })
	bad("instructions", func(c *wire.TextBundle) { c.Instructions = strings.Repeat("x", store.MaxInstructionsChars+1) })
	e.apiErr("PUT", base+"/trainer/text", e.teacher, map[string]any{"env": b.Env, "colour": 1}, 400, "unknown_field", "colour")
	e.apiErr("PUT", base+"/trainer/text", e.rater, b, 403, "forbidden", "")
	e.apiErr("PUT", "/api/v1/projects/"+e.pid+"/trainer/text", e.teacher, b, 404, "not_found", "pid")
	e.apiErr("GET", base+"/text", e.teacher, nil, 409, "conflict", "env")

	var put map[string]string
	e.do("PUT", base+"/trainer/text", e.teacher, b, 200, &put)
	var got wire.TextBundle
	resp := e.do("GET", base+"/text", e.teacher, nil, 200, &got)
	if resp.Header.Get("ETag") != put["etag"] || put["etag"] == "" {
		t.Fatalf("ETag %q, the upload's %q", resp.Header.Get("ETag"), put["etag"])
	}
	tok2, err := text.LoadBPE(got.Tokenizer)
	if err != nil || got.Env != b.Env || got.PromptTokens != 5 || got.Length != b.Length || got.Instructions != b.Instructions ||
		fmt.Sprint(tok2.Encode("Our waiter was boring.")) != fmt.Sprint(tok.Encode("Our waiter was boring.")) {
		t.Fatalf("served bundle %+v: %v", got, err)
	}
	r2, _ := e.raw("GET", base+"/text", e.teacher, nil, map[string]string{"If-None-Match": put["etag"]})
	if r2.StatusCode != 304 {
		t.Fatalf("If-None-Match: %d", r2.StatusCode)
	}

	// The round's clips are read with the stored tokenizer.
	badClip := func(field string, edit func(c map[string]any)) {
		t.Helper()
		r, _ := textRound(1, b, prompt, ids(tok, " fine.", b.Length), ids(tok, " good.", b.Length))
		edit(r["clips"].([]map[string]any)[1])
		e.apiErr("POST", base+"/trainer/rounds", e.teacher, r, 400, "invalid", field)
	}
	badClip("clips[1].actions", func(c map[string]any) { c["actions"] = append(c["actions"].([][]float64), []float64{1}) })
	badClip("clips[1].start_state", func(c map[string]any) { c["start_state"] = c["start_state"].([]float64)[1:] })
	badClip("clips[1].start_state", func(c map[string]any) { c["start_state"].([]float64)[b.PromptTokens] = 7 })
	badClip("clips[1].actions", func(c map[string]any) { c["actions"].([][]float64)[2][0] = float64(tok.VocabSize()) })
	badClip("clips[1].actions", func(c map[string]any) { c["actions"].([][]float64)[2] = []float64{1, 2} })
	badClip("clips[1].start_state", func(c map[string]any) { c["start_state"].([]float64)[0] = 1.5 })
	badClip("clips[1].start_state", func(c map[string]any) { c["start_state"].([]float64)[1] = -1 })
	e.do("POST", base+"/trainer/rounds", e.teacher, round, 201, nil)

	// Before any label the bundle may change (another trainer's corpus); after, only the same
	// tokenizer and prompt length may be sent again.
	other, _ := bundleOf(t, 280, 5)
	e.do("PUT", base+"/trainer/text", e.teacher, other, 200, nil)
	e.do("PUT", base+"/trainer/text", e.teacher, b, 200, nil)
	var jr wire.JoinResponse
	e.do("POST", "/api/v1/join", "", map[string]any{"join_code": cr["join_code"], "name": "Tex"}, 201, &jr)
	// A text task has no failure threshold to red-team against, here with no env to replay.
	e.apiErr("POST", base+"/redteam", jr.Token, map[string]any{"start_state": []float64{1}, "actions": [][]float64{{1}}}, 400, "invalid", "")
	var res syncResponse
	e.do("POST", base+"/sync", jr.Token, map[string]any{"comparisons": []any{e.comparison(pair, prefs.Left)}}, 200, &res)
	if len(res.Accepted) != 1 {
		t.Fatalf("sync: %+v", res)
	}
	e.apiErr("PUT", base+"/trainer/text", e.teacher, other, 409, "conflict", "tokenizer")
	longer := b
	longer.PromptTokens = 6
	e.apiErr("PUT", base+"/trainer/text", e.teacher, longer, 409, "conflict", "tokenizer")
	again := b
	again.Instructions = "" // the task's goal
	e.do("PUT", base+"/trainer/text", e.teacher, again, 200, &put)
	if put["etag"] != resp.Header.Get("ETag") {
		t.Fatalf("the same bundle sent again has ETag %q, was %q", put["etag"], resp.Header.Get("ETag"))
	}

	// The TRL export decodes with it.
	exp, body := e.raw("GET", base+"/export?format=trl", e.teacher, nil, nil)
	want := fmt.Sprintf("%q", tok.Decode(ids(tok, " and great.", b.Length)))
	if exp.StatusCode != 200 || !strings.Contains(string(body), `"chosen":`+want) {
		t.Fatalf("trl export %d: %s", exp.StatusCode, body)
	}
}

// TestTextBundleFromWorld: a hub with a text world stores its bundle when it creates a text
// project, and gives one to a text project an older database holds without (backfill); the
// bundle it stores is the world's.
func TestTextBundleFromWorld(t *testing.T) {
	e := newEnv(t, Config{Text: tinyWorld})
	var cr map[string]string
	e.do("POST", "/api/v1/projects", e.teacher, map[string]any{"env": "TextNoE-v0"}, 201, &cr)
	w := text.Installed()
	stored, _, err := e.st.TextBundle(bg, cr["id"])
	if err != nil {
		t.Fatalf("creating a text project stored no bundle: %v", err)
	}
	var sb wire.TextBundle
	if err := json.Unmarshal(stored, &sb); err != nil || sb.Env != "TextNoE-v0" || sb.PromptTokens != w.PromptLen() {
		t.Fatalf("stored bundle %s: %v", stored, err)
	}

	old := uuid.NewString()
	if err := e.st.CreateProject(bg, &store.Project{ID: old, Env: "TextPositive-v0", Settings: store.DefaultSettings(), JoinCode: "OLDTXT"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.st.TextBundle(bg, old); err == nil {
		t.Fatal("a project made in the store has a bundle")
	}
	var b wire.TextBundle
	e.do("GET", "/api/v1/projects/"+old+"/text", e.teacher, nil, 200, &b)
	tok, err := text.LoadBPE(b.Tokenizer)
	if err != nil || tok.VocabSize() != w.Tok.VocabSize() || b.PromptTokens != w.PromptLen() {
		t.Fatalf("backfilled bundle %+v: %v", b, err)
	}
	if _, _, err := e.st.TextBundle(bg, old); err != nil {
		t.Fatalf("the backfilled bundle was not stored: %v", err)
	}
}

// TestClientUploadsTextBundle: a Client with a text world uploads a text project's bundle
// before the first round it publishes there, once, and not for a clip project; a hub that
// keeps another tokenizer for a labelled project refuses, and so does the publish.
func TestClientUploadsTextBundle(t *testing.T) {
	e := newEnv(t, Config{})
	ctx := t.Context()
	b, tok := bundleOf(t, 300, 5)
	worlds := 0
	world := &text.World{Tok: tok, Prompts: [][]int{ids(tok, "The food was lovely", 5)}}
	c := NewClient(e.srv.URL, e.teacher)
	c.TextWorld = func() (*text.World, error) { worlds++; return world, nil }
	pid, code, err := c.CreateProject(ctx, "TextPositive-v0", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Text(ctx, pid); err == nil {
		t.Fatal("a bundle before the trainer's upload")
	}
	clip := func(cont string) prefs.Clip {
		start := []float64{}
		for _, id := range world.Prompts[0] {
			start = append(start, float64(id))
		}
		for range b.Length {
			start = append(start, -1)
		}
		var acts [][]float64
		for _, id := range ids(tok, cont, b.Length) {
			acts = append(acts, []float64{float64(id)})
		}
		return prefs.Clip{ID: uuid.NewString(), Env: b.Env, StartState: start, Actions: acts}
	}
	l, r := clip(" great."), clip(" awful.")
	pair := uuid.NewString()
	for i := range 2 {
		round := &store.Round{ProjectID: pid, Round: i + 1, Checkpoint: []byte{1}, Clips: []prefs.Clip{l, r},
			Pairs: []store.NewPair{{ID: pair, Left: l.ID, Right: r.ID}}, ReplacePairs: true}
		if i == 1 {
			round.Clips, round.Pairs = nil, nil
		}
		if err := c.PublishRound(ctx, round); err != nil {
			t.Fatalf("round %d: %v", i+1, err)
		}
	}
	got, err := c.Text(ctx, pid)
	if err != nil || got.Env != b.Env || got.PromptTokens != 5 || worlds != 1 {
		t.Fatalf("bundle %+v, %v; the world was asked %d times", got, err, worlds)
	}
	if err := c.PublishRound(ctx, &store.Round{ProjectID: e.pid, Round: 1, Checkpoint: []byte{1}}); err != nil || worlds != 1 {
		t.Fatalf("a clip project's round: %v, %d world loads", err, worlds)
	}

	// A label, then another trainer whose corpus gives another tokenizer.
	jr, err := NewClient(e.srv.URL, "").Join(ctx, wire.JoinRequest{JoinCode: code, Name: "Ada"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewClient(e.srv.URL, jr.Token).Sync(ctx, pid, wire.SyncRequest[prefs.Comparison]{Comparisons: []prefs.Comparison{
		{ID: uuid.NewString(), PairID: pair, Choice: prefs.Left, CreatedAt: time.Now().UTC(), ResponseMS: 900}}}); err != nil {
		t.Fatal(err)
	}
	_, tok2 := bundleOf(t, 280, 5)
	c2 := NewClient(e.srv.URL, e.teacher)
	c2.TextWorld = func() (*text.World, error) {
		return &text.World{Tok: tok2, Prompts: [][]int{ids(tok2, "The food was lovely", 5)}}, nil
	}
	err = c2.PublishRound(ctx, &store.Round{ProjectID: pid, Round: 3, Checkpoint: []byte{1}})
	if err == nil || !strings.Contains(err.Error(), "another tokenizer") {
		t.Fatalf("a trainer of another corpus published: %v", err)
	}
}
