package env

import "fmt"

// Replay replays a clip of the environment registered as name: it sets the state to start,
// applies each action in turn, and returns the state after each step (Gymnasium's
// env.unwrapped.state), its reward and its terminated flag. It stops after the first step
// that terminates, so len(states) <= len(actions).
//
// This is the contract for checking dynamics against Gymnasium and how a browser redraws a clip
// from (env, start state, actions). Bad input is an error wrapping ErrUnknownEnv,
// ErrStateLength, ErrActionLength, ErrActionSpace or ErrNotFinite, naming the step at fault.
func Replay(name string, start []float64, actions [][]float64) (states [][]float64, rewards []float64, terminated []bool, err error) {
	e, err := Lookup(name)
	if err != nil {
		return nil, nil, nil, err
	}
	return ReplayEnv(e, start, actions)
}

// ReplayEnv is Replay on a given Env, such as one in fixed-horizon mode (which never
// terminates, so it replays every action). It validates all input before stepping.
func ReplayEnv(e Env, start []float64, actions [][]float64) (states [][]float64, rewards []float64, terminated []bool, err error) {
	spec := e.Spec()
	if err := CheckState(spec, start); err != nil {
		return nil, nil, nil, fmt.Errorf("%w (in start_state)", err)
	}
	for i, a := range actions {
		if err := CheckAction(spec, a); err != nil {
			return nil, nil, nil, fmt.Errorf("%w (at step %d, actions[%d])", err, i, i)
		}
	}
	if err := e.SetState(start); err != nil {
		return nil, nil, nil, err
	}
	states = make([][]float64, 0, len(actions))
	rewards = make([]float64, 0, len(actions))
	terminated = make([]bool, 0, len(actions))
	for i, a := range actions {
		_, r, done := e.Step(a)
		st := e.State()
		if !finite(st...) || !finite(r) {
			return nil, nil, nil, fmt.Errorf("%w: the state overflowed at step %d (start state too large?)", ErrNotFinite, i)
		}
		states = append(states, st)
		rewards = append(rewards, r)
		terminated = append(terminated, done)
		if done {
			break
		}
	}
	return states, rewards, terminated, nil
}

// Transitions replays a clip of the environment registered as name in fixed-horizon mode, as
// clips are recorded, and returns what a reward model reads of it: per step, the observation
// before it, the action and the observation after (rows of ObsDim and the action dimension).
// It is the one clip -> segment replay: the hub's trainer, the browser's fitter and the
// experiments all read clips through it. Bad input is an error as for Replay.
func Transitions(name string, start []float64, actions [][]float64) (obs, act, next []float64, err error) {
	e, err := Lookup(name)
	if err != nil {
		return nil, nil, nil, err
	}
	if e, err = FixedHorizon(e, 0); err != nil {
		return nil, nil, nil, err
	}
	spec := e.Spec()
	if err := CheckState(spec, start); err != nil {
		return nil, nil, nil, fmt.Errorf("%w (in start_state)", err)
	}
	for i, a := range actions {
		if err := CheckAction(spec, a); err != nil {
			return nil, nil, nil, fmt.Errorf("%w (at step %d, actions[%d])", err, i, i)
		}
	}
	if err := e.SetState(start); err != nil {
		return nil, nil, nil, err
	}
	n, od := len(actions), spec.ObsDim
	obs = make([]float64, 0, n*od)
	act = make([]float64, 0, n*spec.Action.Dim())
	next = make([]float64, 0, n*od)
	for i, a := range actions {
		obs = append(obs, e.Obs()...)
		act = append(act, a...)
		o, _, _ := e.Step(a)
		if !finite(o...) {
			return nil, nil, nil, fmt.Errorf("%w: the state overflowed at step %d (start state too large?)", ErrNotFinite, i)
		}
		next = append(next, o...)
	}
	return obs, act, next, nil
}
