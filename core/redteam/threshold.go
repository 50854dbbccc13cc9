package redteam

import (
	"fmt"
	"math"
)

// Threshold returns the task's failure threshold on a clip's true return (env.ScoreClip, the
// fixed-horizon return) for a clip of steps steps: a clip whose true return is below it failed
// the task. Per step:
//   - CartPole-v1: 0.5, the pole down (absorbing state, reward 0) for more than half the clip.
//   - Pendulum-v1: −6, on average more than ~2.4 rad from upright (hanging is −π² ≈ −9.9).
//   - Acrobot-v1: −0.99, the tip above the line on fewer than 1% of the steps.
//   - MountainCarContinuous-v0: 0, no step at the flag (only the flag pays more than the fuel).
//   - PendulumSpin-v0: 0.25/100, less than a quarter turn per 100 steps.
//   - CartPoleLeft-v0: 0.5, no better than balancing on the wrong side.
//   - MountainCarRock-v0: 0.1, mean speed under a tenth of the maximum, or at the flag.
func Threshold(envName string, steps int) (float64, error) {
	per, ok := map[string]float64{
		"CartPole-v1":              0.5,
		"Pendulum-v1":              -6,
		"Acrobot-v1":               -0.99,
		"MountainCarContinuous-v0": 0,
		"PendulumSpin-v0":          0.0025,
		"CartPoleLeft-v0":          0.5,
		"MountainCarRock-v0":       0.1,
	}[envName]
	if !ok || steps <= 0 {
		return math.NaN(), fmt.Errorf("redteam: no failure threshold for env %q", envName)
	}
	return per * float64(steps), nil
}
