package main

import (
	"cmp"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"

	"github.com/prefer-rlhf/prefer/core/env"
	"github.com/prefer-rlhf/prefer/core/loop"
	"github.com/prefer-rlhf/prefer/core/oracle"
	"github.com/prefer-rlhf/prefer/core/overopt"
	"github.com/prefer-rlhf/prefer/core/plot"
	"github.com/prefer-rlhf/prefer/core/reward"
	"github.com/prefer-rlhf/prefer/core/sweep"
)

func init() {
	register("overopt", "learn a reward model, then optimise it long with PPO under each objective: true and learned return against KL, Gao et al.'s fit, the drop from the peak", runOveropt)
}

func runOveropt(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("overopt", flag.ContinueOnError)
	fs.SetOutput(stderr)
	envName := fs.String("env", "CartPole-v1", "environment")
	labels := fs.Int("labels", 0, "labels for the reward model (0: the env's default)")
	seed := fs.Uint64("seed", 1, "first random seed")
	seeds := fs.Int("seeds", 1, "seeds: runs with seed, seed+1, ..., averaged")
	steps := fs.Int("steps", 500000, "PPO env steps on the frozen reward model")
	loopSteps := fs.Int("loop-steps", 0, "env steps of the loop that learns the reward model (0: the env's default)")
	points := fs.Int("points", 20, "measurements along the way")
	objectives := fs.String("objectives", "mean,min,uwo", "PPO's objectives on the ensemble, comma-separated: mean, min, uwo")
	objective := fs.String("objective", "", "one objective (instead of --objectives)")
	lambda := fs.Float64("lambda", 0.5, "λ of the uwo objective")
	members := fs.Int("members", 0, "reward-model ensemble size (0: the default)")
	prior := fs.Float64("prior", 0, priorUsage)
	teacher := fs.String("teacher", "", "B-Pref teacher who labels for the reward model ("+strings.Join(oracle.TeacherNames, ", ")+"; empty: the noiseless rater)")
	klEpisodes := fs.Int("kl-episodes", 8, "fresh episodes per point for the KL and the learned return")
	out := fs.String("out", "", "file prefix: writes PREFIX.json, PREFIX.svg and PREFIX-OBJECTIVE.svg (default overopt-ENV-SEED)")
	asJSON := fs.Bool("json", false, "end with one JSON object on stdout")
	merge := fs.String("merge", "", "comma-separated reports (PREFIX.json) of earlier runs to pool over seeds instead of running: the same env, objectives and settings, no seed twice; only --out and --json go with it")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	bad := func(flag string, err error) int {
		fmt.Fprintf(stderr, "prefer overopt: --%s: %v\n", flag, err)
		return 2
	}
	if *merge != "" {
		var other string
		fs.Visit(func(f *flag.Flag) {
			if f.Name != "merge" && f.Name != "out" && f.Name != "json" && other == "" {
				other = f.Name
			}
		})
		if other != "" {
			return bad(other, fmt.Errorf("does not go with --merge, which pools finished runs"))
		}
		if fs.NArg() > 0 {
			fmt.Fprintf(stderr, "prefer overopt: unexpected argument %q\n", fs.Arg(0))
			return 2
		}
		rep, err := readOveropt(split(*merge))
		if err != nil {
			return bad("merge", err)
		}
		if *out == "" {
			*out = outName("overopt", rep.Env, strconv.FormatUint(rep.seeds[0], 10), "merged")
		}
		return rep.write(*out, *asJSON, stdout, stderr)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "prefer overopt: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if _, err := env.Lookup(*envName); err != nil {
		return bad("env", err)
	}
	objFlag, names := "objectives", split(*objectives)
	if *objective != "" {
		objFlag, names = "objective", []string{*objective}
	}
	var objs []reward.Objective
	for _, n := range names {
		o, err := reward.ParseObjective(n)
		if err != nil {
			return bad(objFlag, err)
		}
		if slices.Contains(objs, o) {
			return bad(objFlag, fmt.Errorf("%s named twice", o))
		}
		objs = append(objs, o)
	}
	switch {
	case len(objs) == 0:
		return bad(objFlag, fmt.Errorf("need at least one objective"))
	case *labels < 0:
		return bad("labels", fmt.Errorf("must not be negative, got %d", *labels))
	case *seeds < 1:
		return bad("seeds", fmt.Errorf("must be at least 1, got %d", *seeds))
	case *loopSteps < 0:
		return bad("loop-steps", fmt.Errorf("must not be negative, got %d", *loopSteps))
	case *steps < 1:
		return bad("steps", fmt.Errorf("must be at least 1, got %d", *steps))
	case *points < overopt.Window:
		return bad("points", fmt.Errorf("must be at least %d, got %d", overopt.Window, *points))
	case !(*lambda >= 0) || math.IsInf(*lambda, 0):
		return bad("lambda", fmt.Errorf("must be finite and >= 0, got %v", *lambda))
	case *members < 0:
		return bad("members", fmt.Errorf("must not be negative, got %d", *members))
	case checkPrior(*prior) != nil:
		return bad("prior", checkPrior(*prior))
	case *klEpisodes < 1:
		return bad("kl-episodes", fmt.Errorf("must be at least 1, got %d", *klEpisodes))
	}
	var tch *oracle.Teacher
	if *teacher != "" {
		t, err := oracle.ParseTeacher(*teacher)
		if err != nil {
			return bad("teacher", err)
		}
		tch = &t
	}
	if *out == "" {
		*out = outName("overopt", *envName, strconv.FormatUint(*seed, 10))
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "prefer overopt: %v\n", err)
		return 1
	}
	runs := make([][][]overopt.Point, len(objs)) // objective, seed, point
	var seedList []uint64
	var used []int
	horizon, ensemble := 0, 0
	for s := 0; s < *seeds; s++ {
		cfg := loop.Defaults(*envName)
		cfg.Seed = *seed + uint64(s)
		if *labels > 0 {
			cfg.Labels = *labels
		}
		if *loopSteps > 0 {
			cfg.Steps, cfg.Rounds = *loopSteps, min(cfg.Rounds, 2)
		}
		if *members > 0 {
			cfg.Reward.Members = *members
		}
		cfg.Reward.Prior = *prior
		cfg.FinalFresh = 0 // the loop's policy is not used: only its reward model is optimised
		cfg.Teacher, ensemble = tch, cfg.Reward.Members
		fmt.Fprintf(stderr, "overopt %s seed %d: the loop with %d labels, then %d PPO steps on the frozen model per objective\n", *envName, cfg.Seed, cfg.Labels, *steps)
		lr, err := loop.Run(cfg, nil)
		if err != nil {
			return fail(err)
		}
		seedList, used = append(seedList, cfg.Seed), append(used, lr.LabelsUsed)
		for i, obj := range objs {
			r, err := lr.Model.WithObjective(obj, *lambda)
			if err != nil {
				return bad("lambda", err)
			}
			// The same initial policy (the trainer's seed) for every objective.
			tr, err := overopt.Trainer(cfg, *steps)
			if err != nil {
				return fail(err)
			}
			if horizon = tr.Config().FixedHorizon; horizon == 0 { // 0: the TimeLimit
				horizon = tr.Spec().MaxEpisodeSteps
			}
			pts, err := overopt.Run(tr, r, lr.Model, overopt.Config{Steps: *steps, Points: *points,
				EvalEpisodes: cfg.CurveEpisodes, KLEpisodes: *klEpisodes, Seed: cfg.Seed},
				func(p overopt.Point) {
					fmt.Fprintf(stderr, "seed %d %-4s steps %8d  KL %8.2f  true %8.1f  learned %8.1f  proxy %8.1f\n",
						cfg.Seed, obj, p.EnvSteps, p.KL, p.TrueReturn, p.LearnedReturn, p.ProxyReturn)
				})
			if err != nil {
				return fail(err)
			}
			runs[i] = append(runs[i], pts)
		}
	}
	rep := overoptReport{overoptSettings: overoptSettings{Env: *envName, Steps: *steps, Points: *points, Teacher: *teacher,
		Lambda: *lambda, Horizon: horizon, KLEpisodes: *klEpisodes, Members: ensemble, Prior: *prior},
		objs: objs, runs: runs, seeds: seedList, labels: used}
	return rep.write(*out, *asJSON, stdout, stderr)
}

