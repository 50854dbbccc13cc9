package loop

import (
	"fmt"
	"math/rand/v2"

	"github.com/prefer-rlhf/prefer/core/env"
	"github.com/prefer-rlhf/prefer/core/ppo"
	"github.com/prefer-rlhf/prefer/core/reward"
)

// Clip is a stretch of experience as the loop keeps it: what replays it (the env's state
// before the first step, and the actions), the transitions the reward model reads, and the
// fixed-horizon true return that a synthetic rater answers from (never shown to the model).
type Clip struct {
	StartState []float64
	Actions    []float64 // Seg.Len rows of the action dimension
	Seg        reward.Segment
	TrueReturn float64
	Rewards    []float64 // the per-step true rewards that sum to TrueReturn, for B-Pref's teachers
	// Source and PolicyVersion say which policy acted (set by Learner.Candidates): its
	// source, and its version (0 for a random policy).
	Source        Source
	PolicyVersion int
}

// Actor chooses an action for an observation; nil means a uniformly random policy.
type Actor func(obs []float64, rng *rand.Rand) []float64

// PolicyActor acts with p as it acts in training: sampling, not its most likely action.
func PolicyActor(p *ppo.Policy) Actor {
	return func(obs []float64, rng *rand.Rand) []float64 { return p.Act(obs, rng, false) }
}

// Clips rolls act in e (which should be in fixed-horizon mode, so a clip never ends early) and
// returns n clips of length steps. Each comes from a fresh reset followed by a uniformly random
// number of warm-up steps in [0, maxSkip], so clips show an episode's beginning as well as its
// later course.
func Clips(e env.Env, act Actor, n, length, maxSkip int, rng *rand.Rand) []Clip {
	clips := make([]Clip, 0, n)
	for len(clips) < n {
		clips = append(clips, Roll(e, act, rng.IntN(max(maxSkip, 0)+1), length, rng))
	}
	return clips
}

// Roll resets e, lets act run skip warm-up steps, and records the next length steps as a clip.
func Roll(e env.Env, act Actor, skip, length int, rng *rand.Rand) Clip {
	spec := e.Spec()
	if act == nil {
		act = func(_ []float64, rng *rand.Rand) []float64 { return spec.Action.Sample(rng) }
	}
	obs := make([]float64, spec.ObsDim)
	copy(obs, e.Reset(rng))
	for k := skip; k > 0; k-- {
		o, _, _ := e.Step(act(obs, rng))
		copy(obs, o)
	}
	return record(e, obs, length, func(_ int, obs []float64) []float64 { return act(obs, rng) })
}

// Replay sets e (in fixed-horizon mode) to start and records the clip that actions make from
// there: how a clip found elsewhere (the adversary's) becomes one the loop can label.
func Replay(e env.Env, start []float64, actions [][]float64) (Clip, error) {
	if err := e.SetState(start); err != nil {
		return Clip{}, fmt.Errorf("loop: %w", err)
	}
	for i, a := range actions {
		if err := env.CheckAction(e.Spec(), a); err != nil {
			return Clip{}, fmt.Errorf("loop: %w (actions[%d])", err, i)
		}
	}
	obs := append([]float64(nil), e.Obs()...)
	return record(e, obs, len(actions), func(k int, _ []float64) []float64 { return actions[k] }), nil
}

// record steps e from its current state, whose observation is obs, for length steps with the
// actions next returns, and records them as a clip.
func record(e env.Env, obs []float64, length int, next func(k int, obs []float64) []float64) Clip {
	c := Clip{StartState: e.State(), Seg: reward.Segment{Len: length}}
	for k := 0; k < length; k++ {
		a := next(k, obs)
		c.Seg.Obs = append(c.Seg.Obs, obs...)
		c.Actions = append(c.Actions, a...)
		o, r, _ := e.Step(a)
		copy(obs, o)
		c.Seg.Next = append(c.Seg.Next, obs...)
		c.TrueReturn += r
		c.Rewards = append(c.Rewards, r)
	}
	c.Seg.Act = c.Actions
	return c
}
