package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"

	"github.com/prefer-rlhf/prefer/core/failure"
	"github.com/prefer-rlhf/prefer/core/ppo"
	"github.com/prefer-rlhf/prefer/core/redteam"
)

func init() {
	register("redteam", "search for clips a reward model rates high and the true reward low (an automated adversary)", runRedteam)
}

// runRedteam is `prefer redteam --env E --reward-model F [--policy P] --seed S [--budget N] --json`.
func runRedteam(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("redteam", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	envName := fs.String("env", "", "environment (required)")
	modelPath := fs.String("reward-model", "", "the reward model file (JSON or binary, as prefer train --reward-model reads) (required)")
	polPath := fs.String("policy", "", "a policy file (prefer train): the reference clips are its, and the search starts from its actions (default: random actions)")
	cfg := redteam.DefaultConfig()
	fs.IntVar(&cfg.Budget, "budget", cfg.Budget, "env steps the search may simulate")
	fs.IntVar(&cfg.Steps, "steps", cfg.Steps, "clip length in env steps")
	fs.IntVar(&cfg.Max, "max", cfg.Max, "stop after this many failures")
	seed := fs.Uint64("seed", 1, "random seed")
	asJSON := fs.Bool("json", false, "write one JSON object on stdout")
	if err := fs.Parse(args); err != nil {
		return flagError(fs, err, stderr)
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "prefer redteam: "+format+"\n", a...)
		return 2
	}
	switch {
	case fs.NArg() > 0:
		return fail("unexpected argument %q", fs.Arg(0))
	case *envName == "":
		return fail("--env is required")
	case *modelPath == "":
		return fail("--reward-model is required")
	case cfg.Budget <= 0 || cfg.Steps <= 0 || cfg.Max <= 0:
		return fail("--budget, --steps and --max must be positive")
	}
	if _, err := redteam.Threshold(*envName, cfg.Steps); err != nil {
		return fail("%v", err)
	}
	m, err := loadRewardModel(*modelPath, *envName)
	if err != nil {
		return fail("%v", err)
	}
	score, err := redteam.ModelScorer(m, *envName)
	if err != nil {
		return fail("%v", err)
	}
	pr := redteam.Problem{Env: *envName, Score: score}
	if *polPath != "" {
		data, err := os.ReadFile(*polPath)
		if err != nil {
			return fail("--policy: %v", err)
		}
		var p ppo.Policy
		if err := p.UnmarshalBinary(data); err != nil {
			return fail("--policy: %s: %v", *polPath, err)
		}
		act, err := failure.PPOPolicy(&p, *envName)
		if err != nil {
			return fail("--policy: %v", err)
		}
		pr.Policy = func(obs []float64, _ *rand.Rand) []float64 { return act(obs) }
	}
	res, err := redteam.Search(pr, cfg, *seed)
	if err != nil {
		return fail("%v", err)
	}
	fmt.Fprintf(stderr, "prefer redteam: %d failures (r̂ > %.3g, true < %.3g); first after %d env steps of %d\n",
		len(res.Pairs), res.RHatBar, res.Threshold, res.Effort, res.Steps)
	out := map[string]any{"env": *envName, "reward_model": *modelPath, "policy": *polPath, "seed": *seed,
		"budget": cfg.Budget, "pairs": res.Pairs, "failures": len(res.Pairs), "effort": res.Effort,
		"steps": res.Steps, "ref_steps": res.RefSteps, "rhat_bar": res.RHatBar, "threshold": res.Threshold}
	if *asJSON {
		if err := json.NewEncoder(stdout).Encode(out); err != nil {
			fmt.Fprintf(stderr, "prefer redteam: %v\n", err)
			return 1
		}
		return 0
	}
	b, _ := json.MarshalIndent(out, "", "  ")
	fmt.Fprintln(stdout, string(b))
	return 0
}