// overoptJSON is the report: per objective the averaged curve, each seed's, the peak, the
// drop, its ratio to the mean objective's with a bootstrap interval over seeds, and Gao's fit;
// and the conservation goal (the best conservative drop at most half the mean's). NaN becomes
// null.
func overoptJSON(objs []reward.Objective, sums []*overopt.Summary, runs [][][]overopt.Point, seeds []uint64) map[string]any {
	points := func(pts []overopt.Point) []map[string]any {
		var o []map[string]any
		for _, p := range pts {
			o = append(o, map[string]any{"env_steps": p.EnvSteps, "kl": p.KL, "d": p.D, "true_return": p.TrueReturn,
				"learned_return": p.LearnedReturn, "proxy_return": p.ProxyReturn})
		}
		return o
	}
	meanDrop := math.NaN()
	if i := slices.Index(objs, reward.ObjectiveMean); i >= 0 {
		meanDrop = sums[i].Drop
	}
	var list []map[string]any
	best, bestDrop := "", math.Inf(1)
	var bestCI, bestSeed, bestSeedCI any
	for i, obj := range objs {
		s := sums[i]
		var perSeed []map[string]any
		for k, pts := range runs[i] {
			perSeed = append(perSeed, map[string]any{"seed": seeds[k], "drop": s.SeedDrops[k], "points": points(pts)})
		}
		ratio := math.NaN()
		if meanDrop > 0 {
			ratio = s.Drop / meanDrop
		}
		var ci any // the ratio's 95% bootstrap interval over seeds
		if m := slices.Index(objs, reward.ObjectiveMean); m >= 0 && obj != reward.ObjectiveMean {
			rng := rand.New(rand.NewPCG(seeds[0], 0x6369))
			if lo, hi, ok := overopt.DropRatioCI(rng, runs[m], runs[i], sweep.Resamples, 0.95); ok {
				ci = []float64{lo, hi}
			}
		}
		var sRatio, sCI any // the same by the mean of the per-seed drops
		if m := slices.Index(objs, reward.ObjectiveMean); m >= 0 && obj != reward.ObjectiveMean {
			sRatio, sCI = seedRatio(sums[m].SeedDrops, s.SeedDrops, seeds[0])
		}
		if obj != reward.ObjectiveMean && s.Drop < bestDrop {
			best, bestDrop, bestCI, bestSeed, bestSeedCI = string(obj), s.Drop, ci, sRatio, sCI
		}
		list = append(list, map[string]any{"objective": obj, "points": points(s.Mean), "runs": perSeed, "drop_vs_mean_ci": ci,
			"seed_drop_vs_mean": sRatio, "seed_drop_vs_mean_ci": sCI,
			"peak_true": s.PeakTrue, "peak_d": s.PeakD, "final_true": s.FinalTrue, "drop": s.Drop,
			"seed_drops": s.SeedDrops, "drop_vs_mean": nullable(ratio), "alpha": s.Fit.Alpha, "beta": s.Fit.Beta,
			"fit_ok": s.FitOK, "fit_peak_d": nullable(s.FitPeakD), "fit_peak_true": nullable(s.FitPeakTrue)})
	}
	res := map[string]any{"objectives": list}
	if best != "" && !math.IsNaN(meanDrop) {
		ratio := math.NaN()
		if meanDrop > 0 {
			ratio = bestDrop / meanDrop
		}
		res["conservation"] = map[string]any{"mean_drop": meanDrop, "best": best, "best_drop": bestDrop,
			"ratio": nullable(ratio), "ratio_ci": bestCI, "seed_ratio": bestSeed, "seed_ratio_ci": bestSeedCI,
			"met": meanDrop > 0 && bestDrop <= 0.5*meanDrop}
	}
	return res
}

