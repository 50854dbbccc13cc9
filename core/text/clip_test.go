package text

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/prefer-rlhf/prefer/core/prefs"
)

// TestClipTokens: a text clip decodes into its prompt and continuation under each reader's
// layout (the hub's, which knows all; a world's, which knows no continuation length; the
// fitter's, which knows nothing), and each kind of bad clip is a *ClipError naming its field
// and the element at fault.
func TestClipTokens(t *testing.T) {
	hub := ClipLayout{Prompt: 3, Length: 4, Vocab: 10}
	world := ClipLayout{Prompt: 3, Vocab: 10}
	var fitter ClipLayout
	good := func() prefs.Clip {
		return prefs.Clip{Env: "TextPositive-v0", StartState: []float64{5, 0, 9, -1, -1, -1, -1}, Actions: [][]float64{{1}, {9}, {0}}}
	}
	for _, l := range []ClipLayout{hub, world, fitter} {
		c := good()
		p, k, err := l.Tokens(&c)
		if err != nil || !slices.Equal(p, []int{5, 0, 9}) || !slices.Equal(k, []int{1, 9, 0}) {
			t.Errorf("%+v: prompt %v continuation %v, %v", l, p, k, err)
		}
	}

	for _, x := range []struct {
		name   string
		l      ClipLayout
		edit   func(c *prefs.Clip)
		field  string
		reason string // in the message
	}{
		{"short start", hub, func(c *prefs.Clip) { c.StartState = c.StartState[1:] }, "start_state", "3 prompt token ids then 4 times -1"},
		{"long start", hub, func(c *prefs.Clip) { c.StartState = append(c.StartState, -1) }, "start_state", "not 8 numbers"},
		{"no prompt", world, func(c *prefs.Clip) { c.StartState = c.StartState[:2] }, "start_state", "3 prompt token ids, not 2"},
		{"fraction", hub, func(c *prefs.Clip) { c.StartState[1] = 0.5 }, "start_state", "start_state[1] = 0.5 is not a token id"},
		{"negative", world, func(c *prefs.Clip) { c.StartState[0] = -2 }, "start_state", "start_state[0] = -2 is not"},
		{"empty prompt slot", hub, func(c *prefs.Clip) { c.StartState[2] = -1 }, "start_state", "start_state[2] = -1 is not"},
		{"out of vocabulary", hub, func(c *prefs.Clip) { c.StartState[2] = 10 }, "start_state", "a vocabulary of 10"},
		{"NaN", world, func(c *prefs.Clip) { c.StartState[0] = math.NaN() }, "start_state", "start_state[0] = NaN"},
		{"infinite", fitter, func(c *prefs.Clip) { c.StartState[0] = math.Inf(1) }, "start_state", "start_state[0] = +Inf"},
		{"huge", fitter, func(c *prefs.Clip) { c.StartState[0] = MaxVocab }, "start_state", "a vocabulary of 16777216"},
		{"filled slot", hub, func(c *prefs.Clip) { c.StartState[4] = 7 }, "start_state", "start_state[4] = 7 must be -1"},
		{"filled slot, no length", world, func(c *prefs.Clip) { c.StartState[6] = 0 }, "start_state", "start_state[6] = 0 must be -1"},
		{"token after a slot", fitter, func(c *prefs.Clip) { c.StartState[4] = 3 }, "start_state", "start_state[4] = 3 must be -1"},
		{"no action", hub, func(c *prefs.Clip) { c.Actions = nil }, "actions", "at least one"},
		{"more actions than slots", hub, func(c *prefs.Clip) { c.Actions = append(c.Actions, []float64{1}, []float64{2}) }, "actions", "at most 4"},
		{"more actions than slots, no length", world, func(c *prefs.Clip) { c.StartState = c.StartState[:5] }, "actions", "at most 2"},
		{"no slots", fitter, func(c *prefs.Clip) { c.StartState = c.StartState[:3] }, "actions", "at most 0"},
		{"two numbers", hub, func(c *prefs.Clip) { c.Actions[1] = []float64{1, 2} }, "actions", "actions[1] holds 2 numbers"},
		{"no number", fitter, func(c *prefs.Clip) { c.Actions[2] = nil }, "actions", "actions[2] holds 0 numbers"},
		{"fractional action", world, func(c *prefs.Clip) { c.Actions[0][0] = 1.5 }, "actions", "actions[0] = 1.5 is not a token id"},
		{"action out of vocabulary", hub, func(c *prefs.Clip) { c.Actions[2][0] = 10 }, "actions", "actions[2] = 10 is not a token id of a vocabulary of 10"},
		{"negative action", fitter, func(c *prefs.Clip) { c.Actions[2][0] = -1 }, "actions", "actions[2] = -1 is not"},
	} {
		c := good()
		x.edit(&c)
		p, k, err := x.l.Tokens(&c)
		var ce *ClipError
		if !errors.As(err, &ce) || ce.Field != x.field || !strings.HasPrefix(err.Error(), "text: "+x.field) || !strings.Contains(err.Error(), x.reason) {
			t.Errorf("%s: %v, %v, %v; want a %s error with %q", x.name, p, k, err, x.field, x.reason)
		}
	}
}

// TestClipRoundTrip: Clip encodes what Tokens decodes, as the env lays out its state: a
// continuation shorter than the task's length leaves its last slots empty.
func TestClipRoundTrip(t *testing.T) {
	w := testWorld(t)
	task, _ := TaskOf("TextPositive-v0")
	l := w.Layout()
	l.Length = task.Length
	e := NewEnv(w, task, false)
	rng := rand.New(rand.NewPCG(3, 4))
	for n := 1; n <= task.Length; n++ {
		state := e.Reset(rng)
		prompt := l.Prompt
		cont := make([]int, n)
		for i := range cont {
			cont[i] = rng.IntN(w.Tok.VocabSize())
		}
		start, actions := l.Clip(toInts(state[:prompt]), cont)
		if !slices.Equal(start, state) {
			t.Fatalf("Clip's start state %v, the env's %v", start, state)
		}
		c := prefs.Clip{StartState: start, Actions: actions}
		for _, r := range []ClipLayout{l, w.Layout(), {}} {
			p, k, err := r.Tokens(&c)
			if err != nil || !slices.Equal(p, toInts(state[:prompt])) || !slices.Equal(k, cont) {
				t.Fatalf("layout %+v read %v %v (%v), want %v %v", r, p, k, err, state[:prompt], cont)
			}
		}
	}
}

func toInts(v []float64) []int {
	out := make([]int, len(v))
	for i, x := range v {
		out[i] = int(x)
	}
	return out
}
