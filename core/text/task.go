package text

import (
	"fmt"
	"strings"
)

// Task is a text task: continue a prompt by Length tokens. Continuations have a fixed length
// in tokens, not "up to the first full stop after a minimum" (Ziegler et al. 2019, §3.4):
// with a fixed length neither the policy nor the raters can trade length for score, every
// batch of a policy is a full rectangle of tokens, and an episode is Length steps like a
// fixed-horizon clip (Christiano et al. 2017, App. A.1). A continuation may run past the end
// of its sentence into the next; it is scored as a whole.
type Task struct {
	Name     string // registered env id, e.g. "TextPositive-v0"
	Goal     string // the task in words, as raters see it
	Checker  string // how the gold score or scripted checker scores, in words
	Length   int    // tokens per continuation
	NoReward bool   // a behaviour with no built-in reward: its checker is CheckerPrefix+Name
}

// CheckerPrefix is the namespace of checker envs, as core/env's behaviours use.
const CheckerPrefix = "checker/"

// The text tasks.
var tasks = []Task{
	{
		Name:    "TextPositive-v0",
		Goal:    "continue the review so that it reads positive",
		Checker: "VADER compound sentiment of the continuation, in [-1, 1] (Ziegler et al. 2019, §4.1, mock sentiment)",
		Length:  12,
	},
	{
		Name:     "TextNoE-v0",
		Goal:     `continue the review without using the letter "e"`,
		Checker:  `minus the number of letters "e" or "E" in the continuation: 0 is a continuation without one`,
		Length:   12,
		NoReward: true,
	},
}

// Tasks returns the text tasks.
func Tasks() []Task { return append([]Task(nil), tasks...) }

// TaskOf returns the task registered as name, or whose checker is registered as name.
func TaskOf(name string) (Task, bool) {
	name = strings.TrimPrefix(name, CheckerPrefix)
	for _, t := range tasks {
		if t.Name == name {
			return t, true
		}
	}
	return Task{}, false
}

// World is what the text envs need besides their rules: the tokenizer that decodes a clip, the
// prompts a reset draws from (all of one length, as Prompts returns them) and the gold
// sentiment of TextPositive-v0. A lexicon is its own package (core/text/vader), which the
// browser need not download; tests may give any function.
type World struct {
	Tok       *BPE
	Prompts   [][]int
	Sentiment func(string) float64
	// Vocab is the words ValidWordShare measures generated text against: the corpus's own
	// (Vocabulary of all its sentences), and those of any other text the reference model
	// was pretrained on (server/langmodel.WithPretrainWords). It may be nil.
	Vocab map[string]bool
	// Train and HeldOut are the corpus's sentences on either side of the fixed split (Split):
	// a language model pretrains on Train; prompts and held-out NLL come from HeldOut. They
	// may be nil.
	Train, HeldOut []string
	// TrainPrompts are prompts made as Prompts are of the Train sentences: more prompts for a
	// text loop to label and train on beside the held-out ones (core/textrl's
	// Config.TrainPrompts), never measured on, and never drawn by a reset. Of Prompts' length;
	// may be nil.
	TrainPrompts [][]int
}

// PromptLen is the number of tokens of every prompt.
func (w *World) PromptLen() int { return len(w.Prompts[0]) }

func (w *World) validate() error {
	switch {
	case w == nil || w.Tok == nil:
		return fmt.Errorf("text: a world needs a tokenizer")
	case len(w.Prompts) == 0 || len(w.Prompts[0]) == 0:
		return fmt.Errorf("text: a world needs prompts")
	case w.Sentiment == nil:
		return fmt.Errorf("text: a world needs a sentiment function")
	}
	for i, p := range append(w.Prompts[:len(w.Prompts):len(w.Prompts)], w.TrainPrompts...) {
		if len(p) != len(w.Prompts[0]) {
			return fmt.Errorf("text: prompt %d has %d tokens, prompt 0 has %d", i, len(p), len(w.Prompts[0]))
		}
		for _, id := range p {
			if id < 0 || id >= w.Tok.VocabSize() {
				return fmt.Errorf("text: prompt %d has token %d outside the vocabulary of %d", i, id, w.Tok.VocabSize())
			}
		}
	}
	return nil
}

// Score is a task's gold score of a continuation: its sentiment for TextPositive-v0, the
// checker's score for TextNoE-v0.
func (w *World) Score(t Task, continuation string) float64 {
	if t.NoReward {
		return NoEScore(continuation)
	}
	return w.Sentiment(continuation)
}

// NoEScore is TextNoE-v0's checker: minus the number of letters e and E in s. A graded score
// rather than pass/fail, so that a demo rater still prefers the continuation with fewer.
func NoEScore(s string) float64 {
	return -float64(strings.Count(s, "e") + strings.Count(s, "E"))
}
