package langmodel

import (
	"testing"

	"github.com/prefer-rlhf/prefer/core/text"
)

func TestWithPretrainWords(t *testing.T) {
	w := &text.World{Vocab: text.Vocabulary([]string{"The food was good."})}
	conts := []string{"x the waiters were good and slimple y"}
	before := text.ValidWordShare(conts, w.Vocab)
	wide := WithPretrainWords(w, []byte("Call me Ishmael. The waiters WERE slow; and then..."))
	after := text.ValidWordShare(conts, wide.Vocab)
	// Judged: the waiters were good and slimple (first and last words are edges).
	if before != 2.0/6 || after != 5.0/6 {
		t.Errorf("valid words %v -> %v, want 2/6 -> 5/6", before, after)
	}
	if w.Vocab["waiters"] || len(w.Vocab) != 4 {
		t.Errorf("the corpus's own vocabulary changed: %v", w.Vocab)
	}
	if !wide.Vocab["food"] || !wide.Vocab["ishmael"] || wide.Vocab["slimple"] {
		t.Errorf("widened vocabulary %v", wide.Vocab)
	}
	if WithPretrainWords(w, nil) != w {
		t.Error("no broad text: want the world itself")
	}
}
