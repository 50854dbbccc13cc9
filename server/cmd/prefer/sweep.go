package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/prefer-rlhf/prefer/core/env"
	"github.com/prefer-rlhf/prefer/core/loop"
	"github.com/prefer-rlhf/prefer/core/oracle"
	"github.com/prefer-rlhf/prefer/core/plot"
	"github.com/prefer-rlhf/prefer/core/query"
	"github.com/prefer-rlhf/prefer/core/reward"
	"github.com/prefer-rlhf/prefer/core/sweep"
	"github.com/prefer-rlhf/prefer/server/sweeper"
)

func init() {
	register("sweep", "run teachers × query strategies × seeds of the RLHF loop; summarise each cell with a bootstrap CI", runSweep)
}

func runSweep(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("sweep", flag.ContinueOnError)
	fs.SetOutput(stderr)
	envName := fs.String("env", "CartPole-v1", "environment")
	teachers := fs.String("teachers", "oracle,mistake", "B-Pref teachers, comma-separated: "+strings.Join(oracle.TeacherNames, ", "))
	queries := fs.String("queries", "uniform,disagreement", "query strategies, comma-separated")
	labels := fs.Int("labels", 0, "label budget per run (0: the env's default)")
	seeds := fs.Int("seeds", 3, "seeds 1..K per cell")
	var robust robustFlag
	fs.Var(&robust, "robust", robustUsage)
	fresh := fs.Int("final-fresh", -1, finalFreshUsage)
	objective := fs.String("objective", "mean", "PPO's objective on the ensemble: mean, min or uwo")
	out := fs.String("out", "", "directory for runs.jsonl, anchors.jsonl, summary.jsonl and chart.svg (default sweep-ENV)")
	jobs := fs.Int("jobs", 0, "runs at a time (0: one per CPU)")
	steps := fs.Int("steps", 0, "PPO env steps per run (0: the env's default)")
	rounds := fs.Int("rounds", 0, "train/label rounds per run (0: the env's default)")
	asJSON := fs.Bool("json", false, "print one JSON summary line per cell on stdout")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	bad := func(flag string, err error) int {
		fmt.Fprintf(stderr, "prefer sweep: --%s: %v\n", flag, err)
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "prefer sweep: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if _, err := env.Lookup(*envName); err != nil {
		return bad("env", err)
	}
	ts, qs := split(*teachers), split(*queries)
	for _, t := range ts {
		if _, err := oracle.ParseTeacher(t); err != nil {
			return bad("teachers", err)
		}
	}
	for _, q := range qs {
		if _, err := query.ParseStrategy(q); err != nil {
			return bad("queries", err)
		}
	}
	if len(ts) == 0 || len(qs) == 0 {
		return bad("teachers", fmt.Errorf("need at least one teacher and one query strategy"))
	}
	if _, err := reward.ParseObjective(*objective); err != nil {
		return bad("objective", err)
	}
	if *seeds < 1 {
		return bad("seeds", fmt.Errorf("must be at least 1, got %d", *seeds))
	}
	if *labels < 0 || *steps < 0 || *rounds < 0 || *jobs < 0 {
		return bad("labels", fmt.Errorf("--labels, --steps, --rounds and --jobs must not be negative"))
	}
	if *fresh < -1 {
		return bad("final-fresh", fmt.Errorf("must be -1 (the env's default) or more, got %d", *fresh))
	}
	if *fresh == -1 { // the env's default for the run's steps, kept in each run's key
		n := *steps
		if n == 0 {
			n = loop.Defaults(*envName).Steps
		}
		*fresh = loop.DefaultFinalFresh(*envName, n)
	}
	if *labels == 0 {
		*labels = loop.Defaults(*envName).Labels
	}
	if *out == "" {
		*out = outName("sweep", *envName)
	}
	grid := sweep.Grid(*envName, ts, qs, *labels, *seeds, robust.gridMode(), *objective)
	for i := range grid {
		grid[i].FinalFresh = *fresh
	}
	set := sweeper.Settings{Steps: *steps, Rounds: *rounds}
	if _, err := sweeper.LoopConfig(grid[0], set); err != nil {
		return bad("labels", err)
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		fmt.Fprintf(stderr, "prefer sweep: %v\n", err)
		return 1
	}
	anchors, err := sweeper.NewAnchors(*out)
	if err != nil {
		fmt.Fprintf(stderr, "prefer sweep: %v\n", err)
		return 1
	}
	n := *jobs
	if n == 0 {
		n = runtime.NumCPU()
	}
	start := time.Now()
	fmt.Fprintf(stderr, "sweep %s: %d teachers × %d queries × %d seeds = %d runs, %d labels each, %d at a time, into %s\n",
		*envName, len(ts), len(qs), *seeds, len(grid), *labels, n, *out)
	rn := &sweeper.Runner{Dir: *out, Jobs: n, Run: sweeper.LoopFunc(anchors, set),
		Progress: func(done, total int, r sweep.Result) {
			fmt.Fprintf(stderr, "[%d/%d] %s %s seed %d: return %.1f, normalized %.3f, %.0fs (sweep %.0fs)\n",
				done, total, r.Teacher, r.Query, r.Seed, r.EvalReturn, r.Normalized, r.WallSeconds, time.Since(start).Seconds())
		}}
	results, err := rn.Do(grid)
	if err != nil {
		fmt.Fprintf(stderr, "prefer sweep: %v\n", err)
		return 1
	}
	sums := sweep.Summarize(rand.New(rand.NewPCG(1, 0x626f6f74)), results)
	var lines []byte
	for _, s := range sums {
		b, _ := json.Marshal(s)
		lines = append(append(lines, b...), '\n')
		if *asJSON {
			fmt.Fprintln(stdout, string(b))
		} else {
			fmt.Fprintf(stdout, "%-10s %-22s %4d labels  %2d runs  normalized %.3f  95%% CI [%.3f, %.3f]\n",
				s.Teacher, s.Query, s.Labels, s.Runs, s.NormalizedMean, s.CILow, s.CIHigh)
		}
	}
	if err := os.WriteFile(filepath.Join(*out, "summary.jsonl"), lines, 0o644); err != nil {
		fmt.Fprintf(stderr, "prefer sweep: %v\n", err)
		return 1
	}
	if err := os.WriteFile(filepath.Join(*out, "chart.svg"), sweepChart(*envName, *labels, ts, qs, sums), 0o644); err != nil {
		fmt.Fprintf(stderr, "prefer sweep: %v\n", err)
		return 1
	}
	fmt.Fprintf(stderr, "sweep done in %.0fs; wrote %s\n", time.Since(start).Seconds(), filepath.Join(*out, "{runs,anchors,summary}.jsonl and chart.svg"))
	return 0
}

