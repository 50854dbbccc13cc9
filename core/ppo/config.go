// Package ppo trains policies with proximal policy optimisation, PPO-clip (Schulman et al. 2017,
// "Proximal Policy Optimization Algorithms"), with generalised advantage estimation (Schulman et
// al. 2016), categorical and diagonal-Gaussian policies, an optional KL penalty to a reference
// policy (Ziegler et al. 2019) and a pluggable reward, so that a reward model learned from human
// preferences (Christiano et al. 2017) can replace the environment's reward.
//
// The structure follows CleanRL's ppo.py and ppo_continuous_action.py: one Config with every
// hyperparameter, a rollout, GAE, then epochs of minibatch updates on the clipped objective.
// Environments are stepped in parallel shards and gradients are computed in parallel shards
// with a fixed reduction order, so a seed gives bit-identical results.
package ppo

import (
	"fmt"
	"math"
	"runtime"

	"github.com/prefer-rlhf/prefer/core/env"
	"github.com/prefer-rlhf/prefer/core/nn"
)

// Config holds every hyperparameter of a PPO run. DefaultConfig and CleanRLConfig fill it.
type Config struct {
	// Env is the Gymnasium id of the environment, e.g. "CartPole-v1" (core/env registry).
	Env string

	// NumEnvs is the number of environments stepped in lockstep (CleanRL num_envs). > 0.
	NumEnvs int
	// NumSteps is the number of steps per environment in one rollout (CleanRL num_steps). > 0.
	// A rollout is the batch of NumEnvs×NumSteps transitions behind one update.
	NumSteps int
	// NumMinibatches splits the batch for the gradient steps (CleanRL num_minibatches);
	// it must divide NumEnvs×NumSteps.
	NumMinibatches int
	// UpdateEpochs is the number of passes over the batch per update (K in Schulman et al.
	// 2017, Algorithm 1; CleanRL update_epochs). > 0.
	UpdateEpochs int

	// LearningRate is Adam's step size (CleanRL learning_rate).
	LearningRate float64
	// AnnealLR decays the step size linearly to 0 over TotalSteps env steps, as CleanRL's
	// anneal_lr does over its num_iterations. Ignored when TotalSteps is 0.
	AnnealLR bool
	// TotalSteps is the length in env steps of the schedule that AnnealLR follows. A Trainer
	// driven past it keeps training at step size LearningRate×MinLRFrac.
	TotalSteps int
	// MinLRFrac is the floor of the annealed step size as a fraction of LearningRate, in [0, 1].
	MinLRFrac float64
	// AdamEps is Adam's ε; CleanRL uses 1e-5 rather than PyTorch's 1e-8.
	AdamEps float64

	// Gamma is the discount factor γ, in [0, 1].
	Gamma float64
	// GAELambda is GAE's λ (Schulman et al. 2016, eq. 16), in [0, 1].
	GAELambda float64

	// ClipCoef is PPO's ε in the clipped surrogate L^CLIP (Schulman et al. 2017, eq. 7). > 0.
	ClipCoef float64
	// ClipVLoss clips the value loss around the rollout's values with the same ε, as the
	// OpenAI baselines implementation and CleanRL do.
	ClipVLoss bool
	// NormAdv normalises advantages to zero mean and unit std within each minibatch (CleanRL).
	NormAdv bool
	// EntCoef weighs the entropy bonus, c2 in Schulman et al. 2017, eq. 9.
	EntCoef float64
	// VFCoef weighs the value loss, c1 in Schulman et al. 2017, eq. 9.
	VFCoef float64
	// MaxGradNorm clips the global L2 norm of the gradient (CleanRL max_grad_norm); 0: no clip.
	MaxGradNorm float64
	// TargetKL stops an update's epochs early once the approximate KL to the rollout policy
	// exceeds it (CleanRL target_kl); 0: never.
	TargetKL float64

	// Hidden lists the hidden layer widths of the actor and of the critic (CleanRL: 64, 64).
	Hidden []int
	// Activation is the hidden nonlinearity (CleanRL: tanh).
	Activation nn.Activation
	// InitLogStd is the initial log standard deviation of a Gaussian policy (CleanRL: 0).
	InitLogStd float64

	// NormObs normalises observations by a running mean and variance, then clips them to
	// ±ObsClip, as Gymnasium's NormalizeObservation + clip wrappers in CleanRL's continuous
	// PPO. The statistics belong to the Policy (they are saved with it) and are updated after
	// each rollout, so the policy is fixed during a rollout.
	NormObs bool
	// ObsClip bounds normalised observations; 0: no clip.
	ObsClip float64
	// NormReward divides rewards by a running std of the discounted return, as Gymnasium's
	// NormalizeReward (CleanRL's continuous PPO); Christiano et al. 2017 (§2.2.3) likewise
	// normalise the learned reward to a fixed scale. Applied to whatever reward is in use.
	NormReward bool
	// RewardClip bounds the normalised rewards; 0: no clip.
	RewardClip float64
	// RewardScale multiplies the reward before normalisation (1: unchanged).
	RewardScale float64

	// BootstrapTruncation treats an episode cut by the time limit as unfinished: its last
	// reward gets γ·V(final observation) (Pardo et al. 2018, "Time Limits in RL"). CleanRL
	// treats truncation as termination (false).
	BootstrapTruncation bool

	// FixedHorizon > 0 trains on fixed-horizon episodes for preference learning: every episode
	// lasts exactly FixedHorizon steps and termination never ends one early (Christiano et al.
	// 2017, App. A.1), through core/env's FixedHorizon wrapper. 0: the standard task with
	// Gymnasium's termination and TimeLimit.
	FixedHorizon int

	// KLCoef is β, the initial coefficient of the penalty β·log(π(a|s)/ρ(a|s)) subtracted from
	// each reward, where ρ is the reference policy set with SetReference (Ziegler et al. 2019,
	// eq. 1). 0 with no reference: no penalty.
	KLCoef float64
	// KLTarget > 0 adapts β towards this per-step KL (Ziegler et al. 2019, eq. 2); 0: fixed β.
	KLTarget float64
	// KLRate is K_β of the adaptive controller (Ziegler et al. 2019 use 0.1).
	KLRate float64

	// Workers is the number of goroutines for env shards and gradient shards; 0: GOMAXPROCS.
	// Results do not depend on it.
	Workers int
}

