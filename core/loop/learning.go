package loop

import (
	"hash/fnv"
	"math"
	"math/rand/v2"

	"github.com/prefer-rlhf/prefer/core/env"
	"github.com/prefer-rlhf/prefer/core/ppo"
	"github.com/prefer-rlhf/prefer/core/reward"
)

// The learning choices of the loop, made once here: `prefer experiment` (Run) and the hub's
// trainer (server/trainer) both call them, so that what the README measures is what a class
// trains.

// Features is what r̂ reads for a task with action space sp (reward.FeaturesFor says why).
func Features(sp env.Space) reward.Features { return reward.FeaturesFor(sp.Discrete()) }

// LearnedReward is r̂ as PPO sees it and as it is normalised: with Clamp, observations
// clamped to the labelled range (see Bounded).
func (c *Config) LearnedReward(m *reward.Model, d *reward.Dataset, obsDim int) *Bounded {
	if !c.Clamp {
		d = &reward.Dataset{}
	}
	return NewBounded(m, d, obsDim)
}

// Normalize sets r̂'s output normalisation (§2.2.3, which does not say over what) as c says:
// over every labelled clip (the segments of d) when NormalizeOnLabelled, otherwise over
// recent, transitions of the current policy. Once a policy balances, its own clips are all
// alike, and normalising over them blows r̂'s small differences between upright states up to
// unit scale, a new scale each round, which the value function then chases; the labelled
// clips, failures included, keep one scale from round to round.
func (c *Config) Normalize(r *Bounded, d *reward.Dataset, recent []reward.Segment) error {
	segs := recent
	if c.NormalizeOnLabelled {
		segs = segs[:0:0]
		for _, cs := range [][]reward.Comparison{d.Train, d.Val} {
			for _, x := range cs {
				segs = append(segs, x.Left, x.Right)
			}
		}
	}
	var obs, act, next []float64
	n := 0
	for _, s := range segs {
		obs = append(obs, s.Obs...)
		act = append(act, s.Act...)
		next = append(next, s.Next...)
		n += s.Len
	}
	if n < 2 {
		return nil
	}
	return r.Normalize(obs, act, next, n)
}

// Source says which policy acts in a candidate clip.
type Source int

const (
	FromRandom  Source = iota // a uniformly random policy
	FromOld                   // one of the older policies
	FromCurrent               // the newest policy
)

// PickSource draws the source of one candidate clip: a uniformly random policy with
// probability RandomShare (and always before any policy has trained: §2.2.4, "an initial share
// of pairs from a random policy"), an older policy with probability OldShare if there is one,
// else the newest policy. Random-policy clips keep showing the reward model failure, which a
// good policy's clips no longer do; older ones, what the policy moved away from.
func (c *Config) PickSource(rng *rand.Rand, trained bool, olds int) Source {
	u := rng.Float64()
	switch {
	case !trained || u < c.RandomShare:
		return FromRandom
	case u < c.RandomShare+c.OldShare && olds > 0:
		return FromOld
	}
	return FromCurrent
}

// ClipStart draws how many steps a candidate clip skips after a reset, in an episode of
// horizon steps and clips of length steps. A random policy soon reaches states it never
// leaves (a fallen pole), so its clips start at a reset, where they differ most. A trained
// policy's clips start at a reset half the time and anywhere in an episode otherwise: a
// policy that fails early only shows its failure near the start, and a pair of two clips
// after the failure would tell the model nothing (equal returns).
func ClipStart(rng *rand.Rand, src Source, horizon, length int) int {
	if src == FromRandom || horizon <= length || rng.IntN(2) == 0 {
		return 0
	}
	return rng.IntN(horizon - length + 1)
}

// PPOConfig is PPO's configuration on the learned reward for spec, in fixed-horizon mode
// (termination must not leak reward, App. A.1). With continuing, for a trainer that never
// ends (the hub's), the step size anneals over Steps down to a floor of a tenth, where it
// stays while the learned reward keeps moving under it, and an entropy bonus of at least 0.01
// (App. A.1: 0.01 on every task) keeps the policy exploring while the reward is still being
// learned.
func (c *Config) PPOConfig(spec env.Spec, continuing bool) ppo.Config {
	pc := c.PPO
	pc.Env = c.Env
	if pc.FixedHorizon == 0 {
		pc.FixedHorizon = spec.MaxEpisodeSteps
	}
	if total := c.Steps + c.finalSteps(); pc.TotalSteps == 0 || pc.TotalSteps > total {
		pc.TotalSteps = total
	}
	if continuing {
		pc.AnnealLR = true
		pc.MinLRFrac = math.Max(pc.MinLRFrac, 0.1)
		pc.EntCoef = math.Max(pc.EntCoef, 0.01)
	}
	return pc
}

// RewardConfig is the reward model's configuration for spec, seeded with seed.
func (c *Config) RewardConfig(spec env.Spec, seed uint64) reward.Config {
	rc := c.Reward
	rc.Seed = seed
	if rc.ObsScale == nil {
		rc.ObsScale = spec.ObsScale
	}
	return rc
}

// KeepLabel thins a rater's labels to their weight w in [0, 1]: it keeps the label with id
// with probability w, decided by a hash of the id, so the kept set's expected share of the
// loss is w times the full set's, as with a weighted Bradley-Terry loss, and it is the same
// set every time while the weight stays.
func KeepLabel(id string, w float64) bool {
	h := fnv.New64a()
	h.Write([]byte(id))
	return float64(h.Sum64()>>11)/math.Exp2(53) < w
}
