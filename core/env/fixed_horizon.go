package env

import (
	"fmt"
	"math/rand/v2"
)

// Continuing is an Env that can run past Gymnasium's termination with a per-step reward that
// keeps the task's meaning. FixedHorizon needs it; a new environment implements it to be usable
// for preference learning.
type Continuing interface {
	Env
	// StepContinuing applies one action with the same dynamics as Step, never terminates, and
	// returns the fixed-horizon reward, a function of (state, action, next state) alone.
	StepContinuing(action []float64) (obs []float64, reward float64)
	// ObsContinuing is the observation of the current state in continuing mode: Obs, except
	// in an absorbing state, which has one observation of its own (see CartPole's).
	ObsContinuing() []float64
}

// FixedHorizon returns e in fixed-horizon mode: episodes never terminate early and last
// horizon steps (Spec().MaxEpisodeSteps; 0 keeps e's own TimeLimit), the episode goes on past
// Gymnasium's termination (with the dynamics, or in an absorbing state where that is what the
// task means), and the reward is e's StepContinuing reward.
//
// Why: when an episode ends early, its length carries reward that a learned reward model
// cannot see or control. A reward that is always positive makes ending late good and one that
// is always negative makes ending early good, whatever the model learned. Christiano et al.
// (2017, App. A.1) therefore "replaced termination conditions with a penalty" so that every
// episode has the same length; here every step gets a reward that says what termination said
// (CartPole: 1 per step begun inside the bounds; a fallen pole is absorbing and earns 0; Acrobot: -1 per step ending below
// the line, else 0; MountainCarContinuous: +1 per step ending at the goal, minus the fuel cost;
// Pendulum never terminates and is unchanged).
//
// Spec().RewardThreshold stays that of Gymnasium's task: compare it with returns on the
// standard task, not with fixed-horizon returns.
func FixedHorizon(e Env, horizon int) (Env, error) {
	c, ok := e.(Continuing)
	if !ok {
		return nil, fmt.Errorf("env: %s has no fixed-horizon mode", e.Spec().Name)
	}
	if horizon < 0 {
		return nil, fmt.Errorf("env: negative horizon %d", horizon)
	}
	spec := e.Spec()
	if horizon > 0 {
		spec.MaxEpisodeSteps = horizon
	}
	spec.FixedHorizon = true
	return &fixedHorizon{c: c, spec: spec}, nil
}

// fixedHorizon is the Env that FixedHorizon returns.
type fixedHorizon struct {
	c    Continuing
	spec Spec // c's spec with the horizon as MaxEpisodeSteps and FixedHorizon set
}

func (f *fixedHorizon) Spec() Spec                     { return f.spec }
func (f *fixedHorizon) Reset(rng *rand.Rand) []float64 { return f.c.Reset(rng) }
func (f *fixedHorizon) State() []float64               { return f.c.State() }
func (f *fixedHorizon) SetState(s []float64) error     { return f.c.SetState(s) }
func (f *fixedHorizon) Obs() []float64                 { return f.c.ObsContinuing() }
func (f *fixedHorizon) Draw(state []float64) Scene     { return f.c.Draw(state) }

// Step never reports termination; the reward is the fixed-horizon reward.
func (f *fixedHorizon) Step(action []float64) ([]float64, float64, bool) {
	obs, r := f.c.StepContinuing(action)
	return obs, r, false
}

// StepContinuing makes a fixed-horizon env Continuing too, so wrapping twice is harmless.
func (f *fixedHorizon) StepContinuing(action []float64) ([]float64, float64) {
	return f.c.StepContinuing(action)
}

// ObsContinuing implements Continuing.
func (f *fixedHorizon) ObsContinuing() []float64 { return f.c.ObsContinuing() }
