package main

import (
	"cmp"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"

	"github.com/prefer-rlhf/prefer/core/env"
	"github.com/prefer-rlhf/prefer/core/loop"
	"github.com/prefer-rlhf/prefer/core/overopt"
	"github.com/prefer-rlhf/prefer/core/plot"
	"github.com/prefer-rlhf/prefer/core/reward"
)

func init() {
	register("overopt", "learn a reward model, then optimise it long with PPO: true and learned return against KL, with Gao et al.'s fit", runOveropt)
}

func runOveropt(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("overopt", flag.ContinueOnError)
	fs.SetOutput(stderr)
	envName := fs.String("env", "CartPole-v1", "environment")
	labels := fs.Int("labels", 0, "labels for the reward model (0: the env's default)")
	seed := fs.Uint64("seed", 1, "random seed")
	steps := fs.Int("steps", 500000, "PPO env steps on the frozen reward model")
	loopSteps := fs.Int("loop-steps", 0, "env steps of the loop that learns the reward model (0: the env's default)")
	points := fs.Int("points", 20, "measurements along the way")
	objective := fs.String("objective", "mean", "PPO's objective on the ensemble: mean, min or uwo")
	lambda := fs.Float64("lambda", 0.5, "λ of the uwo objective")
	out := fs.String("out", "", "file prefix: writes PREFIX.json and PREFIX.svg (default overopt-ENV-SEED)")
	asJSON := fs.Bool("json", false, "end with one JSON object on stdout")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	bad := func(flag string, err error) int {
		fmt.Fprintf(stderr, "prefer overopt: --%s: %v\n", flag, err)
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "prefer overopt: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if _, err := env.Lookup(*envName); err != nil {
		return bad("env", err)
	}
	obj, err := reward.ParseObjective(*objective)
	if err != nil {
		return bad("objective", err)
	}
	switch {
	case *labels < 0:
		return bad("labels", fmt.Errorf("must not be negative, got %d", *labels))
	case *loopSteps < 0:
		return bad("loop-steps", fmt.Errorf("must not be negative, got %d", *loopSteps))
	case *steps < 1:
		return bad("steps", fmt.Errorf("must be at least 1, got %d", *steps))
	case *points < 2:
		return bad("points", fmt.Errorf("must be at least 2, got %d", *points))
	case !(*lambda >= 0) || math.IsInf(*lambda, 0):
		return bad("lambda", fmt.Errorf("must be finite and >= 0, got %v", *lambda))
	}
	cfg := loop.Defaults(*envName)
	cfg.Seed = *seed
	if *labels > 0 {
		cfg.Labels = *labels
	}
	if *loopSteps > 0 {
		cfg.Steps, cfg.Rounds = *loopSteps, min(cfg.Rounds, 2)
	}
	if *out == "" {
		*out = "overopt-" + *envName + "-" + strconv.FormatUint(*seed, 10)
	}
	fmt.Fprintf(stderr, "overopt %s seed %d: the loop with %d labels, then %d PPO steps on the frozen model (%s)\n", *envName, *seed, cfg.Labels, *steps, obj)
	lr, err := loop.Run(cfg, nil)
	if err != nil {
		fmt.Fprintf(stderr, "prefer overopt: %v\n", err)
		return 1
	}
	r, err := lr.Model.WithObjective(obj, *lambda)
	if err != nil {
		return bad("lambda", err)
	}
	tr, err := overopt.Trainer(cfg, *steps)
	if err != nil {
		fmt.Fprintf(stderr, "prefer overopt: %v\n", err)
		return 1
	}
	rep, err := overopt.Run(tr, r, overopt.Config{Steps: *steps, Points: *points, EvalEpisodes: cfg.CurveEpisodes, Seed: *seed},
		func(p overopt.Point) {
			fmt.Fprintf(stderr, "steps %8d  KL %8.3f  true %8.1f  learned %8.1f\n", p.EnvSteps, p.KL, p.TrueReturn, p.LearnedReturn)
		})
	if err != nil {
		fmt.Fprintf(stderr, "prefer overopt: %v\n", err)
		return 1
	}
	var pts []map[string]any // NaN (no learned return before the first rollout) as null
	for _, p := range rep.Points {
		pts = append(pts, map[string]any{"env_steps": p.EnvSteps, "kl": p.KL, "d": p.D,
			"true_return": p.TrueReturn, "learned_return": nullable(p.LearnedReturn)})
	}
	b, err := json.Marshal(map[string]any{
		"env": *envName, "seed": *seed, "labels": lr.LabelsUsed, "objective": obj, "points": pts,
		"alpha": rep.Fit.Alpha, "beta": rep.Fit.Beta, "peak_d": nullable(rep.PeakD), "peak_true": nullable(rep.PeakTrue),
		"final_true": rep.FinalTrue, "drop": rep.Drop,
	})
	if err != nil {
		fmt.Fprintf(stderr, "prefer overopt: %v\n", err)
		return 1
	}
	if err := os.WriteFile(*out+".json", append(b, '\n'), 0o644); err != nil {
		fmt.Fprintf(stderr, "prefer overopt: %v\n", err)
		return 1
	}
	if err := os.WriteFile(*out+".svg", overoptChart(*envName, obj, rep), 0o644); err != nil {
		fmt.Fprintf(stderr, "prefer overopt: %v\n", err)
		return 1
	}
	fmt.Fprintf(stderr, "fit R(d) = d(%.3g - %.3g log d): peak true return %.1f at d = %.2f; final %.1f, drop %.1f; wrote %s.json and %s.svg\n",
		rep.Fit.Alpha, rep.Fit.Beta, rep.PeakTrue, rep.PeakD, rep.FinalTrue, rep.Drop, *out, *out)
	if *asJSON {
		fmt.Fprintln(stdout, string(b))
	}
	return 0
}

// overoptChart draws true and learned return against d = √KL, with Gao's fitted curve and
// its peak.
func overoptChart(envName string, obj reward.Objective, rep *overopt.Report) []byte {
	var d, tru, learned, fd, fit []float64
	base := rep.Points[0].TrueReturn
	// Points in order of d: KL need not grow every interval, and R is a function of d.
	pts := slices.Clone(rep.Points)
	slices.SortStableFunc(pts, func(a, b overopt.Point) int { return cmp.Compare(a.D, b.D) })
	for _, p := range pts {
		d = append(d, p.D)
		tru = append(tru, p.TrueReturn)
		learned = append(learned, p.LearnedReturn)
	}
	// The fitted curve on an even grid up to the largest d: d need not grow every interval.
	top := slices.Max(d)
	for k := 0; k <= 50; k++ {
		x := top * float64(k) / 50
		fd = append(fd, x)
		fit = append(fit, base+rep.Fit.At(x))
	}
	c := plot.Chart{
		Title:  fmt.Sprintf("%s: a frozen reward model optimised (%s)", envName, obj),
		XLabel: "d = √KL from the initial policy", YLabel: "return per episode",
		Series: []plot.Series{
			{Name: "true return", X: d, Y: tru},
			{Name: "learned return", X: d, Y: learned},
			{Name: "Gao et al. fit of the true return", X: fd, Y: fit, Dash: true},
		},
	}
	if rep.FitOK {
		c.HLines = []plot.HLine{{Name: fmt.Sprintf("fitted peak %.1f at d = %.2f", rep.PeakTrue, rep.PeakD), Y: rep.PeakTrue}}
	}
	return c.SVG()
}
