// Package overopt measures reward-model over-optimisation (Gao et al. 2022, "Scaling Laws for
// Reward Model Overoptimization"): PPO trains long on a reward model that is no longer
// refitted, and at intervals the policy's true return, its return under the learned reward
// and its KL from the initial policy are recorded (this file); the curves of several seeds are
// averaged, the true return against d = √KL is fitted with R(d) = d(α - β log d) (core/sweep's
// Gao), and the drop from the peak true return is measured (summary.go). Comparing the drop
// under the ensemble's mean with that under a conservative objective (the worst case, or the
// uncertainty-weighted mean) is Coste et al. 2023's experiment ("Reward Model Ensembles Help
// Mitigate Overoptimization", §5).
package overopt

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/prefer-rlhf/prefer/core/env"
	"github.com/prefer-rlhf/prefer/core/ppo"
)

// Point is one measurement of the policy being optimised.
type Point struct {
	EnvSteps int `json:"env_steps"`
	// KL is KL(π ‖ π_init) per episode: the exact per-step KL of the action distributions
	// (ppo.PolicyKL) summed over the states of a fresh fixed-horizon episode of π, sampling
	// its actions, and averaged over the measurement's episodes. Gao et al. measure the KL of
	// whole samples, which is this sum.
	KL float64 `json:"kl"`
	D  float64 `json:"d"` // √KL
	// TrueReturn is the mean true return of fresh episodes of the standard task, acting
	// deterministically (ppo.Evaluate).
	TrueReturn float64 `json:"true_return"`
	// LearnedReturn is the reward PPO maximises (the objective on the ensemble), summed over
	// each of the same fresh fixed-horizon episodes as KL and averaged over them.
	LearnedReturn float64 `json:"learned_return"`
	// ProxyReturn is the same episodes' return under the ensemble's mean, the proxy reward
	// model of Gao et al.: the one number comparable across objectives. It equals
	// LearnedReturn under the mean objective.
	ProxyReturn float64 `json:"proxy_return"`
}

// Config is what Run needs beyond the trainer.
type Config struct {
	// Steps is the number of PPO env steps on the frozen reward.
	Steps int
	// Points is the number of measurements, evenly spread over Steps, after one at the start.
	Points int
	// EvalEpisodes is the number of episodes of each true-return measurement.
	EvalEpisodes int
	// KLEpisodes is the number of fresh fixed-horizon episodes of each KL and learned-return
	// measurement.
	KLEpisodes int
	// Seed fixes the evaluation episodes; every point measures from the same starts.
	Seed uint64
}

// Run trains tr on r (which must not change meanwhile) for cfg.Steps env steps and returns
// cfg.Points+1 measurements, the first of tr's policy at the start, which is the initial
// policy the KL is measured from. proxy is the reward ProxyReturn sums (the ensemble's mean);
// nil means r. progress, if not nil, sees each point as it is measured.
func Run(tr *ppo.Trainer, r, proxy ppo.Reward, cfg Config, progress func(Point)) ([]Point, error) {
	if cfg.Steps < 1 || cfg.Points < 2 || cfg.EvalEpisodes < 1 || cfg.KLEpisodes < 1 {
		return nil, fmt.Errorf("overopt: need Steps >= 1, Points >= 2, EvalEpisodes >= 1 and KLEpisodes >= 1")
	}
	if proxy == nil {
		proxy = r
	}
	pc := tr.Config()
	initial := tr.Policy().Clone()
	tr.SetReward(r)
	var pts []Point
	measure := func() error {
		pt, err := measure(tr.Policy(), initial, r, proxy, pc.Env, pc.FixedHorizon, cfg)
		if err != nil {
			return err
		}
		pt.EnvSteps = tr.EnvSteps()
		pts = append(pts, pt)
		if progress != nil {
			progress(pt)
		}
		return nil
	}
	if err := measure(); err != nil {
		return nil, err
	}
	start := tr.EnvSteps()
	for k := 1; k <= cfg.Points; k++ {
		// Train to the k-th target rather than for a share of Steps: Train runs whole
		// rollouts, and shares rounded up each time would add up past Steps.
		if steps := start + k*cfg.Steps/cfg.Points - tr.EnvSteps(); steps > 0 {
			if err := tr.Train(steps, nil); err != nil {
				return nil, err
			}
		}
		if err := measure(); err != nil {
			return nil, err
		}
	}
	return pts, nil
}

// measure rolls cfg.KLEpisodes fresh episodes of p in envName's fixed-horizon mode (horizon
// steps; 0: the TimeLimit), as PPO trains, sampling p's actions, and measures the KL from
// initial and the two learned returns on them; the true return comes from ppo.Evaluate.
func measure(p, initial *ppo.Policy, r, proxy ppo.Reward, envName string, horizon int, cfg Config) (Point, error) {
	e, err := p.Fits(envName)
	if err != nil {
		return Point{}, err
	}
	fh, err := env.FixedHorizon(e, horizon)
	if err != nil {
		return Point{}, fmt.Errorf("overopt: %w", err)
	}
	H, od, ad := fh.Spec().MaxEpisodeSteps, p.ObsDim, p.Action.Dim()
	n := cfg.KLEpisodes * H
	obs, act, next := make([]float64, 0, n*od), make([]float64, 0, n*ad), make([]float64, 0, n*od)
	for i := 0; i < cfg.KLEpisodes; i++ {
		rng := rand.New(rand.NewPCG(cfg.Seed, 0x6b6c+uint64(i)))
		o := fh.Reset(ppo.EvalRand(cfg.Seed, i))
		for t := 0; t < H; t++ {
			a := p.Act(o, rng, false)
			obs = append(obs, o...)
			act = append(act, a...)
			o, _, _ = fh.Step(a)
			next = append(next, o...)
		}
	}
	kl, err := ppo.PolicyKL(p, initial, obs)
	if err != nil {
		return Point{}, err
	}
	// Every episode has H steps, so the mean of the per-episode sums is H × the per-step mean.
	pt := Point{KL: kl * float64(H)}
	pt.D = math.Sqrt(pt.KL)
	sum := func(rw ppo.Reward) float64 {
		out := make([]float64, n)
		rw.Rewards(obs, act, next, n, out)
		s := 0.0
		for _, v := range out {
			s += v
		}
		return s / float64(cfg.KLEpisodes)
	}
	pt.LearnedReturn, pt.ProxyReturn = sum(r), sum(proxy)
	pt.TrueReturn = ppo.Evaluate(p, envName, cfg.EvalEpisodes, cfg.Seed^0x0e7a)
	if math.IsNaN(pt.TrueReturn) {
		return Point{}, fmt.Errorf("overopt: cannot evaluate the policy on %s", envName)
	}
	return pt, nil
}
