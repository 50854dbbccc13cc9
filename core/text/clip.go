package text

import (
	"fmt"
	"math"

	"github.com/prefer-rlhf/prefer/core/prefs"
)

// A text clip is a prefs.Clip of a text task (Env): its start_state is the prompt's token ids
// followed by one -1 per continuation slot, and its actions are the continuation, one token id
// each. Everything that reads one (the trainer, the TRL export, the hub when a trainer
// publishes clips, the browser's fitter and app) decodes it with ClipLayout.Tokens, and
// everything that writes one encodes it with ClipLayout.Clip.

// MaxVocab bounds a token id where the tokenizer is not at hand (the browser's fitter reads
// clips without it): far above any tokenizer's vocabulary, so that a hostile clip can neither
// overflow the features' hashing nor make a decoder index far out.
const MaxVocab = 1 << 24

// ClipLayout is what a reader knows of a text clip's numbers. A zero field is one it does not
// know: the start state tells where the prompt ends and how many slots follow, and MaxVocab
// bounds the ids.
type ClipLayout struct {
	Prompt int // prompt tokens; 0: the start state's ids up to its first -1
	Length int // continuation slots; 0: those after the prompt in the start state
	Vocab  int // token ids are in [0, Vocab); 0: MaxVocab
}

// Layout is how w's clips are laid out: its prompt length and its tokenizer's vocabulary (a
// world has no continuation length; its tasks do).
func (w *World) Layout() ClipLayout {
	return ClipLayout{Prompt: w.PromptLen(), Vocab: w.Tok.VocabSize()}
}

// ClipError is a clip that is not a text clip of its layout. Field is "start_state" or
// "actions", the clip's JSON field at fault.
type ClipError struct {
	Field   string
	Message string // names the field, and the element at fault, e.g. "actions[2] = 0.5 is ..."
}

func (e *ClipError) Error() string { return "text: " + e.Message }

// Tokens decodes text clip c into its prompt and its continuation. It checks that the prompt's
// numbers are token ids and the slots after it -1 (exactly Length of them when Length is
// known), and that the actions are one token id each, at least one and at most one per slot;
// a failure is a *ClipError.
func (l ClipLayout) Tokens(c *prefs.Clip) (prompt, cont []int, err error) {
	vocab := l.Vocab
	if vocab <= 0 {
		vocab = MaxVocab
	}
	isID := func(v float64) bool { return v == math.Trunc(v) && v >= 0 && v < float64(vocab) }
	bad := func(field, format string, a ...any) error {
		return &ClipError{Field: field, Message: field + fmt.Sprintf(format, a...)}
	}
	s := c.StartState
	p := l.Prompt
	if p <= 0 {
		for p < len(s) && s[p] != -1 {
			p++
		}
	}
	switch {
	case l.Length > 0 && len(s) != p+l.Length:
		return nil, nil, bad("start_state", " must hold %d prompt token ids then %d times -1, not %d numbers", p, l.Length, len(s))
	case len(s) < p:
		return nil, nil, bad("start_state", " must hold %d prompt token ids, not %d numbers", p, len(s))
	}
	prompt = make([]int, p)
	for i, v := range s {
		switch {
		case i < p && !isID(v):
			return nil, nil, bad("start_state", "[%d] = %v is not a token id of a vocabulary of %d", i, v, vocab)
		case i < p:
			prompt[i] = int(v)
		case v != -1:
			return nil, nil, bad("start_state", "[%d] = %v must be -1, a continuation slot", i, v)
		}
	}
	switch slots := len(s) - p; {
	case len(c.Actions) == 0:
		return nil, nil, bad("actions", " must hold at least one token id")
	case len(c.Actions) > slots:
		return nil, nil, bad("actions", " may hold at most %d token ids, one per -1 of start_state", slots)
	}
	cont = make([]int, len(c.Actions))
	for i, a := range c.Actions {
		switch {
		case len(a) != 1:
			return nil, nil, bad("actions", "[%d] holds %d numbers, not one token id", i, len(a))
		case !isID(a[0]):
			return nil, nil, bad("actions", "[%d] = %v is not a token id of a vocabulary of %d", i, a[0], vocab)
		}
		cont[i] = int(a[0])
	}
	return prompt, cont, nil
}

// Clip encodes a prompt and a continuation as a text clip's start state and actions, the
// inverse of Tokens: the prompt, then l.Length times -1 (which must be known, and at least
// len(cont)), as the text env lays out its state.
func (l ClipLayout) Clip(prompt, cont []int) (start []float64, actions [][]float64) {
	start = make([]float64, len(prompt)+l.Length)
	for i := range start {
		start[i] = -1
		if i < len(prompt) {
			start[i] = float64(prompt[i])
		}
	}
	actions = make([][]float64, len(cont))
	for i, id := range cont {
		actions[i] = []float64{float64(id)}
	}
	return start, actions
}
