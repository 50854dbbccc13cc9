package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"time"

	"github.com/prefer-rlhf/prefer/core/env"
	"github.com/prefer-rlhf/prefer/core/loop"
	"github.com/prefer-rlhf/prefer/core/ppo"
	"github.com/prefer-rlhf/prefer/core/reward"
)

func init() {
	register("train", "train a policy with PPO on an environment's true reward, or on a learned reward model file", runTrain)
	register("eval", "evaluate a saved policy on the standard task (and under a learned reward model file)", runEval)
}

// trainResult is the JSON object that `prefer train --json` ends with.
type trainResult struct {
	Env             string   `json:"env"`
	Seed            uint64   `json:"seed"`
	Config          string   `json:"config"`
	EnvSteps        int      `json:"env_steps"`
	WallSeconds     float64  `json:"wall_seconds"` // training only, without the evaluation
	StepsPerSecond  float64  `json:"steps_per_second"`
	SolvedAtSteps   *int     `json:"solved_at_steps"`   // null if never solved
	SolvedAtSeconds *float64 `json:"solved_at_seconds"` // null if never solved
	EvalReturn      *float64 `json:"eval_return"`       // null with --eval-episodes 0
	EvalEpisodes    int      `json:"eval_episodes"`
	Policy          string   `json:"policy,omitempty"`
	// With --reward-model: the model file, the env eval_return was measured on (a behaviour's
	// checker env), and the return under the learned reward (learnedReturnHelp); absent with
	// --eval-episodes 0 or if not finite.
	RewardModel   string   `json:"reward_model,omitempty"`
	EvalEnv       string   `json:"eval_env,omitempty"`
	LearnedReturn *float64 `json:"learned_return,omitempty"`
}

// trainOptions is one run of `prefer train`.
type trainOptions struct {
	env          string
	config       string // "default" or "cleanrl"
	steps        int    // 0: the config's budget
	seed         uint64
	evalEpisodes int
	progress     io.Writer // nil: silent
	// model, if not nil, replaces the env's reward, in fixed-horizon mode as core/loop trains
	// (Christiano et al. 2017, App. A.1); modelPath names it in the result.
	model     *reward.Model
	modelPath string
}

// configFor returns the named configuration for env.
func configFor(name, envName string) (ppo.Config, error) {
	switch name {
	case "default":
		return ppo.DefaultConfig(envName), nil
	case "cleanrl":
		return ppo.CleanRLConfig(envName), nil
	}
	return ppo.Config{}, fmt.Errorf("unknown --config %q (want default or cleanrl)", name)
}

// learnedConfigFor returns the named configuration for PPO on a learned reward of env: core/loop's
// (the PPO settings measured to learn from preferences, e.g. CartPole on 200-step episodes) or
// CleanRL's, in fixed-horizon mode (the env's TimeLimit unless the config sets a horizon), with
// the step size annealed over core/loop's budget for env.
func learnedConfigFor(name, envName string) (ppo.Config, error) {
	lc := loop.Defaults(envName)
	cfg := lc.PPO
	if name != "default" {
		var err error
		if cfg, err = configFor(name, envName); err != nil {
			return cfg, err
		}
	}
	if cfg.FixedHorizon == 0 {
		e, err := env.Lookup(envName)
		if err != nil {
			return cfg, err
		}
		cfg.FixedHorizon = e.Spec().MaxEpisodeSteps
	}
	cfg.TotalSteps = lc.Steps
	return cfg, nil
}

