package text

import (
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/prefer-rlhf/prefer/core/env"
	"github.com/prefer-rlhf/prefer/core/prefs"
)

// toySentiment is the tests' gold score: +1 per word of a tiny positive list, -1 per negative.
func toySentiment(s string) float64 {
	v := 0.0
	for _, w := range Words(s) {
		switch w {
		case "great", "wonderful", "excellent", "good", "amazing", "lovely", "fun", "loved":
			v++
		case "terrible", "awful", "bad", "boring", "horrible", "poor", "sad", "hated":
			v--
		}
	}
	return v
}

var (
	worldOnce sync.Once
	world     *World
)

// testWorld registers the text tasks once per test binary, on the generated corpus.
func testWorld(t *testing.T) *World {
	t.Helper()
	worldOnce.Do(func() {
		corpus := testCorpus(1500, 7)
		tok := Train([]byte(corpus), 400)
		_, held := Split(Sentences([]byte(corpus)))
		world = &World{Tok: tok, Prompts: Prompts(tok, held, 3), Sentiment: toySentiment}
		if err := Register(world); err != nil {
			panic(err)
		}
	})
	return world
}

func TestTextEnvReplay(t *testing.T) {
	w := testWorld(t)
	if err := Register(w); err == nil {
		t.Error("a second Register succeeded")
	}
	for _, name := range []string{"TextPositive-v0", "TextNoE-v0", "checker/TextNoE-v0"} {
		if _, err := env.Lookup(name); err != nil {
			t.Fatal(err)
		}
	}
	e, _ := env.Lookup("TextPositive-v0")
	sp := e.Spec()
	if sp.StateDim != 3+12 || sp.Action.N != w.Tok.VocabSize() || sp.MaxEpisodeSteps != 12 {
		t.Fatalf("spec %+v", sp)
	}
	start := append([]float64(nil), e.Reset(rand.New(rand.NewPCG(1, 1)))...)
	for i := 3; i < len(start); i++ {
		if start[i] != -1 {
			t.Fatalf("start state %v has a continuation", start)
		}
	}
	cont := w.Tok.Encode(" was great and I loved it to be honest.\n")[:12]
	var actions [][]float64
	for _, id := range cont {
		actions = append(actions, []float64{float64(id)})
	}
	for _, name := range []string{"TextPositive-v0", "TextNoE-v0", "checker/TextNoE-v0"} {
		states, rewards, term, err := env.Replay(name, start, actions)
		if err != nil {
			t.Fatal(err)
		}
		if len(states) != 12 || !term[11] || term[10] {
			t.Fatalf("%s: %d states, terminated %v", name, len(states), term)
		}
		prompt, got := w.Split(states[11])
		if got != w.Tok.Decode(cont) || prompt != promptOf(w, start) {
			t.Fatalf("%s: decoded %q + %q", name, prompt, got)
		}
		want := map[string]float64{"TextPositive-v0": toySentiment(got), "TextNoE-v0": 0, "checker/TextNoE-v0": NoEScore(got)}[name]
		if rewards[11] != want || want == 0 && name != "TextNoE-v0" {
			t.Errorf("%s: final reward %v, want %v", name, rewards[11], want)
		}
		for _, r := range rewards[:11] {
			if r != 0 {
				t.Errorf("%s: reward before the last step %v", name, rewards)
			}
		}
	}
	// Bad states: wrong length, not a token, a token after an empty slot.
	bad := [][]float64{start[:5], append([]float64{0.5}, start[1:]...), append(append([]float64(nil), start[:3]...), -1, 5, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1)}
	for _, s := range bad {
		if err := e.SetState(s); err == nil {
			t.Errorf("SetState(%v) accepted", s)
		}
	}
	if _, _, _, err := env.Replay("TextPositive-v0", start, [][]float64{{float64(w.Tok.VocabSize())}}); !errors.Is(err, env.ErrActionSpace) {
		t.Errorf("out-of-vocabulary action: %v", err)
	}
}

// promptOf returns the prompt of a state.
func promptOf(w *World, state []float64) string { p, _ := w.Split(state); return p }

func TestNoEScoreAndSVG(t *testing.T) {
	if NoEScore("a cat ran") != 0 || NoEScore("Ever been here") != -6 {
		t.Error("NoEScore miscounts")
	}
	svg := SVG("The film <was>", " great & fun.", 10)
	if !strings.HasPrefix(svg, "<svg") || !strings.Contains(svg, "&lt;was&gt;") || !strings.Contains(svg, "&amp;") || strings.Count(svg, "<text") < 2 {
		t.Errorf("SVG: %s", svg)
	}
}

func TestSentencesSplitPrompts(t *testing.T) {
	got := Sentences([]byte("Good case.  Excellent value!\nWhy? It broke\n\n  "))
	want := []string{"Good case.", "Excellent value!", "Why?", "It broke"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("Sentences = %q", got)
	}
	s := Sentences([]byte(testCorpus(3000, 8)))
	train, held := Split(s)
	if len(train)+len(held) != len(s) || len(held) < len(s)/20 || len(held) > len(s)/5 {
		t.Fatalf("split %d + %d of %d", len(train), len(held), len(s))
	}
	inHeld := map[string]bool{}
	for _, h := range held {
		inHeld[h] = true
	}
	for _, x := range train {
		if inHeld[x] {
			t.Fatalf("%q is on both sides", x)
		}
	}
	tok := Train([]byte(testCorpus(500, 9)), 350)
	for _, p := range Prompts(tok, held, 4) {
		if len(p) != 4 {
			t.Fatalf("prompt %v", p)
		}
	}
}

