package env

import (
	"errors"
	"fmt"
	"math"
)

// Errors that Replay, CheckAction and CheckState wrap, so callers can tell bad input apart with
// errors.Is; the wrapping message names the step and the value that is wrong.
var (
	ErrUnknownEnv   = errors.New("env: unknown env")
	ErrStateLength  = errors.New("env: wrong state length")
	ErrActionLength = errors.New("env: wrong action length")
	ErrActionSpace  = errors.New("env: action outside the discrete space")
	ErrNotFinite    = errors.New("env: number is not finite")
)

// CheckAction reports whether action is valid for spec.Action.
//
// A discrete action is one number, an integer in [0, N). A continuous action has Dim numbers,
// each finite but otherwise unrestricted: Step clips it as Gymnasium does.
func CheckAction(spec Spec, action []float64) error {
	sp := spec.Action
	if len(action) != sp.Dim() {
		return fmt.Errorf("%w: %s wants %d number(s), got %d", ErrActionLength, spec.Name, sp.Dim(), len(action))
	}
	for _, a := range action {
		if math.IsNaN(a) || math.IsInf(a, 0) {
			return fmt.Errorf("%w: action %v", ErrNotFinite, a)
		}
	}
	if sp.Discrete() {
		a := action[0]
		if a != math.Trunc(a) || a < 0 || a >= float64(sp.N) {
			return fmt.Errorf("%w: %v is not in Discrete(%d) of %s (an integer in [0, %d))",
				ErrActionSpace, a, sp.N, spec.Name, sp.N)
		}
	}
	return nil
}

// CheckState reports whether s can be an internal state of an environment with spec: it must
// have StateDim finite numbers.
func CheckState(spec Spec, s []float64) error {
	if len(s) != spec.StateDim {
		return fmt.Errorf("%w: %s has a state of %d numbers, got %d", ErrStateLength, spec.Name, spec.StateDim, len(s))
	}
	for i, v := range s {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("%w: state[%d] = %v", ErrNotFinite, i, v)
		}
	}
	return nil
}

// f32 rounds x to the nearest float32, as numpy's astype(np.float32) and
// np.array(..., dtype=np.float32) do, and widens it back.
func f32(x float64) float64 { return float64(float32(x)) }

// uniform draws from U[low, high) the way numpy's Generator.uniform does: low + (high-low)*u.
func uniform(rng interface{ Float64() float64 }, low, high float64) float64 {
	return low + (high-low)*rng.Float64()
}
