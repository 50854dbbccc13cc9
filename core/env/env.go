// Package env holds control environments with Gymnasium's exact dynamics, constants, action
// clipping, rewards and termination rules, and a fixed-horizon mode for preference learning.
//
// Every environment is plain Go with no I/O, so the same code steps a rollout in the trainer
// and replays a clip on a canvas in the browser.
package env

import (
	"math/rand/v2"
)

// Space is an action space: Discrete with N actions (N > 0), or a Box with bounds.
type Space struct {
	N    int       // number of discrete actions; 0 for a box
	Low  []float64 // box lower bounds; nil for a discrete space
	High []float64 // box upper bounds; len(High) == len(Low)
}

// Discrete reports whether s is a discrete space.
func (s Space) Discrete() bool { return s.N > 0 }

// Dim is the length of an action vector: 1 for a discrete space (the index, as a float64),
// len(Low) for a box.
func (s Space) Dim() int {
	if s.N > 0 {
		return 1
	}
	return len(s.Low)
}

// Sample draws a uniformly random action: an index of a discrete space, or a point of the box.
// It is the random policy that preference learning starts from.
func (s Space) Sample(rng *rand.Rand) []float64 {
	if s.Discrete() {
		return []float64{float64(rng.IntN(s.N))}
	}
	a := make([]float64, len(s.Low))
	for i := range a {
		a[i] = s.Low[i] + rng.Float64()*(s.High[i]-s.Low[i])
	}
	return a
}

// Spec is what the rest of Prefer needs to know about an environment besides its dynamics.
type Spec struct {
	Name            string  // Gymnasium id, e.g. "CartPole-v1"
	MaxEpisodeSteps int     // Gymnasium's TimeLimit (truncation), e.g. 500 for CartPole-v1
	RewardThreshold float64 // the return that counts as solved; NaN where none is defined
	DT              float64 // seconds of env time per step, used to size clips (~1.5 s)
	ObsDim          int     // length of an observation
	StateDim        int     // length of the internal state (env.unwrapped.state)
	Action          Space
	// FixedHorizon is true for an Env made by FixedHorizon: it never terminates, and episodes
	// last MaxEpisodeSteps.
	FixedHorizon bool
	// NoReward is true for a behaviour with no built-in reward (behaviours.go): Step's reward
	// is always 0 and only the raters' preferences define the task. Its scripted checker, which
	// measures the behaviour and is never shown to raters, is a separate env (ScoredEnv).
	NoReward bool
	// ObsScale, when not nil, holds one positive factor per observation component that brings
	// the components to comparable magnitudes, for models that read observations raw (a
	// learned reward: core/reward's ObsScale). Nil: they are comparable already.
	ObsScale []float64
}

// Env is one environment instance. It is not safe for concurrent use; make one per goroutine.
//
// An Env does not count steps: callers truncate episodes at Spec().MaxEpisodeSteps, as
// Gymnasium's TimeLimit wrapper does.
//
// Slices returned by Reset, Step and Obs are owned by the Env and are overwritten by the next
// call: copy them to keep them.
type Env interface {
	Spec() Spec
	// Reset samples a start state exactly as Gymnasium's reset does (same distribution), using
	// rng, and returns the first observation.
	Reset(rng *rand.Rand) []float64
	// State returns a copy of the internal state vector, as Gymnasium's env.unwrapped.state.
	State() []float64
	// SetState replaces the internal state; it fails if s has the wrong length or is not finite.
	SetState(s []float64) error
	// Obs returns the observation of the current state.
	Obs() []float64
	// Step applies one action and returns the next observation, Gymnasium's reward and its
	// terminated flag. A discrete action is action[0], an index that must be in [0, N); a
	// continuous action is clipped as Gymnasium clips it. Step panics on an out-of-range
	// discrete action: callers validate input with CheckAction first.
	Step(action []float64) (obs []float64, reward float64, terminated bool)
	// Draw describes how to draw state as simple shapes in world coordinates.
	Draw(state []float64) Scene
}