func TestTextScoreClip(t *testing.T) {
	w := testWorld(t)
	e, _ := env.Lookup("TextPositive-v0")
	start := append([]float64(nil), e.Reset(rand.New(rand.NewPCG(2, 2)))...)
	cont := w.Tok.Encode(" felt awful and I hated it from the start.\n")[:12]
	var actions [][]float64
	for _, id := range cont {
		actions = append(actions, []float64{float64(id)})
	}
	s := w.Tok.Decode(cont)
	for name, want := range map[string]float64{"TextPositive-v0": toySentiment(s), "TextNoE-v0": NoEScore(s)} {
		got, err := env.ScoreClip(name, start, actions)
		if err != nil || got != want || got == 0 {
			t.Errorf("ScoreClip(%s) = %v, %v; want %v", name, got, err, want)
		}
	}
}

func TestClipSegment(t *testing.T) {
	w := testWorld(t)
	task, _ := TaskOf("TextPositive-v0")
	cont := w.Tok.Encode(" was great.")
	l := w.Layout()
	l.Length = task.Length
	start, actions := l.Clip(w.Prompts[0], cont)
	c := prefs.Clip{Env: task.Name, StartState: start, Actions: actions}
	got, err := DefaultFeatures.ClipSegment(l, &c)
	want := DefaultFeatures.Segment(w.Prompts[0], cont)
	if err != nil || got.Len != len(cont) || !reflect.DeepEqual(got, want) {
		t.Fatalf("ClipSegment = %+v, %v", got, err)
	}
	for i := range got.Len {
		n := 0.0
		for _, v := range got.Obs[i*DefaultFeatures.Dim : (i+1)*DefaultFeatures.Dim] {
			n += v
		}
		if n != 2 {
			t.Errorf("row %d has %v ones, want 2 (token and bigram)", i, n)
		}
	}
	c.Actions = [][]float64{{0.5}}
	if _, err := DefaultFeatures.ClipSegment(l, &c); err == nil {
		t.Error("a fractional token was accepted")
	}
}

func TestMeasure(t *testing.T) {
	w := &World{Sentiment: toySentiment, Vocab: Vocabulary([]string{"the food was great and fun"})}
	task, _ := TaskOf("TextPositive-v0")
	m := w.Measure(task, []string{"x the food was great y", "x was awful z", "a fun day"})
	// Inner words: the food was great / was awful / fun: 6 of 7 in the vocabulary.
	want := Measures{Gold: 1.0 / 3, PositiveShare: 2.0 / 3, FreeOfE: 2.0 / 3, Distinct2: 1, ValidWordShare: 6.0 / 7}
	if math.Abs(m.Gold-want.Gold) > 1e-12 || m.PositiveShare != want.PositiveShare || m.FreeOfE != want.FreeOfE || m.Distinct2 != want.Distinct2 || m.ValidWordShare != want.ValidWordShare {
		t.Errorf("Measure = %+v, want %+v", m, want)
	}
	noe, _ := TaskOf("checker/TextNoE-v0")
	if g := w.Measure(noe, []string{"eee", "a"}).Gold; g != -1.5 {
		t.Errorf("TextNoE gold %v, want -1.5", g)
	}
}

func TestDPOPair(t *testing.T) {
	w := testWorld(t)
	start := make([]float64, 3+12)
	for i := range start {
		start[i] = -1
		if i < 3 {
			start[i] = float64(w.Prompts[0][i])
		}
	}
	clip := func(s string, start []float64) prefs.Clip {
		c := prefs.Clip{Env: "TextPositive-v0", StartState: start}
		for _, id := range w.Tok.Encode(s) {
			c.Actions = append(c.Actions, []float64{float64(id)})
		}
		return c
	}
	p, ok, err := w.DPOPair(clip(" was great.", start), clip(" was bad.", start), prefs.Right)
	if err != nil || !ok || p.Mu != 0 || !slices.Equal(p.Prompt, w.Prompts[0]) || w.Tok.Decode(p.Left) != " was great." || w.Tok.Decode(p.Right) != " was bad." {
		t.Fatalf("DPOPair = %+v, %v, %v", p, ok, err)
	}
	if _, ok, err := w.DPOPair(clip(" a", start), clip(" b", start), prefs.CantTell); ok || err != nil {
		t.Errorf("can't tell: ok %v, err %v", ok, err)
	}
	other := append([]float64(nil), start...)
	other[0] = float64(w.Prompts[0][0] + 1)
	if _, _, err := w.DPOPair(clip(" a", start), clip(" b", other), prefs.Left); err == nil {
		t.Error("clips of different prompts were paired")
	}
	if _, _, err := w.DPOPair(clip(" a", start[:2]), clip(" b", start), prefs.Left); err == nil {
		t.Error("a short start state was accepted")
	}
}

// TestWorldValidatePrompts: a world's prompts, held-out and training alike, are all of one
// length, as a batch of them needs.
func TestWorldValidatePrompts(t *testing.T) {
	tok := Train([]byte(testCorpus(200, 3)), 300)
	w := &World{Tok: tok, Prompts: [][]int{{1, 2}, {3, 4}}, Sentiment: func(string) float64 { return 0 }}
	if err := w.validate(); err != nil {
		t.Fatal(err)
	}
	w.TrainPrompts = [][]int{{5, 6}}
	if err := w.validate(); err != nil {
		t.Fatal(err)
	}
	w.TrainPrompts = append(w.TrainPrompts, []int{7, 8, 9})
	if err := w.validate(); err == nil || !strings.Contains(err.Error(), "prompt 3 has 3 tokens") {
		t.Errorf("a training prompt of another length: %v", err)
	}
	if len(w.Prompts) != 2 {
		t.Errorf("validate changed the prompts: %v", w.Prompts)
	}
}