// byD returns pts in order of d: KL need not grow every interval, and R is a function of d.
func byD(pts []overopt.Point) []overopt.Point {
	pts = slices.Clone(pts)
	slices.SortStableFunc(pts, func(a, b overopt.Point) int { return cmp.Compare(a.D, b.D) })
	return pts
}

// gaoCurve is s's fitted curve on an even grid up to the largest d, initial return added back.
func gaoCurve(s *overopt.Summary) (x, y []float64) {
	top := 0.0
	for _, p := range s.Mean {
		top = math.Max(top, p.D)
	}
	for k := 0; k <= 50; k++ {
		d := top * float64(k) / 50
		x, y = append(x, d), append(y, s.Mean[0].TrueReturn+s.Fit.At(d))
	}
	return x, y
}

// overoptCompareChart draws each objective's seed-averaged true return against d = √KL, with
// Gao's fit dashed in the same colour where it has a peak.
func overoptCompareChart(envName string, seeds int, objs []reward.Objective, sums []*overopt.Summary) []byte {
	c := plot.Chart{
		Title:  fmt.Sprintf("%s, %d seeds: true return", envName, seeds),
		XLabel: "d = √KL from the initial policy (KL per episode)", YLabel: "true return per episode",
	}
	for i, obj := range objs {
		s, col := sums[i], plot.Palette[i%len(plot.Palette)]
		var d, tru []float64
		for _, p := range byD(s.Mean) {
			d, tru = append(d, p.D), append(tru, p.TrueReturn)
		}
		c.Series = append(c.Series, plot.Series{Name: fmt.Sprintf("%s (drop %.1f)", obj, s.Drop), X: d, Y: tru, Color: col})
		if !math.IsNaN(s.FitPeakD) { // a fit that never turns down is not Gao's rise and fall
			fx, fy := gaoCurve(s)
			c.Series = append(c.Series, plot.Series{Name: fmt.Sprintf("%s: Gao et al. fit, peak %.1f at d = %.1f", obj, s.FitPeakTrue, s.FitPeakD),
				X: fx, Y: fy, Color: col, Dash: true})
		}
	}
	return c.SVG()
}

