// Package loop runs the whole loop of Christiano et al. 2017 headless: a policy is trained by
// PPO on a learned reward, clips of its behaviour are compared by a synthetic rater, the
// reward ensemble is refitted on the comparisons, and so on. Learner holds the learning one
// round at a time; Run drives it for `prefer experiment` (how Prefer checks that preference
// learning learns), and the hub's trainer (server/trainer) drives it with people's labels.
package loop

import (
	"fmt"
	"math"
	"strings"

	"github.com/prefer-rlhf/prefer/core/env"
	"github.com/prefer-rlhf/prefer/core/oracle"
	"github.com/prefer-rlhf/prefer/core/ppo"
	"github.com/prefer-rlhf/prefer/core/query"
	"github.com/prefer-rlhf/prefer/core/redteam"
	"github.com/prefer-rlhf/prefer/core/reward"
)

// Config holds every setting of an experiment. Start from Defaults.
type Config struct {
	// Env is the Gymnasium id of the task.
	Env string
	// Seed fixes everything: the PPO run, the reward model, the clips and the rater.
	Seed uint64
	// Labels is the label budget: the total number of comparisons asked of the rater.
	Labels int
	// Steps is the number of PPO env steps in all.
	Steps int
	// FinalShare is how many PPO env steps follow the last labels, on the final r̂, as a share
	// of Steps, as the hub's trainer goes on training while labels pause. Without them the
	// labels of the last round refit r̂ after the policy's last update and train nothing. PPO's
	// step size anneals over Steps and these together. The last round's curve point comes
	// after them.
	FinalShare float64
	// FinalHorizon, if positive, is PPO's fixed horizon for the final steps instead of
	// PPO.FixedHorizon: a policy that balances for a training episode shorter than the task's
	// can still drift off the track after it.
	FinalHorizon int
	// FinalFresh, if positive, is how many env steps a fresh policy trains on the final r̂
	// after the final steps, from PPO's initial state; the run ends with whichever of it and
	// the loop's policy r̂ ranks higher (Learner.TrainFresh, fresh.go). 0: off.
	FinalFresh int
	// KeepEpisodes, if positive, guards every PPO update after the first as the hub's trainer
	// does (Learner.TrainKept): an update that lowers the policy's return under r̂, measured on
	// KeepEpisodes deterministic fixed-horizon episodes before and after, is put back, and an
	// old policy that the refitted r̂ ranks higher comes back. The final steps are guarded in
	// chunks of a round's steps, so that PPO on the final r̂ cannot lose a policy r̂ ranks
	// higher than what it ends with. 0 trains without the guard, as `prefer experiment` did
	// before the hub had it.
	KeepEpisodes int
	// Rounds is how many times the loop alternates PPO on the current reward model with asking
	// for labels and refitting. The paper runs these asynchronously; rounds are the
	// synchronous, reproducible version of that.
	Rounds int
	// NormalizeOnLabelled normalises r̂ over every clip labelled so far rather than over the
	// current policy's clips (§2.2.3 does not say over what). Once a policy balances, its own
	// clips are all alike, and normalising over them blows r̂'s small differences between
	// upright states up to unit scale and the gap to a fall up to tens, a new scale each
	// round, which the value function then chases; the labelled clips, falls included, keep
	// one scale from round to round.
	NormalizeOnLabelled bool
	// Clamp clamps the observations r̂ reads to the range of the labelled clips (Bounded).
	Clamp bool
	// LabelDecay is T₀ of the label schedule: after T env steps labels are asked at a rate
	// proportional to T₀/(T+T₀), so most are asked early, when the policy changes most (App.
	// A.1 uses 2·10⁶/(T+2·10⁶) for MuJoCo). As a fraction of Steps.
	LabelDecay float64
	// ClipSteps is the length of a clip in env steps; 0 means about 1.5 s of env time (the
	// paper's clips are 1-2 s, §2.2 and App. B).
	ClipSteps int
	// PoolClips is how many clips are cut from each rollout to draw candidate pairs from.
	PoolClips int
	// RandomShare and OldShare are the shares of candidate clips from a uniformly random
	// policy and from older policies; the rest come from the newest policy (see PickSource).
	RandomShare, OldShare float64
	// OldPolicies is how many earlier policies are kept to make OldShare of the clips.
	OldPolicies int
	// Rater is the synthetic rater answering from the fixed-horizon true return.
	Rater oracle.Rater
	// Teacher, if not nil, answers instead of Rater: one of B-Pref's simulated teachers
	// (core/oracle/teacher.go), from the clips' per-step true rewards, with its thresholds set
	// from the mean true return of the last training episodes (before training, of the random
	// policy's clips) as B-Pref sets them.
	Teacher *oracle.Teacher
	// Query is how pairs are chosen (core/query's strategies) and the random-policy share.
	Query query.Config
	// Objective is what PPO maximises of the ensemble's members (reward/objective.go): their
	// mean (the paper's r̂; also when empty), their minimum, or mean - ObjectiveLambda·std.
	Objective reward.Objective
	// ObjectiveLambda is the weight of the members' standard deviation under reward.ObjectiveUWO.
	ObjectiveLambda float64
	// PPO is the policy optimiser's configuration. It always trains in fixed-horizon mode
	// (App. A.1), for PPO.FixedHorizon steps per episode; 0 means the env's TimeLimit.
	PPO ppo.Config
	// Reward is the reward model's configuration.
	Reward reward.Config
	// CurveEpisodes is the number of evaluation episodes per round for the learning curve.
	CurveEpisodes int
	// EvalEpisodes is the number of fresh episodes of the final evaluation.
	EvalEpisodes int
	// AdversarialRounds is how many adversarial rounds follow the labelled ones (adversarial.go):
	// the adversary's failures are labelled and the reward model refitted; 0 turns them off.
	// The policy is not retrained on the hardened model.
	AdversarialRounds int
	// Adversary is the adversary's search (core/redteam); its Steps is the clip length.
	Adversary redteam.Config
	// AdversaryRandomRefs makes the adversary's reference clips (the 90th-percentile bar of r̂
	// and its first generation) a random policy's instead of the current policy's. Against a
	// converged policy the bar is the top decile of its own clips, and on CartPole-v1 and
	// Pendulum-v1 searches of 100,000 env steps found nothing above it, even against models
	// fitted on 10-30 labels; random references send the search to states the policy never
	// visits. But where most random clips fail the task themselves (CartPole), a clip above
	// their bar that still fails may just be a better failure, not a model error
	// (docs/experiments.md, adversarial rounds).
	AdversaryRandomRefs bool
	// AccuracyPairs is how many held-out ordinary pairs measure the reward model's accuracy
	// before and after the adversarial rounds.
	AccuracyPairs int
}