// trainPolicy trains with o and evaluates the result on the standard task. "Solved" is the
// mean true return of the last 20 finished training episodes reaching the env's threshold; on
// a learned reward it is not judged (the training episodes are fixed-horizon ones). On a
// learned reward the policy is also scored by it (learnedReturns), and eval_return is a
// behaviour's checker score.
func trainPolicy(o trainOptions) (trainResult, *ppo.Policy, error) {
	configOf := configFor
	if o.model != nil {
		configOf = learnedConfigFor
	}
	cfg, err := configOf(o.config, o.env)
	if err != nil {
		return trainResult{}, nil, err
	}
	if o.steps > 0 {
		cfg.TotalSteps = o.steps // the learning rate anneals over the run, as in CleanRL
	}
	tr, err := ppo.New(cfg, o.seed)
	if err != nil {
		return trainResult{}, nil, err
	}
	evalEnv := o.env
	if o.model != nil {
		tr.SetReward(o.model)
		if evalEnv, err = env.ScoredEnv(o.env); err != nil {
			return trainResult{}, nil, err
		}
	}
	threshold := tr.Spec().RewardThreshold
	res := trainResult{Env: o.env, Seed: o.seed, Config: o.config, EvalEpisodes: o.evalEpisodes, RewardModel: o.modelPath}
	if o.model != nil {
		res.EvalEnv = evalEnv
	}
	pl := newProgressLine(o.progress)
	start := time.Now()
	err = tr.Train(cfg.TotalSteps, func(s ppo.Stats) {
		if o.model == nil && res.SolvedAtSteps == nil && s.RecentCount >= 20 && s.RecentReturn >= threshold {
			steps, secs := s.EnvSteps, time.Since(start).Seconds()
			res.SolvedAtSteps, res.SolvedAtSeconds = &steps, &secs
		}
		pl.update(s, res.SolvedAtSteps != nil)
	})
	res.WallSeconds = time.Since(start).Seconds()
	pl.done()
	if err != nil {
		return res, nil, err
	}
	res.EnvSteps = tr.EnvSteps()
	res.StepsPerSecond = float64(res.EnvSteps) / res.WallSeconds
	if o.evalEpisodes > 0 {
		r := ppo.Evaluate(tr.Policy(), evalEnv, o.evalEpisodes, o.seed)
		res.EvalReturn = &r
		if o.model != nil {
			rets, err := ppo.LearnedReturns(tr.Policy(), o.model, o.env, o.evalEpisodes, o.seed)
			if err != nil {
				return res, nil, err
			}
			if l := mean(rets); !math.IsNaN(l) && !math.IsInf(l, 0) {
				res.LearnedReturn = &l
			}
		}
	}
	return res, tr.Policy(), nil
}

// progressLine prints steps, SPS and the recent return: in place with \r on a terminal, else
// a line every few seconds.
type progressLine struct {
	w        io.Writer
	terminal bool
	last     time.Time
	printed  bool
}

func newProgressLine(w io.Writer) *progressLine {
	p := &progressLine{w: w, last: time.Now()}
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			p.terminal = true
		}
	}
	return p
}

func (p *progressLine) update(s ppo.Stats, solved bool) {
	if p.w == nil {
		return
	}
	every := 3 * time.Second
	if p.terminal {
		every = 100 * time.Millisecond
	}
	if time.Since(p.last) < every {
		return
	}
	p.last = time.Now()
	recent := "-"
	if s.RecentCount > 0 {
		recent = fmt.Sprintf("%.1f", s.RecentReturn)
	}
	mark := ""
	if solved {
		mark = " (solved)"
	}
	line := fmt.Sprintf("steps %d  SPS %.0f  episodes %d  return(last %d) %s%s", s.EnvSteps, s.SPS, s.Episodes, s.RecentCount, recent, mark)
	if p.terminal {
		fmt.Fprintf(p.w, "\r%-78s", line)
		p.printed = true
	} else {
		fmt.Fprintln(p.w, line)
	}
}

func (p *progressLine) done() {
	if p.w != nil && p.terminal && p.printed {
		fmt.Fprintln(p.w)
	}
}

// flagError prints a parse error as one line; -h prints the flags.
func flagError(fs *flag.FlagSet, err error, stderr io.Writer) int {
	if errors.Is(err, flag.ErrHelp) {
		fs.SetOutput(stderr)
		fs.PrintDefaults()
		return 0
	}
	fmt.Fprintf(stderr, "prefer %s: %v\n", fs.Name(), err)
	return 2
}

