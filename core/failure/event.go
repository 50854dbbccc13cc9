package failure

import (
	"fmt"
	"math"
	"sort"
)

// Event says what counts as a failure of a policy in one environment, and the random pushes
// the episode is run under.
type Event struct {
	Env         string
	Description string
	// StartLow and StartHigh bound the uniform start state (Gymnasium's reset distribution).
	StartLow, StartHigh []float64
	// PushIndex is the state component a push changes; PushEvery the steps between pushes
	// (the first at step PushEvery); PushStd the push's standard deviation in that
	// component's units.
	PushIndex int
	PushEvery int
	PushStd   float64
	// Steps is the episode's length, unless Failed or the env's termination ends it first.
	Steps int
	// Failed reports a failure at step t (1-based) from the state after the step and the env's
	// terminated flag.
	Failed func(t int, state []float64, terminated bool) bool
	// EndsOnTerminate is true where termination ends the episode without failure (a goal
	// reached), false where termination is the failure itself or cannot happen.
	EndsOnTerminate bool
}

// Pushes is how many pushes an episode has.
func (e *Event) Pushes() int {
	if e.PushEvery <= 0 {
		return 0
	}
	return (e.Steps - 1) / e.PushEvery
}

// Dim is the length of the random vector x of one episode: the start state, then the pushes.
func (e *Event) Dim() int { return len(e.StartLow) + e.Pushes() }

// Start maps the first len(StartLow) components of x onto the uniform start range.
func (e *Event) Start(x []float64) []float64 {
	s := make([]float64, len(e.StartLow))
	for i := range s {
		s[i] = e.StartLow[i] + normCDF(x[i])*(e.StartHigh[i]-e.StartLow[i])
	}
	return s
}

func normCDF(z float64) float64 { return 0.5 * math.Erfc(-z/math.Sqrt2) }

// The events, one per environment. Each names a failure a person would call one.
var events = map[string]func(pushStd float64) *Event{
	// CartPole-v1: the pole leans past 12° or the cart leaves the track (Gymnasium's own
	// termination) within 500 steps, while every 25 steps the pole is tapped: its angular
	// velocity changes by a normal amount (default std 0.2 rad/s).
	"CartPole-v1": func(std float64) *Event {
		return &Event{Env: "CartPole-v1",
			Description: fmt.Sprintf("the pole beyond 12 degrees or the cart off the track within 500 steps, the pole tapped every 25 steps (angular velocity + N(0, %g^2) rad/s)", std),
			StartLow:    []float64{-0.05, -0.05, -0.05, -0.05}, StartHigh: []float64{0.05, 0.05, 0.05, 0.05},
			PushIndex: 3, PushEvery: 25, PushStd: std, Steps: 500,
			Failed: func(_ int, _ []float64, term bool) bool { return term }}
	},
	// Pendulum-v1: after 100 steps (time to swing up) the pendulum is below horizontal at some
	// step up to 200, while every 20 steps its angular velocity changes by a normal amount
	// (default std 0.5 rad/s).
	"Pendulum-v1": func(std float64) *Event {
		return &Event{Env: "Pendulum-v1",
			Description: fmt.Sprintf("below horizontal (cos theta < 0) at a step after 100, up to 200, pushed every 20 steps (angular velocity + N(0, %g^2) rad/s)", std),
			StartLow:    []float64{-math.Pi, -1}, StartHigh: []float64{math.Pi, 1},
			PushIndex: 1, PushEvery: 20, PushStd: std, Steps: 200,
			Failed: func(t int, s []float64, _ bool) bool { return t > 100 && math.Cos(s[0]) < 0 }}
	},
	// Acrobot-v1: the tip does not reach the line within 500 steps, the first joint pushed
	// every 50 steps (default std 0.5 rad/s).
	"Acrobot-v1": func(std float64) *Event {
		return &Event{Env: "Acrobot-v1",
			Description: fmt.Sprintf("the tip does not reach the line within 500 steps, pushed every 50 steps (first joint's angular velocity + N(0, %g^2) rad/s)", std),
			StartLow:    []float64{-0.1, -0.1, -0.1, -0.1}, StartHigh: []float64{0.1, 0.1, 0.1, 0.1},
			PushIndex: 2, PushEvery: 50, PushStd: std, Steps: 500, EndsOnTerminate: true,
			Failed: func(t int, _ []float64, term bool) bool { return t == 500 && !term }}
	},
	// MountainCarContinuous-v0: the car does not reach the flag within 999 steps, pushed every
	// 100 steps (default std 0.005 in velocity).
	"MountainCarContinuous-v0": func(std float64) *Event {
		return &Event{Env: "MountainCarContinuous-v0",
			Description: fmt.Sprintf("the car does not reach the flag within 999 steps, pushed every 100 steps (velocity + N(0, %g^2))", std),
			StartLow:    []float64{-0.6, 0}, StartHigh: []float64{-0.4, 0},
			PushIndex: 1, PushEvery: 100, PushStd: std, Steps: 999, EndsOnTerminate: true,
			Failed: func(t int, _ []float64, term bool) bool { return t == 999 && !term }}
	},
}

// defaultPush is each event's push std when none is given.
var defaultPush = map[string]float64{"CartPole-v1": 0.2, "Pendulum-v1": 0.5, "Acrobot-v1": 0.5, "MountainCarContinuous-v0": 0.005}

// EventFor returns the failure event of envName with pushes of the given std (0: the
// event's default).
func EventFor(envName string, pushStd float64) (*Event, error) {
	mk, ok := events[envName]
	if !ok {
		return nil, fmt.Errorf("failure: no failure event is defined for %q (have %v)", envName, EventEnvs())
	}
	if pushStd < 0 || math.IsNaN(pushStd) || math.IsInf(pushStd, 0) {
		return nil, fmt.Errorf("failure: push std %v must be a finite number >= 0", pushStd)
	}
	if pushStd == 0 {
		pushStd = defaultPush[envName]
	}
	return mk(pushStd), nil
}

// EventEnvs lists the environments with a failure event.
func EventEnvs() []string {
	var out []string
	for k := range events {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
