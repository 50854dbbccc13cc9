package classroom

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"math"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/prefer-rlhf/prefer/core/lm"
	"github.com/prefer-rlhf/prefer/core/text"
	"github.com/prefer-rlhf/prefer/core/text/texttest"
	"github.com/prefer-rlhf/prefer/server/hub"
	"github.com/prefer-rlhf/prefer/server/store"
)

// tinyText is a tiny text world and two language models, built once: reviews from a small
// grammar, half praising and half panning, a gold score counting praise words minus blame
// words, a reference pretrained on all of them, and a "policy" that is the reference tuned
// further on the praising reviews alone (as preference tuning on TextPositive-v0 would move
// it). Not registered (text.Register): the classroom samples from the world it is given.
var tinyText struct {
	once     sync.Once
	w        *text.World
	ref, pol *lm.Model
	err      error
}

func textWorld(t *testing.T) (w *text.World, ref, pol *lm.Model) {
	t.Helper()
	tinyText.once.Do(func() {
		reviews := texttest.Reviews(1500)
		var praise strings.Builder
		for _, r := range reviews {
			if r.Praise {
				praise.WriteString(r.Text)
			}
		}
		corpus := texttest.Corpus(reviews)
		tok := text.Train([]byte(corpus), 300)
		sents := text.Sentences([]byte(corpus))
		gold := texttest.Gold
		w := &text.World{Tok: tok, Prompts: text.Prompts(tok, sents[1200:], 2), Sentiment: gold, Train: sents[:1200], HeldOut: sents[1200:]}
		c := lm.DefaultConfig()
		c.Vocab, c.Ctx, c.Dim, c.Layers, c.Heads, c.Batch, c.Warmup = tok.VocabSize(), 16, 24, 1, 2, 16, 20
		ref, err := lm.New(c, 1)
		if err == nil {
			err = lm.Pretrain(ref, tok.Encode(strings.Join(w.Train, "\n")), 300, 1, nil)
		}
		var pol *lm.Model
		if err == nil {
			pol = ref.Clone()
			err = lm.Pretrain(pol, tok.Encode(praise.String()), 150, 2, nil)
		}
		tinyText.w, tinyText.ref, tinyText.pol, tinyText.err = w, ref, pol, err
	})
	if tinyText.err != nil {
		t.Fatal(tinyText.err)
	}
	return tinyText.w, tinyText.ref, tinyText.pol
}

func meanGold(cs []Continuation) (before, after float64) {
	for _, c := range cs {
		before += float64(c.GoldBefore) / float64(len(cs))
		after += float64(c.GoldAfter) / float64(len(cs))
	}
	return before, after
}

