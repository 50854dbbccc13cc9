package failure

import (
	"fmt"
	"math/rand/v2"

	"github.com/prefer-rlhf/prefer/core/env"
	"github.com/prefer-rlhf/prefer/core/ppo"
)

// Policy maps an observation to an action; it must be deterministic, so that x alone decides
// an episode.
type Policy func(obs []float64) []float64

// Runner runs episodes of one event with one policy. It is not safe for concurrent use: make
// one per goroutine.
type Runner struct {
	ev  *Event
	pol Policy
	e   env.Env
}

// NewRunner returns a Runner of ev with pol.
func NewRunner(ev *Event, pol Policy) (*Runner, error) {
	e, err := env.Lookup(ev.Env)
	if err != nil {
		return nil, fmt.Errorf("failure: %w", err)
	}
	if e.Spec().StateDim != len(ev.StartLow) {
		return nil, fmt.Errorf("failure: event of %s has a start of %d components, the env's state %d", ev.Env, len(ev.StartLow), e.Spec().StateDim)
	}
	return &Runner{ev: ev, pol: pol, e: e}, nil
}

// Fails runs the episode that x decides and reports whether it failed.
func (r *Runner) Fails(x []float64) bool {
	ev := r.ev
	if err := r.e.SetState(ev.Start(x)); err != nil {
		panic(err) // the start range is finite by construction
	}
	obs := r.e.Obs()
	n0, k := len(ev.StartLow), 0
	for t := 1; t <= ev.Steps; t++ {
		next, _, term := r.e.Step(r.pol(obs))
		state := r.e.State()
		if ev.Failed(t, state, term) {
			return true
		}
		if term {
			return false // a goal reached (Failed said no)
		}
		obs = next
		if ev.PushEvery > 0 && t%ev.PushEvery == 0 && k < ev.Pushes() {
			state[ev.PushIndex] += ev.PushStd * x[n0+k]
			k++
			if err := r.e.SetState(state); err != nil {
				return true // a push that breaks the state is a failure of the physics, not hidden
			}
			obs = r.e.Obs()
		}
	}
	return false
}

// Draw fills x with the nominal distribution p: independent standard normals.
func Draw(rng *rand.Rand, x []float64) {
	for i := range x {
		x[i] = rng.NormFloat64()
	}
}

// EnvProblem is the estimation problem of ev with pol: one Runner per goroutine.
func EnvProblem(ev *Event, pol Policy) Problem {
	return Problem{Dim: ev.Dim(), NewTrial: func() (Trial, error) {
		r, err := NewRunner(ev, pol)
		if err != nil {
			return nil, err
		}
		return r.Fails, nil
	}}
}

// PPOPolicy is p acting deterministically (the most likely action, the Gaussian's mean), after
// checking that it fits envName.
func PPOPolicy(p *ppo.Policy, envName string) (Policy, error) {
	if _, err := p.Fits(envName); err != nil {
		return nil, fmt.Errorf("failure: %w", err)
	}
	return func(obs []float64) []float64 { return p.Act(obs, nil, true) }, nil
}