// Defaults returns the settings for env: Prefer's tuned PPO defaults in fixed-horizon mode,
// the paper's reward model, disagreement queries, and a noiseless rater.
func Defaults(envName string) Config {
	c := Config{
		Env:           envName,
		Labels:        200,
		Steps:         ppo.DefaultSteps(envName),
		Rounds:        20,
		LabelDecay:    0.25,
		PoolClips:     200,
		Query:         query.Defaults(),
		PPO:           ppo.DefaultConfig(envName),
		Reward:        reward.Defaults(),
		CurveEpisodes: 10,
		EvalEpisodes:  100,
		RandomShare:   0.15,
		OldShare:      0.15,
		OldPolicies:   5,
		Clamp:         true,
		Adversary:     redteam.DefaultConfig(),
		AccuracyPairs: 500,
	}
	if e, err := env.Lookup(envName); err == nil {
		c.Reward.Features = Features(e.Spec().Action)
	}
	// The paper's mean r̂. λ = 0.5 for the uncertainty-weighted objective is a first guess,
	// not yet measured here.
	c.Objective, c.ObjectiveLambda = reward.ObjectiveMean, 0.5
	// 32 failures a round: redteam's default of 8 is enough to show a failure, too few labels
	// to fix one (docs/experiments.md, adversarial rounds).
	c.Adversary.Max = 32
	// Fit every member for at least 100 minibatch steps: with tens of comparisons an epoch is
	// one step, and Defaults' 10 epochs leave the model near its initialisation.
	c.Reward.MinSteps = 100
	// PPO's step size anneals over the experiment's Steps, whatever they are set to.
	c.PPO.TotalSteps = 0
	// A classroom behaviour (or its checker env) trains as its base task does.
	task := strings.TrimPrefix(envName, env.CheckerPrefix)
	if b, ok := env.BehaviourOf(task); ok {
		task = b.Base
	}
	switch task {
	case "CartPole-v1":
		// PPO's CartPole defaults (step size 2e-2, one layer of 32) with an entropy bonus of
		// 0.01, γ = 0.99, an unclipped value loss, and training episodes of 300 steps rather
		// than 500. With a fallen pole absorbing, a 500-step episode of an early policy is
		// ~95% steps whose action changes nothing, and their advantages are noise that drowns
		// the few that matter; the policy is stationary, so what it learns in 300 steps
		// carries on to 500 (eval is on the standard 500-step task). But 200 are too few: r̂
		// has small slopes across upright states that no label pins down, a policy that
		// follows one drifts along the track, and within 200 steps it never reaches the edge
		// (a balancing policy can drift off the track after ~250 steps). γ = 0.99 looks ~100
		// steps ahead, far enough to see that edge coming. The value loss is not clipped to
		// ±0.2 of the old values: a refitted r̂ moves every value, and clipping slows the
		// critic's catching up. docs/experiments.md records the runs behind each choice.
		c.PPO.FixedHorizon = 300
		c.PPO.EntCoef, c.PPO.Gamma, c.PPO.ClipVLoss = 0.01, 0.99, false
		c.NormalizeOnLabelled = true
		c.Steps, c.Rounds = 150000, 10
		// A third more PPO after the last labels, and the step size annealed over both. Annealed
		// to 0 by the end of the labelled rounds, it was under a fifth of its start in the last
		// two rounds, too small for the policy to follow r̂'s late corrections: on a few seeds
		// the policy stayed one that drifts off the track after 140-270 steps, which r̂ ranks
		// below one that balances (docs/experiments.md). The final steps can also lose a policy
		// that balanced (a refit knocks it down, or it drifts off after the 300 steps it trains
		// for): 3 of 30 runs on seeds 11-20. PPO is a few per cent of a run's time.
		c.FinalShare = 1.0 / 3
		// Clips of 1.5 s, the paper's length (75 steps): a clip from a reset then shows a
		// random policy fall and lie fallen, and a clip of a balancing policy shows whether it
		// drifts; shorter clips hold too little of either to tell them apart.
		c.ClipSteps = 75
	case "MountainCarContinuous-v0":
		// No clamping: the classroom's MountainCarRock-v0 penalises driving past the flag,
		// which clips of an early policy rarely reach; clamped, a state past the flag is worth
		// what the nearest labelled one (rocking fast near it) is worth, and PPO drives through
		// (docs/experiments.md).
		c.Clamp = false
	case "Pendulum-v1":
		// PPO's Pendulum defaults as they are, clips of 1.5 s (30 steps), and the 700 labels
		// the acceptance allows; it learns by ~60k steps, so 120k leave room.
		c.Steps, c.Rounds = 120000, 10
		c.Labels = 700
	}
	return c
}

