package trl

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/prefer-rlhf/prefer/core/prefs"
	"github.com/prefer-rlhf/prefer/core/text"
	"github.com/prefer-rlhf/prefer/server/corpus"
)

// world is a text world on a small corpus of review sentences.
func world(t *testing.T) *text.World {
	t.Helper()
	var b strings.Builder
	for i := range 600 {
		b.WriteString([]string{"The film", "This phone", "The food", "Our waiter"}[i%4] + " " + []string{"was great", "was awful", "felt good"}[(i/4)%3] +
			" " + []string{"and I", "so we", "but they", "because it", "yet you"}[(i/12)%5] + " would come back again.\n")
	}
	w, err := corpus.NewWorld([]byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// twoPrompts returns two different prompts of w.
func twoPrompts(t *testing.T, w *text.World) (a, b []int) {
	for _, p := range w.Prompts {
		if w.Tok.Decode(p) != w.Tok.Decode(w.Prompts[0]) {
			return w.Prompts[0], p
		}
	}
	t.Fatal("the world has one prompt")
	return nil, nil
}

// clip is a text clip continuing prompt by the tokens of cont, as the trainer makes them.
func clip(w *text.World, task text.Task, prompt []int, cont string) prefs.Clip {
	c := prefs.Clip{ID: uuid.NewString(), Env: task.Name}
	for _, id := range prompt {
		c.StartState = append(c.StartState, float64(id))
	}
	for range task.Length {
		c.StartState = append(c.StartState, -1)
	}
	for _, id := range w.Tok.Encode(cont) {
		c.Actions = append(c.Actions, []float64{float64(id)})
	}
	return c
}

func jsonl(t *testing.T, recs []Record) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	for _, r := range recs {
		if err := enc.Encode(r); err != nil {
			t.Fatal(err)
		}
	}
	return b.Bytes()
}

// TestRoundTrip decodes labelled clip pairs into records, reads the records back into clips
// and decodes those again: the same records, ties and can't-tell left out, and the same ids
// on a second read.
func TestRoundTrip(t *testing.T) {
	w := world(t)
	task, _ := text.TaskOf("TextPositive-v0")
	p0, p1 := twoPrompts(t, w)
	type labelled struct {
		l, r prefs.Clip
		c    prefs.Choice
	}
	in := []labelled{
		{clip(w, task, p0, " was great and"), clip(w, task, p0, " was awful, é"), prefs.Left},
		{clip(w, task, p1, " felt good"), clip(w, task, p1, " and I would come back again."), prefs.Right},
		{clip(w, task, p1, " felt good"), clip(w, task, p1, " was awful"), prefs.Equal},
		{clip(w, task, p1, " felt good"), clip(w, task, p1, " was awful"), prefs.CantTell},
		{clip(w, task, p0, " was great and"), clip(w, task, p0, " was awful, é"), prefs.Left},
	}
	var recs []Record
	for _, x := range in {
		rec, ok, err := FromComparison(w, x.l, x.r, x.c)
		if err != nil {
			t.Fatal(err)
		}
		if ok != (x.c == prefs.Left || x.c == prefs.Right) {
			t.Fatalf("choice %s: ok = %v", x.c, ok)
		}
		if ok {
			recs = append(recs, rec)
		}
	}
	if len(recs) != 3 || recs[1].Chosen != " and I would come back again." || recs[1].Rejected != " felt good" || recs[0].Rejected != " was awful, é" ||
		recs[0].Prompt != w.Tok.Decode(p0) {
		t.Fatalf("records %+v", recs)
	}

	pid := uuid.NewString()
	im := Import{World: w, Task: task, ProjectID: pid, Now: time.Now()}
	rows, err := im.Read(bytes.NewReader(jsonl(t, recs)))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 {
		t.Fatalf("%d rows", len(rows))
	}
	for i, r := range rows {
		if r.Left.Env != task.Name || len(r.Left.StartState) != w.PromptLen()+task.Length || r.Comparison.Choice != prefs.Left || r.RaterName != RaterName {
			t.Fatalf("row %d: %+v", i, r)
		}
		if err := r.Comparison.Validate(); err != nil {
			t.Fatal(err)
		}
		got, ok, err := FromComparison(w, r.Left, r.Right, r.Comparison.Choice)
		if err != nil || !ok || got != recs[i] {
			t.Fatalf("line %d read back as %+v (%v), want %+v", i+1, got, err, recs[i])
		}
	}
	// Lines 1 and 3 are equal: one pair, two comparisons.
	if rows[0].Comparison.PairID != rows[2].Comparison.PairID || rows[0].Comparison.ID == rows[2].Comparison.ID {
		t.Fatalf("equal lines: pairs %s %s, comparisons %s %s", rows[0].Comparison.PairID, rows[2].Comparison.PairID, rows[0].Comparison.ID, rows[2].Comparison.ID)
	}
	again, err := im.Read(bytes.NewReader(jsonl(t, recs)))
	if err != nil {
		t.Fatal(err)
	}
	for i := range rows {
		if again[i].Comparison.ID != rows[i].Comparison.ID || again[i].Left.ID != rows[i].Left.ID || again[i].RaterID != rows[i].RaterID {
			t.Fatalf("a second read of line %d gave other ids", i+1)
		}
	}
	other := Import{World: w, Task: task, ProjectID: uuid.NewString(), Now: time.Now()}
	if o, _ := other.Read(bytes.NewReader(jsonl(t, recs))); o[0].Left.ID == rows[0].Left.ID || o[0].Comparison.ID == rows[0].Comparison.ID {
		t.Fatal("another project's import gave the same ids")
	}
}

// TestFromComparisonRefuses: clips of two prompts, and clips that are not text.
func TestFromComparisonRefuses(t *testing.T) {
	w := world(t)
	task, _ := text.TaskOf("TextPositive-v0")
	p0, p1 := twoPrompts(t, w)
	a, b := clip(w, task, p0, " good"), clip(w, task, p1, " bad")
	if _, _, err := FromComparison(w, a, b, prefs.Left); err == nil || !strings.Contains(err.Error(), "different prompts") {
		t.Fatalf("two prompts: %v", err)
	}
	bad := a
	bad.Actions = [][]float64{{0.5}}
	if _, _, err := FromComparison(w, a, bad, prefs.Right); err == nil || !strings.Contains(err.Error(), "actions[0]") {
		t.Fatalf("a fractional token: %v", err)
	}
	bad = a
	bad.StartState = []float64{1, 2}
	if _, _, err := FromComparison(w, bad, a, prefs.Right); err == nil || !strings.Contains(err.Error(), "start_state") {
		t.Fatalf("a short start state: %v", err)
	}
}

// TestReadRefuses: every bad line is an error that names its line, and nothing is returned;
// with Truncate, long text is cut at the documented end.
func TestReadRefuses(t *testing.T) {
	w := world(t)
	task, _ := text.TaskOf("TextPositive-v0")
	prompt := w.Tok.Decode(w.Prompts[0])
	good := `{"prompt": ` + q(prompt) + `, "chosen": " was great", "rejected": " was awful", "score": 3}`
	long := strings.Repeat(" great", task.Length+3)
	for _, c := range []struct {
		line, want string
	}{
		{`not json`, "not a JSON object"},
		{`{"chosen": "a", "rejected": "b"}`, `no "prompt"`},
		{`{"prompt": [{"role": "user", "content": "hi"}], "chosen": "a", "rejected": "b"}`, "conversational"},
		{`{"prompt": "Hi", "chosen": " a", "rejected": " b"}`, "prompt has"},
		{`{"prompt": ` + q(prompt+" and more words here") + `, "chosen": " a", "rejected": " b"}`, "more than the task's"},
		{`{"prompt": ` + q(prompt) + `, "chosen": ` + q(long) + `, "rejected": " b"}`, "chosen has"},
		{`{"prompt": ` + q(prompt) + `, "chosen": "", "rejected": " b"}`, "chosen is empty"},
		{`{"prompt": ` + q(prompt) + `, "chosen": " same", "rejected": " same"}`, "same text"},
	} {
		im := Import{World: w, Task: task, ProjectID: "p", Now: time.Now()}
		rows, err := im.Read(strings.NewReader(good + "\n\n" + c.line + "\n" + good + "\n"))
		if err == nil || rows != nil || !strings.Contains(err.Error(), "line 3:") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %d rows, %v; want an error at line 3 with %q", c.line, len(rows), err, c.want)
		}
	}
	if _, err := (&Import{World: w, Task: task, Now: time.Now()}).Read(strings.NewReader("\n")); err == nil {
		t.Error("an empty file read without error")
	}

	im := Import{World: w, Task: task, ProjectID: "p", Truncate: true, Now: time.Now()}
	rows, err := im.Read(strings.NewReader(`{"prompt": ` + q("Long ago, "+prompt) + `, "chosen": ` + q(long) + `, "rejected": " b"}`))
	if err != nil {
		t.Fatal(err)
	}
	rec, _, err := FromComparison(w, rows[0].Left, rows[0].Right, prefs.Left)
	if err != nil || rec.Prompt != prompt || rec.Chosen != w.Tok.Decode(w.Tok.Encode(long)[:task.Length]) || rec.Rejected != " b" {
		t.Fatalf("truncated: %+v %v", rec, err)
	}
}

func q(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
