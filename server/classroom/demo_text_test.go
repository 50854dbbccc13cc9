package classroom

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/prefer-rlhf/prefer/core/prefs"
	"github.com/prefer-rlhf/prefer/core/text"
	"github.com/prefer-rlhf/prefer/server/corpus"
)

// TestDemoRatersOnText: on a text project a demo rater answers from the gold score of the two
// continuations: VADER's sentiment for TextPositive-v0, the letter-e checker for TextNoE-v0.
func TestDemoRatersOnText(t *testing.T) {
	w := text.Installed()
	if w == nil {
		r := rand.New(rand.NewPCG(2, 0))
		adj := []string{"great", "awful", "fine", "slow", "lovely", "terrible"}
		var b strings.Builder
		for range 600 {
			fmt.Fprintf(&b, "The food we had in town was %s and %s, and the room was %s.\n", adj[r.IntN(6)], adj[r.IntN(6)], adj[r.IntN(6)])
		}
		var err error
		if w, err = corpus.NewWorld([]byte(b.String())); err != nil {
			t.Fatal(err)
		}
		if err := text.Register(w); err != nil {
			t.Fatal(err)
		}
	}
	clip := func(name, cont string) prefs.Clip {
		task, _ := text.TaskOf(name)
		ids := w.Tok.Encode(strings.Repeat(cont, 20))[:task.Length]
		start := make([]float64, w.PromptLen()+task.Length)
		for i := range start {
			start[i] = -1
			if i < w.PromptLen() {
				start[i] = float64(w.Prompts[0][i])
			}
		}
		acts := make([][]float64, len(ids))
		for i, id := range ids {
			acts[i] = []float64{float64(id)}
		}
		return prefs.Clip{Env: name, StartState: start, Actions: acts}
	}
	raters, err := DemoRaters(1, 0, "")
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	for _, c := range []struct {
		env, good, bad string
	}{
		{"TextPositive-v0", " great and lovely", " awful and terrible"},
		{"TextNoE-v0", " a fun day at a pub", " the best tree ever"},
	} {
		for _, flip := range []bool{false, true} {
			p := prefs.Pair{ID: "p", Left: clip(c.env, c.good), Right: clip(c.env, c.bad)}
			want := prefs.Left
			if flip {
				p.Left, p.Right, want = p.Right, p.Left, prefs.Right
			}
			got, err := raters[0].Answer(rng, p)
			if err != nil || got != want {
				t.Fatalf("%s: answered %q (%v), want %q", c.env, got, err, want)
			}
		}
	}
}