// checkEnvName validates an env name for a one-line usage error.
func checkEnvName(name string) error {
	if name == "" {
		return fmt.Errorf("--env is required (known: %s)", strings.Join(env.Names(), ", "))
	}
	if _, err := env.Lookup(name); err != nil {
		return err
	}
	return nil
}

func runTrain(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	envName := fs.String("env", "", "environment (Gymnasium id), e.g. CartPole-v1")
	steps := fs.Int("steps", 0, "env steps to train (default: the per-env budget of the config)")
	seed := fs.Uint64("seed", 1, "random seed")
	asJSON := fs.Bool("json", false, "end with one JSON object of results on stdout")
	out := fs.String("out", "", "where to write the policy (default policy-ENV-SEED.bin)")
	config := fs.String("config", "default", "hyperparameters: default (Prefer's tuned) or cleanrl")
	episodes := fs.Int("eval-episodes", 100, "fresh episodes of the standard task for eval_return")
	modelPath := fs.String("reward-model", "", "train on this learned reward model (a file the classroom dashboard "+
		"downloads) instead of the env's reward, in fixed-horizon mode with core/loop's PPO settings (--config default) "+
		"and budget; eval_return is then the true reward, or a behaviour's checker score; "+learnedReturnHelp)
	if err := fs.Parse(args); err != nil {
		return flagError(fs, err, stderr)
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "prefer train: "+format+"\n", a...)
		return 2
	}
	switch {
	case fs.NArg() > 0:
		return fail("unexpected argument %q", fs.Arg(0))
	case *steps < 0:
		return fail("--steps must be positive, got %d", *steps)
	case *episodes < 0:
		return fail("--eval-episodes must not be negative, got %d", *episodes)
	}
	if err := checkEnvName(*envName); err != nil {
		return fail("%v", err)
	}
	if _, err := configFor(*config, *envName); err != nil {
		return fail("%v", err)
	}
	var model *reward.Model
	if *modelPath != "" {
		var err error
		if model, err = loadRewardModel(*modelPath, *envName); err != nil {
			return fail("%v", err)
		}
		if _, err := env.ScoredEnv(*envName); err != nil {
			return fail("%v", err)
		}
	} else if err := checkHasReward(*envName, ", or train on a learned reward with --reward-model FILE"); err != nil {
		return fail("%v", err)
	}
	path := *out
	if path == "" {
		path = outName("policy", *envName, fmt.Sprint(*seed)) + ".bin"
	}
	res, pol, err := trainPolicy(trainOptions{env: *envName, config: *config, steps: *steps, seed: *seed,
		evalEpisodes: *episodes, progress: stderr, model: model, modelPath: *modelPath})
	if err != nil {
		fmt.Fprintf(stderr, "prefer train: %v\n", err)
		return 1
	}
	data, err := pol.MarshalBinary()
	if err == nil {
		err = os.WriteFile(path, data, 0o644)
	}
	if err != nil {
		fmt.Fprintf(stderr, "prefer train: writing the policy: %v\n", err)
		return 1
	}
	res.Policy = path
	fmt.Fprintf(stderr, "trained %d steps in %.2fs (%.0f steps/s); %s; %s; policy in %s\n",
		res.EnvSteps, res.WallSeconds, res.StepsPerSecond, solvedText(res), evalText(res), path)
	if res.LearnedReturn != nil {
		fmt.Fprintf(stderr, "learned return %.2f (fixed-horizon episodes under %s)\n", *res.LearnedReturn, res.RewardModel)
	}
	if *asJSON {
		if err := json.NewEncoder(stdout).Encode(res); err != nil {
			return 1
		}
	}
	return 0
}