// CleanRLConfig returns CleanRL's defaults for envName: ppo.py's for a discrete action space and
// ppo_continuous_action.py's for a box (then with its observation and reward normalisation).
func CleanRLConfig(envName string) Config {
	c := Config{
		Env:            envName,
		NumEnvs:        4,
		NumSteps:       128,
		NumMinibatches: 4,
		UpdateEpochs:   4,
		LearningRate:   2.5e-4,
		AnnealLR:       true,
		TotalSteps:     500000,
		AdamEps:        1e-5,
		Gamma:          0.99,
		GAELambda:      0.95,
		ClipCoef:       0.2,
		ClipVLoss:      true,
		NormAdv:        true,
		EntCoef:        0.01,
		VFCoef:         0.5,
		MaxGradNorm:    0.5,
		Hidden:         []int{64, 64},
		Activation:     nn.Tanh,
		RewardScale:    1,
		KLRate:         0.1,
	}
	if e, err := env.Lookup(envName); err == nil && !e.Spec().Action.Discrete() {
		// ppo_continuous_action.py
		c.NumEnvs, c.NumSteps, c.NumMinibatches, c.UpdateEpochs = 1, 2048, 32, 10
		c.LearningRate, c.EntCoef, c.TotalSteps = 3e-4, 0, 1000000
		c.NormObs, c.ObsClip, c.NormReward, c.RewardClip = true, 10, true, 10
	}
	return c
}

// DefaultConfig returns Prefer's tuned defaults for envName (see the comments per env for the
// reasons); for an env without tuned defaults, CleanRLConfig(env) with BootstrapTruncation.
func DefaultConfig(envName string) Config {
	c := CleanRLConfig(envName)
	c.BootstrapTruncation = true
	switch envName {
	case "CartPole-v1":
		// Many short updates from a small network learn CartPole in few env steps and little
		// compute: 8 envs × 32 steps, 10 epochs of 2 minibatches, one hidden layer of 32, step
		// size 2e-2 annealed over 100k steps, γ = 0.98 and λ = 0.8 (as rl-baselines3-zoo's tuned
		// CartPole PPO), no entropy bonus. Chosen by a sweep over 10 seeds (network 16-64
		// wide, one or two layers, step size 3e-3 to 2e-2, 4-10 epochs): solved (last 20
		// training episodes ≥ 475) after 15k-31k env steps on every seed.
		c.NumEnvs, c.NumSteps, c.NumMinibatches, c.UpdateEpochs = 8, 32, 2, 10
		c.Hidden = []int{32}
		c.LearningRate, c.TotalSteps = 2e-2, 100000
		c.Gamma, c.GAELambda, c.EntCoef = 0.98, 0.8, 0
	case "Pendulum-v1":
		// rl-baselines3-zoo's tuned Pendulum PPO without its state-dependent exploration: 4
		// envs × 1024 steps, 10 epochs of 64 minibatches (of 64), step size 1e-3 annealed over
		// 48 rollouts (196,608 steps, so that a run stays within 200k), no entropy bonus, no
		// observation or reward normalisation, an unclipped value loss; but γ = 0.95 rather
		// than 0.9, which was better on seeds 1-6 (eval −155 to −175, against −170 to −197).
		// Pendulum never terminates, so bootstrapping at the 200-step TimeLimit matters.
		c.NumEnvs, c.NumSteps, c.NumMinibatches, c.UpdateEpochs = 4, 1024, 64, 10
		c.LearningRate, c.TotalSteps = 1e-3, 48*4*1024
		c.Gamma, c.GAELambda, c.EntCoef = 0.95, 0.95, 0
		c.NormObs, c.NormReward, c.ClipVLoss = false, false, false
	}
	return c
}