// overoptChart draws one objective's true, proxy and learned return against d = √KL, with
// Gao's fitted curve and its peak where it has one.
func overoptChart(envName string, seeds int, obj reward.Objective, s *overopt.Summary) []byte {
	var d, tru, proxy, learned []float64
	for _, p := range byD(s.Mean) {
		d, tru = append(d, p.D), append(tru, p.TrueReturn)
		proxy, learned = append(proxy, p.ProxyReturn), append(learned, p.LearnedReturn)
	}
	fx, fy := gaoCurve(s)
	c := plot.Chart{
		Title:  fmt.Sprintf("%s, %d seeds: objective %s", envName, seeds, obj),
		XLabel: "d = √KL from the initial policy (KL per episode)", YLabel: "return per episode",
		Series: []plot.Series{
			{Name: "true return", X: d, Y: tru},
			{Name: "learned return (ensemble mean)", X: d, Y: proxy},
		},
	}
	if obj != reward.ObjectiveMean {
		c.Series = append(c.Series, plot.Series{Name: "learned return (" + string(obj) + ", optimised)", X: d, Y: learned})
	}
	if !math.IsNaN(s.FitPeakD) {
		c.Series = append(c.Series, plot.Series{Name: "Gao et al. fit of the true return", X: fx, Y: fy, Dash: true})
		c.HLines = []plot.HLine{{Name: fmt.Sprintf("fitted peak %.1f at d = %.2f", s.FitPeakTrue, s.FitPeakD), Y: s.FitPeakTrue}}
	}
	return c.SVG()
}