// DefaultFinalFresh is the FinalFresh that `prefer experiment` and `prefer sweep` give a run of
// steps env steps on envName unless told otherwise: on CartPole-v1 a fresh policy trains on
// the final r̂ for as many env steps as the loop's own policy did, and elsewhere none. On
// CartPole-v1's B-Pref grid it brings Mistake within 0.10 of the Oracle in every cell (README,
// "Sweeps"); Pendulum-v1 meets that without it, and the classroom's behaviours were not
// measured with it. Defaults leaves FinalFresh 0: the hub's trainer has no final policy to
// replace, and the classroom's learning checks run as measured.
func DefaultFinalFresh(envName string, steps int) int {
	if envName != "CartPole-v1" {
		return 0
	}
	return steps
}

// finalSteps is FinalShare of Steps in env steps.
func (c *Config) finalSteps() int { return int(math.Round(c.FinalShare * float64(c.Steps))) }

// clipSteps returns the clip length in steps for spec.
func (c *Config) clipSteps(spec env.Spec) int {
	if c.ClipSteps > 0 {
		return c.ClipSteps
	}
	return max(int(math.Round(1.5/spec.DT)), 2)
}

// Validate reports the first setting out of range.
func (c *Config) Validate() error {
	switch {
	case c.Labels < 1:
		return fmt.Errorf("loop: Labels must be at least 1, got %d", c.Labels)
	case c.Steps < 1:
		return fmt.Errorf("loop: Steps must be at least 1, got %d", c.Steps)
	case !(c.FinalShare >= 0):
		return fmt.Errorf("loop: FinalShare must not be negative, got %v", c.FinalShare)
	case c.KeepEpisodes < 0:
		return fmt.Errorf("loop: KeepEpisodes must not be negative, got %d", c.KeepEpisodes)
	case c.FinalHorizon < 0:
		return fmt.Errorf("loop: FinalHorizon must not be negative, got %d", c.FinalHorizon)
	case c.FinalFresh < 0:
		return fmt.Errorf("loop: FinalFresh must not be negative, got %d", c.FinalFresh)
	case c.Rounds < 1:
		return fmt.Errorf("loop: Rounds must be at least 1, got %d", c.Rounds)
	case !(c.LabelDecay > 0):
		return fmt.Errorf("loop: LabelDecay must be positive, got %v", c.LabelDecay)
	case c.ClipSteps < 0:
		return fmt.Errorf("loop: ClipSteps must not be negative, got %d", c.ClipSteps)
	case c.PoolClips < 2:
		return fmt.Errorf("loop: PoolClips must be at least 2, got %d", c.PoolClips)
	case c.RandomShare < 0 || c.OldShare < 0 || c.RandomShare+c.OldShare > 1:
		return fmt.Errorf("loop: RandomShare and OldShare must be >= 0 and sum to at most 1")
	case c.OldPolicies < 0:
		return fmt.Errorf("loop: OldPolicies must not be negative, got %d", c.OldPolicies)
	case c.CurveEpisodes < 1 || c.EvalEpisodes < 1:
		return fmt.Errorf("loop: CurveEpisodes and EvalEpisodes must be at least 1")
	case c.AdversarialRounds < 0:
		return fmt.Errorf("loop: AdversarialRounds must not be negative, got %d", c.AdversarialRounds)
	case c.AdversarialRounds > 0 && c.AccuracyPairs < 1:
		return fmt.Errorf("loop: AccuracyPairs must be at least 1 with adversarial rounds, got %d", c.AccuracyPairs)
	}
	if err := c.Rater.Validate(); err != nil {
		return err
	}
	if c.Teacher != nil {
		if err := c.Teacher.Validate(); err != nil {
			return err
		}
	}
	if _, err := reward.ParseObjective(string(c.Objective)); c.Objective != "" && err != nil {
		return err
	}
	if !(c.ObjectiveLambda >= 0) {
		return fmt.Errorf("loop: ObjectiveLambda must be >= 0, got %v", c.ObjectiveLambda)
	}
	return c.Query.Validate()
}

// schedule splits n labels over rounds 1..rounds-1 (labels asked after the last round would
// train nothing) at a rate proportional to T₀/(T+T₀), T being the env steps done by the end of
// each round: largest remainders, so the counts add up to n exactly.
func schedule(n, rounds int, decay float64) []int {
	out := make([]int, rounds)
	if rounds < 2 || n <= 0 {
		return out
	}
	w := make([]float64, rounds)
	total := 0.0
	for k := 1; k < rounds; k++ {
		T := float64(k) / float64(rounds)
		w[k] = decay / (T + decay)
		total += w[k]
	}
	type rem struct {
		k int
		r float64
	}
	given := 0
	var rems []rem
	for k := 1; k < rounds; k++ {
		x := float64(n) * w[k] / total
		out[k] = int(x)
		given += out[k]
		rems = append(rems, rem{k, x - float64(out[k])})
	}
	for given < n {
		best := 0
		for j := range rems {
			if rems[j].r > rems[best].r {
				best = j
			}
		}
		out[rems[best].k]++
		rems[best].r = -1
		given++
	}
	return out
}