// DefaultSteps returns the env-step budget that DefaultConfig(envName) needs to solve it.
func DefaultSteps(envName string) int {
	return DefaultConfig(envName).TotalSteps
}

// BatchSize is the number of transitions in a rollout, NumEnvs×NumSteps.
func (c *Config) BatchSize() int { return c.NumEnvs * c.NumSteps }

// workers is the number of goroutines to use.
func (c *Config) workers() int {
	if c.Workers > 0 {
		return c.Workers
	}
	return runtime.GOMAXPROCS(0)
}

// Validate reports the first hyperparameter that is out of range.
func (c *Config) Validate() error {
	bad := func(format string, a ...any) error { return fmt.Errorf("ppo: "+format, a...) }
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	switch {
	case c.NumEnvs <= 0:
		return bad("NumEnvs must be positive, got %d", c.NumEnvs)
	case c.NumSteps <= 0:
		return bad("NumSteps must be positive, got %d", c.NumSteps)
	case c.NumMinibatches <= 0 || c.BatchSize()%c.NumMinibatches != 0:
		return bad("NumMinibatches (%d) must be positive and divide the batch of %d", c.NumMinibatches, c.BatchSize())
	case c.UpdateEpochs <= 0:
		return bad("UpdateEpochs must be positive, got %d", c.UpdateEpochs)
	case !(c.LearningRate > 0) || !finite(c.LearningRate):
		return bad("LearningRate must be positive, got %v", c.LearningRate)
	case c.TotalSteps < 0:
		return bad("TotalSteps must not be negative, got %d", c.TotalSteps)
	case !(c.MinLRFrac >= 0 && c.MinLRFrac <= 1):
		return bad("MinLRFrac must be in [0, 1], got %v", c.MinLRFrac)
	case !(c.AdamEps > 0):
		return bad("AdamEps must be positive, got %v", c.AdamEps)
	case !(c.Gamma >= 0 && c.Gamma <= 1):
		return bad("Gamma must be in [0, 1], got %v", c.Gamma)
	case !(c.GAELambda >= 0 && c.GAELambda <= 1):
		return bad("GAELambda must be in [0, 1], got %v", c.GAELambda)
	case !(c.ClipCoef > 0) || !finite(c.ClipCoef):
		return bad("ClipCoef must be positive, got %v", c.ClipCoef)
	case !(c.EntCoef >= 0) || !finite(c.EntCoef), !(c.VFCoef >= 0) || !finite(c.VFCoef):
		return bad("EntCoef and VFCoef must be finite and non-negative")
	case !(c.MaxGradNorm >= 0), !(c.TargetKL >= 0), !(c.ObsClip >= 0), !(c.RewardClip >= 0):
		return bad("MaxGradNorm, TargetKL, ObsClip and RewardClip must not be negative")
	case !(c.RewardScale > 0) || !finite(c.RewardScale):
		return bad("RewardScale must be positive, got %v", c.RewardScale)
	case len(c.Hidden) == 0:
		return bad("Hidden needs at least one layer")
	case c.FixedHorizon < 0:
		return bad("FixedHorizon must not be negative, got %d", c.FixedHorizon)
	case !(c.KLCoef >= 0), !(c.KLTarget >= 0), !(c.KLRate >= 0):
		return bad("KLCoef, KLTarget and KLRate must not be negative")
	case c.Workers < 0:
		return bad("Workers must not be negative, got %d", c.Workers)
	case !finite(c.InitLogStd):
		return bad("InitLogStd must be finite")
	}
	for _, h := range c.Hidden {
		if h <= 0 {
			return bad("hidden widths must be positive, got %v", c.Hidden)
		}
	}
	return nil
}