// sweepChart draws each cell's normalised return with its CI: teachers along x, one bar per
// query strategy.
func sweepChart(envName string, labels int, ts, qs []string, sums []sweep.Summary) []byte {
	c := plot.Bars{
		Title:  fmt.Sprintf("%s, %d labels: mean and 95%% CI over seeds", envName, labels),
		YLabel: "normalised return", Groups: ts,
		HLines: []plot.HLine{{Name: "true-reward PPO", Y: 1}},
	}
	for _, q := range qs {
		s := plot.BarSeries{Name: q}
		for _, t := range ts {
			y, lo, hi := math.NaN(), math.NaN(), math.NaN()
			for _, m := range sums {
				if m.Teacher == t && m.Query == q {
					y, lo, hi = m.NormalizedMean, m.CILow, m.CIHigh
				}
			}
			s.Y, s.Low, s.High = append(s.Y, y), append(s.Low, lo), append(s.High, hi)
		}
		c.Series = append(c.Series, s)
	}
	return c.SVG()
}

// outName is the default name of a command's output files: the parts joined by "-", with an
// env's "/" (checker/MountainCarRock-v0) made "-" so that the name stays in the directory.
func outName(parts ...string) string {
	return strings.ReplaceAll(strings.Join(parts, "-"), "/", "-")
}

// split returns the comma-separated items of s, trimmed, empty ones left out.
func split(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