// The policy now for text: the held-out prompts (every fourth), the reference's continuation
// beside the policy's from the same random numbers, each with its gold score. A policy that is
// the reference writes what the reference writes; one tuned toward praise scores higher.
func TestContinuations(t *testing.T) {
	w, ref, pol := textWorld(t)
	task, _ := text.TaskOf("TextPositive-v0")
	same, err := Continuations(w, task, ref, ref.Clone(), 3, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(same) != 3 {
		t.Fatalf("%d continuations, want 3", len(same))
	}
	for i, c := range same {
		if c.Prompt != w.Tok.Decode(w.Prompts[4*i]) {
			t.Fatalf("prompt %d %q is not held-out prompt %d %q", i, c.Prompt, 4*i, w.Tok.Decode(w.Prompts[4*i]))
		}
		if c.Before != c.After || c.GoldBefore != c.GoldAfter || c.Before == "" {
			t.Fatalf("the reference as policy: %+v", c)
		}
		if float64(c.GoldBefore) != w.Score(task, c.Before) {
			t.Fatalf("gold %v of %q", c.GoldBefore, c.Before)
		}
	}
	tuned, err := Continuations(w, task, ref, pol, 3, 1)
	if err != nil {
		t.Fatal(err)
	}
	differ := false
	for i, c := range tuned {
		if c.Before != same[i].Before {
			t.Fatalf("the reference's continuation depends on the policy: %q, %q", c.Before, same[i].Before)
		}
		differ = differ || c.After != c.Before
	}
	if b, a := meanGold(tuned); !differ || !(a > b) {
		t.Fatalf("the tuned policy: gold %.2f before, %.2f after:\n%+v", b, a, tuned)
	}
	other, err := Continuations(w, task, ref, ref, 3, 2)
	if err != nil || other[0].Before == same[0].Before && other[1].Before == same[1].Before && other[2].Before == same[2].Before {
		t.Fatalf("another seed gives the same continuations: %v", err)
	}
	wide := ref.Config
	wide.Dim *= 2
	if m, err := lm.New(wide, 1); err != nil {
		t.Fatal(err)
	} else if _, err := Continuations(w, task, ref, m, 3, 1); err == nil {
		t.Fatal("a policy of another shape was sampled")
	}
}

// textEnv is a store with a text project (TextPositive-v0), a clip project, a teacher token
// and a classroom handler whose text source counts its calls.
type textEnv struct {
	st    *store.Store
	srv   *httptest.Server
	loads atomic.Int32
}

func newTextEnv(t *testing.T, withText bool) *textEnv {
	t.Helper()
	w, ref, _ := textWorld(t)
	ctx := context.Background()
	st, err := store.Open(filepath.Join(t.TempDir(), "c.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	for _, p := range []*store.Project{{ID: "txt", Env: "TextPositive-v0", JoinCode: "TXT234"}, {ID: "cp", Env: "CartPole-v1", JoinCode: "CPL234"}} {
		if err := st.CreateProject(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.AddTeacherToken(ctx, hub.HashToken("teach"), ""); err != nil {
		t.Fatal(err)
	}
	e := &textEnv{st: st}
	o := Options{}
	if withText {
		o.Text = func() (*text.World, *lm.Model, error) { e.loads.Add(1); return w, ref, nil }
	}
	e.srv = httptest.NewServer(New(st, o))
	t.Cleanup(e.srv.Close)
	return e
}

// publish publishes policy version v of the text project with m's weights.
func (e *textEnv) publish(t *testing.T, v int, m *lm.Model, gold, learned, kl float64) {
	t.Helper()
	b, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if err := e.st.PublishRound(context.Background(), &store.Round{ProjectID: "txt", Round: v, Policy: &store.Policy{Version: v,
		Weights: b, LearnedReturn: learned, TrueReturn: gold, KL: kl, Labels: 10 * v}}); err != nil {
		t.Fatal(err)
	}
}

func (e *textEnv) get(t *testing.T, path string, v any) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", e.srv.URL+path, nil)
	req.Header.Set("Authorization", "Bearer teach")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var raw json.RawMessage
	if err := json.NewDecoder(res.Body).Decode(&raw); err != nil && res.StatusCode != 200 {
		return res.StatusCode, ""
	}
	if v != nil && res.StatusCode == 200 {
		if err := json.Unmarshal(raw, v); err != nil {
			t.Fatal(err)
		}
	}
	return res.StatusCode, string(raw)
}

// GET policy-text: sampled once per policy version (a poll reads the cache), from DPO's or
// PPO's policy alike (both are core/lm models), the reference published first as version 1.
func TestPolicyTextEndpoint(t *testing.T) {
	_, ref, pol := textWorld(t)
	e := newTextEnv(t, true)
	code, body := e.get(t, "/classroom/api/projects/txt/policy-text", nil)
	if isError(t, code, []byte(body), 404, "not_found", "pid"); !strings.Contains(body, "no policy yet") {
		t.Fatalf("before a policy: %d %s", code, body)
	}
	e.publish(t, 1, ref, 0, math.NaN(), 0)
	var v1 PolicyText
	if code, body := e.get(t, "/classroom/api/projects/txt/policy-text", &v1); code != 200 {
		t.Fatalf("version 1: %d %s", code, body)
	}
	if v1.Version != 1 || v1.Env != "TextPositive-v0" || len(v1.Continuations) != TextPrompts || v1.Gold == "" {
		t.Fatalf("version 1: %+v", v1)
	}
	for _, c := range v1.Continuations {
		if c.Before != c.After {
			t.Fatalf("version 1 is the reference, yet %q became %q", c.Before, c.After)
		}
	}
	var again PolicyText
	e.get(t, "/classroom/api/projects/txt/policy-text", &again)
	if n := e.loads.Load(); n != 1 || again.Continuations[0] != v1.Continuations[0] {
		t.Fatalf("a second poll of version 1 sampled again (%d loads)", n)
	}
	e.publish(t, 2, pol, 1, 1, 0.5)
	var v2 PolicyText
	if code, body := e.get(t, "/classroom/api/projects/txt/policy-text", &v2); code != 200 || v2.Version != 2 {
		t.Fatalf("version 2: %d %s", code, body)
	}
	if n := e.loads.Load(); n != 2 {
		t.Fatalf("%d loads after a new version, want 2", n)
	}
	b, a := meanGold(v2.Continuations)
	for i, c := range v2.Continuations {
		if c.Before != v1.Continuations[i].Before {
			t.Fatalf("the reference's continuation changed with the policy version: %q, %q", c.Before, v1.Continuations[i].Before)
		}
	}
	if !(a > b) {
		t.Fatalf("version 2 (tuned toward praise): gold %.2f before, %.2f after", b, a)
	}

	// A clip project has no continuations, a text project no clip; a teacher's token is needed.
	code, body = e.get(t, "/classroom/api/projects/cp/policy-text", nil)
	if isError(t, code, []byte(body), 404, "not_found", "pid"); !strings.Contains(body, "not a text project") {
		t.Fatalf("a clip project: %d %s", code, body)
	}
	code, body = e.get(t, "/classroom/api/projects/txt/clip.svg", nil)
	if isError(t, code, []byte(body), 404, "not_found", "pid"); !strings.Contains(body, "policy-text") {
		t.Fatalf("clip.svg of a text project: %d %s", code, body)
	}
	code, body = e.get(t, "/classroom/api/projects/nope/policy-text", nil)
	isError(t, code, []byte(body), 404, "not_found", "pid")
	res, err := http.Get(e.srv.URL + "/classroom/api/projects/txt/policy-text")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 401 {
		t.Fatalf("no token: %d", res.StatusCode)
	}

	// A server with no language model (the Worker) says so.
	bare := newTextEnv(t, false)
	bare.publish(t, 1, ref, 0, math.NaN(), 0)
	code, body = bare.get(t, "/classroom/api/projects/txt/policy-text", nil)
	if isError(t, code, []byte(body), 404, "not_found", "pid"); !strings.Contains(body, "no language model") {
		t.Fatalf("no text source: %d %s", code, body)
	}
}

// The task list as a server can run it: text tasks are available with a text world
// (installed, or a source to load it from) and without one (the Worker, trained by `prefer
// trainer --hub`); the note says what the first session loads, or who trains it.
func TestTaskListText(t *testing.T) {
	if text.Installed() != nil {
		t.Skip("a text world is installed in this process")
	}
	for _, withText := range []bool{false, true} {
		e := newTextEnv(t, withText)
		var got struct{ Tasks []Task }
		if code, body := e.get(t, "/classroom/api/tasks", &got); code != 200 {
			t.Fatalf("tasks: %d %s", code, body)
		}
		n := 0
		for _, task := range got.Tasks {
			if !task.Text {
				if !task.Available || task.Note != "" {
					t.Fatalf("%+v", task)
				}
				continue
			}
			n++
			if !task.Available || !strings.Contains(task.Note, "--corpus FILE") || strings.Contains(task.Note, "prefer trainer --hub") == withText {
				t.Fatalf("text source %v: %+v", withText, task)
			}
		}
		if n != 2 {
			t.Fatalf("%d text tasks", n)
		}
	}
}

// The dashboard of a text project: its policies' gold and learned scores against KL from the
// reference (nats per continuation), Gao's fit measured from the reference (KL 0), and the
// flag that tells the page to show continuations rather than a clip. The policies come in
// publication order, which is not KL's (DPO refits from the reference each round).
func TestTextDashboardChart(t *testing.T) {
	_, ref, _ := textWorld(t)
	e := newTextEnv(t, true)
	type pv struct{ gold, learned, kl float64 }
	// Gold rises then falls with d = √KL (Gao's shape); learned keeps rising.
	pvs := []pv{{0.10, 0, 0}, {0.40, 1, 4}, {0.30, 0.5, 1}, {0.45, 2, 9}, {0.20, 3, 25}}
	for i, p := range pvs {
		e.publish(t, i+1, ref, p.gold, p.learned, p.kl)
	}
	var d Dashboard
	if code, body := e.get(t, "/classroom/api/projects/txt/dashboard", &d); code != 200 {
		t.Fatalf("dashboard: %d %s", code, body)
	}
	if !d.Project.Text || !strings.Contains(d.Project.Goal, "positive") || len(d.Policies) != 5 {
		t.Fatalf("project %+v, %d policies", d.Project, len(d.Policies))
	}
	for i, p := range d.Policies {
		if p.Version != i+1 || p.KL != pvs[i].kl || p.True != pvs[i].gold {
			t.Fatalf("policy %d: %+v", i, p)
		}
	}
	svg := d.Charts["reward_hacking"]
	for _, want := range []string{"KL from the reference (nats per continuation)", "gold score (now 0.2)", "learned score (now 3)",
		"policy version (1 is the reference)", "d = √KL from the reference", "peak "} {
		if !strings.Contains(svg, want) {
			t.Fatalf("the chart lacks %q:\n%s", want, svg)
		}
	}
	v := FitGaoView(d.Policies)
	if !v.OK || v.Base != 0.10 || !(v.Drop > 0) {
		t.Fatalf("Gao's fit from the reference: %+v", v)
	}
	// The scores are drawn in order of KL (x never goes back), the KL in order of version.
	lines := polylineXs(t, []byte(svg))
	if len(lines) < 3 {
		t.Fatalf("%d polylines", len(lines))
	}
	for i, xs := range lines[:3] {
		for j := 1; j < len(xs); j++ {
			if xs[j] < xs[j-1] {
				t.Fatalf("polyline %d goes back in x: %v", i, xs)
			}
		}
	}
}

// polylineXs returns the x coordinates of each polyline of an SVG.
func polylineXs(t *testing.T, svg []byte) [][]float64 {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(string(svg)))
	var out [][]float64
	for {
		tok, err := d.Token()
		if err != nil {
			return out
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "polyline" {
			for _, a := range se.Attr {
				if a.Name.Local == "points" {
					var xs []float64
					for _, p := range strings.Fields(a.Value) {
						x, err := strconv.ParseFloat(strings.Split(p, ",")[0], 64)
						if err != nil {
							t.Fatal(err)
						}
						xs = append(xs, x)
					}
					out = append(out, xs)
				}
			}
		}
	}
}
