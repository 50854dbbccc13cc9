package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/prefer-rlhf/prefer/core/env"
	"github.com/prefer-rlhf/prefer/core/loop"
	"github.com/prefer-rlhf/prefer/core/oracle"
	"github.com/prefer-rlhf/prefer/core/plot"
	"github.com/prefer-rlhf/prefer/core/query"
	"github.com/prefer-rlhf/prefer/core/reward"
)

func init() {
	register("experiment", "run the RLHF loop headless with a synthetic rater; write a report and a plot", runExperiment)
}

func runExperiment(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	if isTextEnv(args) {
		return runTextExperiment(args, stdout, stderr)
	}
	fs := flag.NewFlagSet("experiment", flag.ContinueOnError)
	fs.SetOutput(stderr)
	envName := fs.String("env", "CartPole-v1", "environment")
	labels := fs.Int("labels", 0, "label budget: comparisons asked of the synthetic rater (0: the env's default)")
	seed := fs.Uint64("seed", 1, "random seed")
	noise := fs.Float64("noise", 0, "rater error rate: chance of a random left/right answer, in [0, 1]")
	temp := fs.Float64("temperature", 0, "rater Boltzmann temperature (0: always the better clip)")
	q := fs.String("query", "disagreement", "pair selection: random (uniform), disagreement, entropy, infogain, kcenter, kcenter_disagreement or kcenter_entropy")
	teacher := fs.String("teacher", "", "a B-Pref teacher instead of the --noise/--temperature rater: oracle, stoc, mistake, skip, myopic or equal")
	var robust robustFlag
	fs.Var(&robust, "robust", robustUsage)
	objective := fs.String("objective", "mean", "PPO's objective on the ensemble: mean, min or uwo")
	prior := fs.Float64("prior", 0, priorUsage)
	fresh := fs.Int("final-fresh", -1, finalFreshUsage)
	keep := fs.Int("keep", 0, "guard PPO as the hub does: keep an update only if the return under r̂ over this many episodes did not fall (0: off)")
	steps := fs.Int("steps", 0, "PPO env steps in all (0: the env's default)")
	rounds := fs.Int("rounds", 0, "train/label rounds (0: default)")
	clip := fs.Int("clip-steps", 0, "clip length in env steps (0: the env's default, about 1.5 s of env time unless tuned)")
	adversarial := fs.Bool("adversarial", false, "after the labelled rounds, adversarial rounds: an automated adversary's failures are labelled and the reward model refitted")
	advRounds := fs.Int("adversarial-rounds", 2, "adversarial rounds with --adversarial")
	advRandom := fs.Bool("adversary-random-refs", false, "the adversary's reference clips (its r̂ bar and first generation) are a random policy's, not the policy's")
	advMax := fs.Int("adversary-failures", 0, "failures each adversary search stops at, each one a labelled pair (0: the loop's default)")
	advBudget := fs.Int("adversary-budget", 0, "env steps each adversary search may simulate (0: core/redteam's default)")
	out := fs.String("out", "", "report file prefix: writes PREFIX.json and PREFIX.svg (default experiment-ENV-SEED)")
	asJSON := fs.Bool("json", false, "end with one JSON object on stdout")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "prefer experiment: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if _, err := env.Lookup(*envName); err != nil {
		fmt.Fprintf(stderr, "prefer experiment: --env: %v\n", err)
		return 2
	}
	strategy, err := query.ParseStrategy(*q)
	if err != nil {
		fmt.Fprintf(stderr, "prefer experiment: --query: %v\n", err)
		return 2
	}
	cfg := loop.Defaults(*envName)
	cfg.Seed = *seed
	if *teacher != "" {
		t, err := oracle.ParseTeacher(*teacher)
		if err != nil {
			fmt.Fprintf(stderr, "prefer experiment: --teacher: %v\n", err)
			return 2
		}
		cfg.Teacher = &t
	}
	if cfg.Objective, err = reward.ParseObjective(*objective); err != nil {
		fmt.Fprintf(stderr, "prefer experiment: --objective: %v\n", err)
		return 2
	}
	cfg.Reward.Robust, cfg.Reward.RobustMode = robust.on, robust.mode
	if err := checkPrior(*prior); err != nil {
		fmt.Fprintf(stderr, "prefer experiment: --prior: %v\n", err)
		return 2
	}
	cfg.Reward.Prior = *prior
	if *keep < 0 {
		fmt.Fprintf(stderr, "prefer experiment: --keep must not be negative, got %d\n", *keep)
		return 2
	}
	cfg.KeepEpisodes = *keep
	if *fresh < -1 {
		fmt.Fprintf(stderr, "prefer experiment: --final-fresh must be -1 (the env's default) or more, got %d\n", *fresh)
		return 2
	}
	if *labels != 0 {
		cfg.Labels = *labels
	}
	cfg.Rater.ErrorRate, cfg.Rater.Temperature = *noise, *temp
	cfg.Query.Strategy = strategy
	if *clip != 0 {
		cfg.ClipSteps = *clip
	}
	if *steps > 0 {
		cfg.Steps = *steps
	}
	if *rounds > 0 {
		cfg.Rounds = *rounds
	}
	cfg.FinalFresh = *fresh
	if *fresh == -1 {
		cfg.FinalFresh = loop.DefaultFinalFresh(*envName, cfg.Steps)
	}
	if *adversarial {
		if *advRounds < 1 {
			fmt.Fprintf(stderr, "prefer experiment: --adversarial-rounds must be at least 1, got %d\n", *advRounds)
			return 2
		}
		cfg.AdversarialRounds, cfg.AdversaryRandomRefs = *advRounds, *advRandom
	}
	if *advMax < 0 {
		fmt.Fprintf(stderr, "prefer experiment: --adversary-failures must not be negative, got %d\n", *advMax)
		return 2
	} else if *advMax > 0 {
		cfg.Adversary.Max = *advMax
	}
	if *advBudget < 0 {
		fmt.Fprintf(stderr, "prefer experiment: --adversary-budget must not be negative, got %d\n", *advBudget)
		return 2
	} else if *advBudget > 0 {
		cfg.Adversary.Budget = *advBudget
	}
	if err := cfg.Validate(); err != nil {
		fmt.Fprintf(stderr, "prefer experiment: %v\n", err)
		return 2
	}
	if *out == "" {
		*out = outName("experiment", *envName, strconv.FormatUint(*seed, 10))
	}

	fmt.Fprintf(stderr, "experiment %s seed %d: %d labels (%s, noise %g), %d env steps in %d rounds\n",
		*envName, *seed, cfg.Labels, strategy, *noise, cfg.Steps, cfg.Rounds)
	rep, err := loop.Run(cfg, func(p loop.Point) {
		fmt.Fprintf(stderr, "round %2d/%d  steps %7d  labels %4d  true return %8.1f  reward val acc %.3f  %5.1fs\n",
			p.Round, cfg.Rounds, p.EnvSteps, p.Labels, p.TrueReturn, p.ValAccuracy, p.Seconds)
	})
	if err != nil {
		fmt.Fprintf(stderr, "prefer experiment: %v\n", err)
		return 1
	}
	report, _ := json.MarshalIndent(rep, "", "  ")
	if err := os.WriteFile(*out+".json", append(report, '\n'), 0o644); err != nil {
		fmt.Fprintf(stderr, "prefer experiment: %v\n", err)
		return 1
	}
	if err := os.WriteFile(*out+".svg", curvePlot(rep), 0o644); err != nil {
		fmt.Fprintf(stderr, "prefer experiment: %v\n", err)
		return 1
	}
	// The final policy and reward model, as prefer eval, prefer redteam and prefer
	// failure-rate read them.
	pol, err := rep.Policy.MarshalBinary()
	if err == nil {
		err = os.WriteFile(*out+"-policy.bin", pol, 0o644)
	}
	if err == nil {
		var m []byte
		if m, err = rep.Model.MarshalBinary(); err == nil {
			err = os.WriteFile(*out+"-reward.bin", m, 0o644)
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "prefer experiment: %v\n", err)
		return 1
	}
	fmt.Fprintf(stderr, "eval return %.1f (random policy %.1f), %d labels, reward model val accuracy %.3f; wrote %s.{json,svg} and %s-{policy,reward}.bin\n",
		rep.EvalReturn, rep.RandomReturn, rep.LabelsUsed, rep.RewardModelValAccuracy, *out, *out)
	if a := rep.Adversarial; a != nil {
		fmt.Fprintf(stderr, "adversarial: %d rounds, failures found %v, effort to the first failure %d -> %v env steps after each round (-1: none in %d), held-out accuracy %.3f -> %.3f\n",
			a.Rounds, a.FailuresFound, a.EffortBefore, a.EffortAfterRound, a.AdversaryBudget, a.AccuracyBefore, a.AccuracyAfter)
	}
	if *asJSON {
		m := map[string]any{
			"env": rep.Env, "seed": rep.Seed, "query": rep.Query, "noise": rep.Noise,
			"labels_used": rep.LabelsUsed, "env_steps": rep.EnvSteps, "eval_return": rep.EvalReturn,
			"random_return": rep.RandomReturn, "reward_model_val_accuracy": nullable(rep.RewardModelValAccuracy),
			"wall_seconds": rep.WallSeconds, "teacher": *teacher, "robust": robust.on, "robust_mode": robust.gridMode(), "objective": *objective,
		}
		if *keep > 0 {
			m["keep"], m["updates_not_kept"], m["policies_back"] = *keep, rep.NotKept, rep.Back
		}
		if *prior > 0 {
			m["prior"] = *prior
		}
		if rep.Fresh != nil {
			m["final_fresh"] = rep.Fresh
		}
		if a := rep.Adversarial; a != nil {
			m["rounds"], m["failures_found"], m["effort_before"], m["effort_after"] = a.Rounds, a.FailuresFound, a.EffortBefore, a.EffortAfter
			m["adversary_budget"], m["accuracy_before"], m["accuracy_after"] = a.AdversaryBudget, a.AccuracyBefore, a.AccuracyAfter
			m["heldout_pairs"], m["adversarial_labels"], m["effort_after_round"] = a.HeldOutPairs, a.Labels, a.EffortAfterRound
		}
		b, _ := json.Marshal(m)
		fmt.Fprintln(stdout, string(b))
	}
	return 0
}

// curvePlot draws true return against env steps, with the random policy's return and the
// env's threshold as references.
func curvePlot(rep *loop.Report) []byte {
	var xs, ys []float64
	for _, p := range rep.Curve {
		xs = append(xs, float64(p.EnvSteps))
		ys = append(ys, p.TrueReturn)
	}
	c := plot.Chart{
		Title:  fmt.Sprintf("%s: RLHF with %d labels (%s queries, seed %d)", rep.Env, rep.LabelsUsed, rep.Query, rep.Seed),
		XLabel: "env steps", YLabel: "true return",
		Series: []plot.Series{{Name: "policy (true reward)", X: xs, Y: ys}},
		HLines: []plot.HLine{{Name: "random policy", Y: rep.RandomReturn}},
	}
	if e, err := env.Lookup(rep.Env); err == nil {
		if t := e.Spec().RewardThreshold; t == t {
			c.HLines = append(c.HLines, plot.HLine{Name: "solved", Y: t})
		}
	}
	return c.SVG()
}

// nullable returns nil for NaN (JSON has no NaN), else v.
func nullable(v float64) any {
	if v != v {
		return nil
	}
	return v
}
