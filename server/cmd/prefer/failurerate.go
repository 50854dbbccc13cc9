package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/prefer-rlhf/prefer/core/failure"
	"github.com/prefer-rlhf/prefer/core/ppo"
)

func init() {
	register("failure-rate", "estimate a policy's rare failure rate: Monte Carlo with an exact interval, and importance sampling guided by weaker policies", runFailureRate)
}

// runFailureRate is `prefer failure-rate --policy P --env E [--weak W1,W2] --json`.
func runFailureRate(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("failure-rate", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	path := fs.String("policy", "", "the policy file (prefer train) whose failure rate is estimated (required)")
	envName := fs.String("env", "", "environment with a failure event: "+strings.Join(failure.EventEnvs(), ", "))
	weak := fs.String("weak", "", "comma-separated weaker policy files whose failures train the predictor "+
		"(default: the policy itself under pushes 1.5x larger)")
	push := fs.Float64("push", 0, "the pushes' standard deviation (0: the event's default)")
	mcEpisodes := fs.Int("episodes", 100000, "Monte Carlo episodes (0: skip Monte Carlo)")
	is := failure.DefaultISConfig()
	fs.IntVar(&is.Episodes, "is-episodes", is.Episodes, "importance-sampling episodes of the policy (0: skip)")
	fs.IntVar(&is.TrainEpisodes, "train-episodes", is.TrainEpisodes, "episodes of each weaker policy for the predictor")
	fs.IntVar(&is.Pool, "pool", is.Pool, "candidates drawn for the proposal")
	seed := fs.Uint64("seed", 1, "random seed")
	asJSON := fs.Bool("json", false, "write one JSON object on stdout")
	if err := fs.Parse(args); err != nil {
		return flagError(fs, err, stderr)
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "prefer failure-rate: "+format+"\n", a...)
		return 2
	}
	switch {
	case fs.NArg() > 0:
		return fail("unexpected argument %q", fs.Arg(0))
	case *path == "":
		return fail("--policy is required")
	case *mcEpisodes < 0 || is.Episodes < 0 || is.TrainEpisodes < 0 || is.Pool <= 0:
		return fail("--episodes, --is-episodes and --train-episodes must be >= 0 and --pool > 0")
	case *mcEpisodes == 0 && is.Episodes == 0:
		return fail("nothing to do: --episodes and --is-episodes are both 0")
	}
	ev, err := failure.EventFor(*envName, *push)
	if err != nil {
		return fail("%v", err)
	}
	load := func(file string) (failure.Policy, error) {
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, err
		}
		var p ppo.Policy
		if err := p.UnmarshalBinary(data); err != nil {
			return nil, fmt.Errorf("%s: %v", file, err)
		}
		return failure.PPOPolicy(&p, *envName)
	}
	pol, err := load(*path)
	if err != nil {
		return fail("%v", err)
	}
	target := failure.EnvProblem(ev, pol)
	// A progress line on stderr, rewritten in place: a reference run takes most of an hour.
	progress := func(what string) func(done, total, failures int) {
		var t0 time.Time // the first report's: the stage may start long after its Problem is made
		first := 0
		return func(done, total, failures int) {
			if t0.IsZero() {
				t0, first = time.Now(), done
			}
			el := time.Since(t0).Seconds()
			left := 0.0
			if done > first {
				left = el / float64(done-first) * float64(total-done)
			}
			fmt.Fprintf(stderr, "\rprefer failure-rate: %s %d/%d episodes, %d failures, %.0f s, %.0f s left ", what, done, total, failures, el, left)
			if done == total {
				fmt.Fprintln(stderr)
			}
		}
	}
	target.Progress = progress("Monte Carlo")
	var weakProblems []failure.Problem
	predictorFrom := "weaker policies: " + *weak
	if *weak == "" {
		harder, _ := failure.EventFor(*envName, 1.5*ev.PushStd)
		weakProblems = append(weakProblems, failure.EnvProblem(harder, pol))
		weakProblems[0].Progress = progress("predictor's episodes")
		predictorFrom = "the policy under pushes 1.5x larger"
	} else {
		for _, f := range strings.Split(*weak, ",") {
			w, err := load(strings.TrimSpace(f))
			if err != nil {
				return fail("--weak: %v", err)
			}
			weakProblems = append(weakProblems, failure.EnvProblem(ev, w))
			weakProblems[len(weakProblems)-1].Progress = progress("predictor's episodes of " + f)
		}
	}

	out := map[string]any{"env": *envName, "event": ev.Description, "policy": *path, "seed": *seed}
	if *mcEpisodes > 0 {
		fmt.Fprintf(stderr, "prefer failure-rate: Monte Carlo, %d episodes ...\n", *mcEpisodes)
		t0 := time.Now()
		mc, err := failure.MonteCarlo(target, *mcEpisodes, *seed)
		if err != nil {
			return fail("%v", err)
		}
		out["mc_estimate"], out["mc_ci"], out["mc_episodes"], out["mc_failures"] = mc.P, []float64{mc.Lo, mc.Hi}, mc.Episodes, mc.Failures
		out["mc_seconds"] = time.Since(t0).Seconds()
		fmt.Fprintf(stderr, "prefer failure-rate: Monte Carlo %.3g [%.3g, %.3g], %d failures in %.1f s\n", mc.P, mc.Lo, mc.Hi, mc.Failures, time.Since(t0).Seconds())
	}
	if is.Episodes > 0 {
		fmt.Fprintf(stderr, "prefer failure-rate: importance sampling, predictor from %s (%d episodes each), %d episodes ...\n", predictorFrom, is.TrainEpisodes, is.Episodes)
		target.Progress = progress("importance sampling")
		t0 := time.Now()
		r, err := failure.ImportanceSampling(target, weakProblems, is, *seed)
		if err != nil {
			return fail("%v", err)
		}
		out["is_estimate"], out["is_ci"], out["is_episodes"], out["is_failures"] = r.P, []float64{r.Lo, r.Hi}, r.Episodes, r.Failures
		out["is_train_episodes"], out["is_train_failures"], out["is_predictor_from"] = r.TrainEpisodes, r.TrainFailures, predictorFrom
		out["is_seconds"] = time.Since(t0).Seconds()
		fmt.Fprintf(stderr, "prefer failure-rate: importance sampling %.3g [%.3g, %.3g], %d failures in %.1f s\n", r.P, r.Lo, r.Hi, r.Failures, time.Since(t0).Seconds())
	}
	if *asJSON {
		if err := json.NewEncoder(stdout).Encode(out); err != nil {
			fmt.Fprintf(stderr, "prefer failure-rate: %v\n", err)
			return 1
		}
		return 0
	}
	b, _ := json.MarshalIndent(out, "", "  ")
	fmt.Fprintln(stdout, string(b))
	return 0
}
