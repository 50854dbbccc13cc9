//go:build !notext

package ui

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prefer-rlhf/prefer/core/prefs"
	"github.com/prefer-rlhf/prefer/wasm/fitter"
)

// byteBundle is a TextPositive-v0 bundle whose tokenizer has one merge ("o" "o" -> 256) on
// top of the 256 bytes.
func byteBundle() *TextBundle {
	return &TextBundle{Env: "TextPositive-v0", Tokenizer: json.RawMessage(`{"format":"prefer-bpe","version":1,"merges":[[111,111]]}`),
		PromptTokens: 4, Length: 5, Instructions: "continue the review so that it reads positive"}
}

// textClip is a text clip: prompt then one -1 per continuation token, the tokens as actions.
func textClip(prompt string, cont []int) prefs.Clip {
	c := prefs.Clip{ID: "c", Env: "TextPositive-v0"}
	for _, b := range []byte(prompt) {
		c.StartState = append(c.StartState, float64(b))
	}
	for _, id := range cont {
		c.StartState = append(c.StartState, -1)
		c.Actions = append(c.Actions, []float64{float64(id)})
	}
	return c
}

func bytesOf(s string) []int {
	var ids []int
	for _, b := range []byte(s) {
		ids = append(ids, int(b))
	}
	return ids
}

func textPairs(n int) []prefs.Pair {
	var ps []prefs.Pair
	for i := 0; i < n; i++ {
		ps = append(ps, prefs.Pair{ID: "00000000-0000-4000-8000-0000000000" + strconv.Itoa(10+i),
			Left:  textClip("Food", append(append(bytesOf(" is g"), 256), bytesOf("d")...)), // " is good", "oo" one token
			Right: textClip("Food", bytesOf(" was bad ·"+strconv.Itoa(i)))})
	}
	return ps
}

// TestTextPairsReadOffline: a text pair waits for its project's tokenizer, fetched once, then
// reads as the prompt and two continuations (a character split between tokens whole); a
// returning rater offline reads the next pairs from the device with no request, and labels
// them.
func TestTextPairsReadOffline(t *testing.T) {
	h := &fakeHub{stored: map[string]prefs.Comparison{}, pairs: textPairs(6), bundle: byteBundle()}
	st := NewMemStore()
	a := newTestApp(st, h)
	joinAndFill(t, a, h)
	var v *textView
	deadline := time.Now().Add(5 * time.Second)
	for v == nil && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
		a.read(func() { v = a.CurrentText() })
	}
	if v == nil {
		t.Fatal("the text pair never became readable")
	}
	if v.Prompt != "Food" || v.Left != "… is good" {
		t.Fatalf("decoded %q %q", v.Prompt, v.Left)
	}
	if v.Right != "… was bad ·0" {
		t.Fatalf("right %q", v.Right)
	}
	label(t, a, 2, prefs.Left)

	h.offline = true
	texts := h.texts
	b := newTestApp(st, h)
	b.load("", "")
	b.read(func() { v = b.CurrentText() })
	if v == nil || v.Prompt != "Food" || h.texts != texts {
		t.Fatalf("a returning rater offline: text %+v, %d bundle requests (had %d)", v, h.texts, texts)
	}
	label(t, b, 3, prefs.Right)
	if _, err := b.syncOnce(); err == nil {
		t.Fatal("synced while offline")
	}
	h.offline = false
	if _, err := b.syncOnce(); err != nil {
		t.Fatal(err)
	}
	if len(h.stored) != 5 {
		t.Fatalf("the hub holds %d labels, want 5", len(h.stored))
	}
}

// A text pair whose continuations follow different prompts, or hold a token outside the
// vocabulary, is skipped with a warning.
func TestBadTextPairsAreSkipped(t *testing.T) {
	ps := textPairs(3)
	ps[0].Right = textClip("Fool", bytesOf(" yes"))
	ps[1].Left.Actions[0][0] = 999
	h := &fakeHub{stored: map[string]prefs.Comparison{}, pairs: ps, bundle: byteBundle()}
	a := newTestApp(NewMemStore(), h)
	joinAndFill(t, a, h)
	var id string
	var warnings []string
	deadline := time.Now().Add(5 * time.Second)
	for id == "" && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
		a.read(func() {
			if a.CurrentText() != nil {
				id, warnings = a.Current().ID, a.Warnings
			}
		})
	}
	if id != ps[2].ID || len(warnings) != 2 || !strings.Contains(warnings[0], "different prompts") || !strings.Contains(warnings[1], "vocabulary") {
		t.Fatalf("on screen %q, warnings %q", id, warnings)
	}
}

// The words that moved the model's prediction read as the continuations' tokens, with the
// side each moved it towards or away from; a clip project has none.
func TestMarksText(t *testing.T) {
	a := newTestApp(NewMemStore(), &fakeHub{})
	p := textPairs(1)[0]
	l := &Label{Pair: p}
	pr := fitter.Prediction{PLeft: 0.7, Marks: []fitter.Mark{{Side: 0, Token: 5, R: 1.2}, {Side: 1, Token: 1, R: -0.8}, {Side: 1, Token: 99, R: 3}}}
	if s := a.MarksText(l, pr); s != "" {
		t.Fatalf("without a tokenizer: %q", s)
	}
	b, err := loadBundle("p1", *byteBundle())
	if err != nil {
		t.Fatal(err)
	}
	a.text = b
	if s, want := a.MarksText(l, pr), ` Words that moved it: “oo” (for left), “w” (against right).`; s != want {
		t.Fatalf("%q, want %q", s, want)
	}
}

// A text pair is not answered before it can be read: the keys do nothing while its project's
// tokenizer has not arrived (here, the hub has none to give).
func TestUnreadTextPairIsNotAnswered(t *testing.T) {
	h := &fakeHub{stored: map[string]prefs.Comparison{}, pairs: textPairs(3)}
	a := newTestApp(NewMemStore(), h)
	joinAndFill(t, a, h)
	var waiting bool
	a.update(func() {
		a.Choose(prefs.Left)
		waiting = a.WaitingText()
	})
	time.Sleep(20 * time.Millisecond)
	a.read(func() {
		if !waiting || len(a.Labels) != 0 || a.saving != 0 || len(a.Queue) != 3 {
			t.Errorf("waiting %v; %d labels, %d saving, %d pairs queued after an answer to an unread pair", waiting, len(a.Labels), a.saving, len(a.Queue))
		}
	})
}