// checkHasReward refuses a behaviour, whose env has no reward: training or evaluating on it
// would see only zeros. hint ends the message.
func checkHasReward(name, hint string) error {
	e, err := env.Lookup(name)
	if err != nil {
		return err
	}
	if e.Spec().NoReward {
		return fmt.Errorf("%s has no reward: use --env %s%s for its checker's score%s", name, env.CheckerPrefix, name, hint)
	}
	return nil
}

func solvedText(r trainResult) string {
	if r.RewardModel != "" {
		return "solved not judged on a learned reward"
	}
	if r.SolvedAtSteps == nil {
		return "not solved"
	}
	return fmt.Sprintf("solved at %d steps, %.2fs", *r.SolvedAtSteps, *r.SolvedAtSeconds)
}

func evalText(r trainResult) string {
	if r.EvalReturn == nil {
		return "not evaluated"
	}
	on := ""
	if r.EvalEnv != "" && r.EvalEnv != r.Env {
		on = " of " + r.EvalEnv
	}
	return fmt.Sprintf("eval return%s %.1f over %d episodes", on, *r.EvalReturn, r.EvalEpisodes)
}

func runEval(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("eval", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	path := fs.String("policy", "", "a policy file written by prefer train")
	envName := fs.String("env", "", "environment (Gymnasium id) of the standard task")
	episodes := fs.Int("episodes", 100, "fresh episodes")
	seed := fs.Uint64("seed", 1, "random seed of the episodes' starts")
	asJSON := fs.Bool("json", false, "write one JSON object on stdout")
	modelPath := fs.String("reward-model", "", "also report learned_return under this reward model file, to compare "+
		"what the model believes with eval_return; "+learnedReturnHelp)
	if err := fs.Parse(args); err != nil {
		return flagError(fs, err, stderr)
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "prefer eval: "+format+"\n", a...)
		return 2
	}
	switch {
	case fs.NArg() > 0:
		return fail("unexpected argument %q", fs.Arg(0))
	case *path == "":
		return fail("--policy is required")
	case *episodes <= 0:
		return fail("--episodes must be positive, got %d", *episodes)
	}
	if err := checkEnvName(*envName); err != nil {
		return fail("%v", err)
	}
	if err := checkHasReward(*envName, ""); err != nil {
		return fail("%v", err)
	}
	data, err := os.ReadFile(*path)
	if err != nil {
		return fail("%v", err)
	}
	var p ppo.Policy
	if err := p.UnmarshalBinary(data); err != nil {
		return fail("%s: %v", *path, err)
	}
	var model *reward.Model
	if *modelPath != "" {
		if model, err = loadRewardModel(*modelPath, *envName); err != nil {
			return fail("%v", err)
		}
	}
	rets, err := ppo.EvaluateReturns(&p, *envName, *episodes, *seed)
	if err != nil {
		return fail("%v", err)
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, r := range rets {
		lo, hi = min(lo, r), max(hi, r)
	}
	avg := mean(rets)
	out := map[string]any{"env": *envName, "episodes": len(rets), "eval_return": avg, "min": lo, "max": hi}
	var learned float64
	if model != nil {
		lr, err := ppo.LearnedReturns(&p, model, *envName, *episodes, *seed)
		if err != nil {
			return fail("%v", err)
		}
		learned = mean(lr)
		out["reward_model"], out["learned_return"] = *modelPath, learned
		if math.IsNaN(learned) || math.IsInf(learned, 0) {
			out["learned_return"] = nil // JSON has no NaN
		}
	}
	if *asJSON {
		if err := json.NewEncoder(stdout).Encode(out); err != nil {
			fmt.Fprintf(stderr, "prefer eval: %v\n", err)
			return 1
		}
		return 0
	}
	fmt.Fprintf(stdout, "%s: mean return %.2f over %d episodes (min %.2f, max %.2f)\n", *envName, avg, len(rets), lo, hi)
	if model != nil {
		fmt.Fprintf(stdout, "learned return %.2f under %s (fixed-horizon episodes)\n", learned, *modelPath)
	}
	return 0
}
