package env

import (
	"math"
	"math/rand/v2"
)

// Pendulum is Pendulum-v1: swing a pendulum up and hold it upright with a bounded torque, as in
// Gymnasium's gymnasium/envs/classic_control/pendulum.py (PendulumEnv, g = 10.0).
//
// State [theta, theta_dot] (theta = 0 is upright, counter-clockwise positive); observation
// [cos theta, sin theta, theta_dot]. The action is a torque in Box(-2, 2), clipped to it. The
// reward is -(angle_normalize(theta)^2 + 0.1 theta_dot^2 + 0.001 u^2) of the state before the
// step and the clipped torque u. It never terminates; TimeLimit truncates at 200 steps.
// Gymnasium defines no reward threshold; Prefer calls a return of -200 solved.
type Pendulum struct {
	s   [2]float64
	obs [3]float64
}

// The constants of PendulumEnv.__init__ (g is its default argument).
const (
	pdMaxSpeed  = 8
	pdMaxTorque = 2.0
	pdDT        = 0.05
	pdG         = 10.0
	pdM         = 1.0
	pdL         = 1.0
)

// NewPendulum returns Pendulum-v1 in the state [0, 0]; call Reset or SetState first.
func NewPendulum() *Pendulum { return &Pendulum{} }

// Spec implements Env.
func (p *Pendulum) Spec() Spec {
	return Spec{
		Name:            "Pendulum-v1",
		MaxEpisodeSteps: 200,
		RewardThreshold: -200, // Prefer's "solved"; Gymnasium registers none
		DT:              pdDT,
		ObsDim:          3,
		StateDim:        2,
		Action:          Space{Low: []float64{-pdMaxTorque}, High: []float64{pdMaxTorque}},
	}
}

// Reset draws theta from U(-pi, pi) and theta_dot from U(-1, 1), as PendulumEnv.reset.
func (p *Pendulum) Reset(rng *rand.Rand) []float64 {
	p.s[0] = uniform(rng, -math.Pi, math.Pi)
	p.s[1] = uniform(rng, -1, 1)
	return p.Obs()
}

// State implements Env.
func (p *Pendulum) State() []float64 { return append([]float64(nil), p.s[:]...) }

// SetState implements Env.
func (p *Pendulum) SetState(s []float64) error {
	if err := CheckState(p.Spec(), s); err != nil {
		return err
	}
	copy(p.s[:], s)
	return nil
}

// Obs is PendulumEnv._get_obs: [cos theta, sin theta, theta_dot].
func (p *Pendulum) Obs() []float64 {
	sin, cos := cSincos(p.s[0])
	p.obs = [3]float64{cos, sin, p.s[1]}
	return p.obs[:]
}

// Step implements Env with PendulumEnv.step.
func (p *Pendulum) Step(action []float64) ([]float64, float64, bool) {
	th, thdot := p.s[0], p.s[1]
	u := clip(action[0], -pdMaxTorque, pdMaxTorque)
	an := angleNormalize(th)
	// costs = angle_normalize(th) ** 2 + 0.1 * thdot**2 + 0.001 * (u**2)
	costs := float64(an*an) + float64(0.1*float64(thdot*thdot)) + float64(0.001*float64(u*u))

	// newthdot = thdot + (3 * g / (2 * l) * np.sin(th) + 3.0 / (m * l**2) * u) * dt
	// (a semi-implicit Euler step: the new speed moves the angle)
	const gain, torqueGain = 3 * pdG / (2 * pdL), 3.0 / (pdM * pdL * pdL) // 15.0 and 3.0, exact
	newthdot := thdot + float64((float64(gain*cSin(th))+float64(torqueGain*u))*pdDT)
	newthdot = clip(newthdot, -pdMaxSpeed, pdMaxSpeed)
	newth := th + float64(newthdot*pdDT)

	p.s = [2]float64{newth, newthdot}
	return p.Obs(), -costs, false
}

// StepContinuing implements Continuing: Pendulum never terminates, so its reward already has
// the same meaning at every step.
func (p *Pendulum) StepContinuing(action []float64) ([]float64, float64) {
	obs, r, _ := p.Step(action)
	return obs, r
}

// angleNormalize is Pendulum's angle_normalize, ((x + pi) % (2 pi)) - pi, with numpy's float
// modulo, whose result takes the divisor's sign (Go's math.Mod takes the dividend's).
func angleNormalize(x float64) float64 {
	return pyMod(x+math.Pi, 2*math.Pi) - math.Pi
}

// pyMod is numpy's (and Python's) float a % b: fmod, moved into the divisor's sign.
func pyMod(a, b float64) float64 {
	m := math.Mod(a, b)
	if m != 0 {
		if (b < 0) != (m < 0) {
			m += b
		}
	} else {
		m = math.Copysign(0, b)
	}
	return m
}

// clip is np.clip for one number (and min(max(x, lo), hi)).
func clip(x, lo, hi float64) float64 {
	return math.Min(math.Max(x, lo), hi)
}

// ObsContinuing implements Continuing: it has no absorbing state, so it is Obs.
func (p *Pendulum) ObsContinuing() []float64 { return p.Obs() }
