package env

import (
	"math"
	"math/rand/v2"
)

// Acrobot is Acrobot-v1: a two-link chain hanging from a fixed joint, with a torque on the joint
// between the links, that must swing its tip above a line (Sutton 1996; Sutton and Barto's
// book), as in Gymnasium's gymnasium/envs/classic_control/acrobot.py (AcrobotEnv) with
// book_or_nips = "book" and torque_noise_max = 0.
//
// State [theta1, theta2, dtheta1, dtheta2] (theta1 = 0 hangs down, theta2 is relative to link
// 1); observation [cos theta1, sin theta1, cos theta2, sin theta2, dtheta1, dtheta2]. Actions
// Discrete(3) apply torque -1, 0 or +1. The state advances by one RK4 step of dt = 0.2 s; the
// episode terminates when -cos(theta1) - cos(theta1 + theta2) > 1, with reward -1 per step and 0
// on the terminating step. TimeLimit truncates at 500 steps; reward threshold -100.
type Acrobot struct {
	s   [4]float64
	obs [6]float64
}

// The constants of AcrobotEnv.
const (
	abDT      = 0.2
	abL1      = 1.0 // LINK_LENGTH_1 [m]
	abL2      = 1.0 // LINK_LENGTH_2 [m]
	abM1      = 1.0 // LINK_MASS_1 [kg]
	abM2      = 1.0 // LINK_MASS_2 [kg]
	abLC1     = 0.5 // LINK_COM_POS_1 [m]
	abLC2     = 0.5 // LINK_COM_POS_2 [m]
	abI1      = 1.0 // LINK_MOI, both links
	abI2      = 1.0
	abGravity = 9.8
)

// MAX_VEL_1 = 4 * pi and MAX_VEL_2 = 9 * pi, rounded once each as Python does.
var abMaxVel1, abMaxVel2 = 4 * pi, 9 * pi

// abTorque is AVAIL_TORQUE.
var abTorque = [3]float64{-1, 0, 1}

// NewAcrobot returns Acrobot-v1 in the state [0, 0, 0, 0]; call Reset or SetState first.
func NewAcrobot() *Acrobot { return &Acrobot{} }

// Spec implements Env.
func (a *Acrobot) Spec() Spec {
	return Spec{
		Name:            "Acrobot-v1",
		MaxEpisodeSteps: 500,
		RewardThreshold: -100,
		DT:              abDT,
		ObsDim:          6,
		StateDim:        4,
		Action:          Space{N: 3},
	}
}

// Reset draws every state variable from U(-0.1, 0.1) and rounds it to float32, as
// AcrobotEnv.reset does (.astype(np.float32)).
func (a *Acrobot) Reset(rng *rand.Rand) []float64 {
	for i := range a.s {
		a.s[i] = f32(uniform(rng, -0.1, 0.1))
	}
	return a.Obs()
}

// State implements Env.
func (a *Acrobot) State() []float64 { return append([]float64(nil), a.s[:]...) }

// SetState implements Env.
func (a *Acrobot) SetState(s []float64) error {
	if err := CheckState(a.Spec(), s); err != nil {
		return err
	}
	copy(a.s[:], s)
	return nil
}

// Obs is AcrobotEnv._get_ob.
func (a *Acrobot) Obs() []float64 {
	s := &a.s
	sin1, cos1 := cSincos(s[0])
	sin2, cos2 := cSincos(s[1])
	a.obs = [6]float64{cos1, sin1, cos2, sin2, s[2], s[3]}
	return a.obs[:]
}

// Step implements Env with AcrobotEnv.step.
func (a *Acrobot) Step(action []float64) ([]float64, float64, bool) {
	a.advance(action)
	terminated := a.aboveLine()
	reward := -1.0
	if terminated {
		reward = 0
	}
	return a.Obs(), reward, terminated
}

// StepContinuing implements Continuing: the same dynamics and Gymnasium's reward, -1 for a step
// that ends with the tip below the line and 0 for one that ends above it, without terminating;
// the fixed-horizon return counts the steps spent below the line.
func (a *Acrobot) StepContinuing(action []float64) ([]float64, float64) {
	obs, r, _ := a.Step(action)
	return obs, r
}

// aboveLine is AcrobotEnv._terminal: -cos(theta1) - cos(theta2 + theta1) > 1.0.
func (a *Acrobot) aboveLine() bool {
	return -cCos(a.s[0])-cCos(a.s[1]+a.s[0]) > 1.0
}

// advance is the body of AcrobotEnv.step: one RK4 step over [0, dt] of the state augmented with
// the torque, then wrap the angles into [-pi, pi] and bound the speeds.
func (a *Acrobot) advance(action []float64) {
	torque := abTorque[checkDiscrete(action, 3)]
	y0 := [5]float64{a.s[0], a.s[1], a.s[2], a.s[3], torque}
	ns := rk4(abDsdt, y0, abDT)
	ns[0] = wrap(ns[0], -pi, pi)
	ns[1] = wrap(ns[1], -pi, pi)
	ns[2] = bound(ns[2], -abMaxVel1, abMaxVel1)
	ns[3] = bound(ns[3], -abMaxVel2, abMaxVel2)
	copy(a.s[:], ns[:4])
}

// rk4 is acrobot.py's rk4(derivs, y0, [0, dt]): one classic Runge-Kutta step, with the sums in
// the order numpy evaluates y0 + dt / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4).
func rk4(derivs func(y [5]float64) [5]float64, y0 [5]float64, dt float64) [5]float64 {
	dt2 := dt / 2.0
	var y [5]float64
	k1 := derivs(y0)
	for i := range y {
		y[i] = y0[i] + float64(dt2*k1[i])
	}
	k2 := derivs(y)
	for i := range y {
		y[i] = y0[i] + float64(dt2*k2[i])
	}
	k3 := derivs(y)
	for i := range y {
		y[i] = y0[i] + float64(dt*k3[i])
	}
	k4 := derivs(y)
	h := dt / 6.0
	var out [5]float64
	for i := range out {
		sum := k1[i] + float64(2*k2[i]) + float64(2*k3[i]) + k4[i]
		out[i] = y0[i] + float64(h*sum)
	}
	return out
}

// abDsdt is AcrobotEnv._dsdt with the book's equation for ddtheta2: the time derivative of
// the augmented state [theta1, theta2, dtheta1, dtheta2, torque]. Terms are grouped as Python
// groups them (left to right), each product rounded before it is added.
func abDsdt(sa [5]float64) [5]float64 {
	// Typed variables, not constants: Go would evaluate (m1*lc1 + m2*l1) * g exactly and round
	// once (14.7), where Python rounds each operation (14.700000000000001).
	var m1, m2, l1, lc1, lc2, I1, I2, g float64 = abM1, abM2, abL1, abLC1, abLC2, abI1, abI2, abGravity
	a := sa[4]
	theta1, theta2, dtheta1, dtheta2 := sa[0], sa[1], sa[2], sa[3]
	sin2, cos2 := cSincos(theta2)
	// d1 = m1 * lc1**2 + m2 * (l1**2 + lc2**2 + 2 * l1 * lc2 * cos(theta2)) + I1 + I2
	d1 := float64(m1*lc1*lc1) + float64(m2*(l1*l1+lc2*lc2+float64(2*l1*lc2*cos2))) + I1 + I2
	// d2 = m2 * (lc2**2 + l1 * lc2 * cos(theta2)) + I2
	d2 := float64(m2*(lc2*lc2+float64(l1*lc2*cos2))) + I2
	// phi2 = m2 * lc2 * g * cos(theta1 + theta2 - pi / 2.0)
	phi2 := float64(m2 * lc2 * g * cCos(theta1+theta2-pi/2.0))
	// phi1 = -m2 * l1 * lc2 * dtheta2**2 * sin(theta2)
	//        - 2 * m2 * l1 * lc2 * dtheta2 * dtheta1 * sin(theta2)
	//        + (m1 * lc1 + m2 * l1) * g * cos(theta1 - pi / 2) + phi2
	phi1 := float64(float64(-m2*l1*lc2*float64(dtheta2*dtheta2))*sin2) -
		float64(float64(float64(2*m2*l1*lc2*dtheta2)*dtheta1)*sin2) +
		float64((m1*lc1+m2*l1)*g*cCos(theta1-pi/2)) + phi2
	// book: ddtheta2 = (a + d2 / d1 * phi1 - m2 * l1 * lc2 * dtheta1**2 * sin(theta2) - phi2)
	//                  / (m2 * lc2**2 + I2 - d2**2 / d1)
	num := a + float64(d2/d1*phi1) - float64(float64(m2*l1*lc2*float64(dtheta1*dtheta1))*sin2) - phi2
	den := m2*lc2*lc2 + I2 - float64(d2*d2)/d1
	ddtheta2 := num / den
	// ddtheta1 = -(d2 * ddtheta2 + phi1) / d1
	ddtheta1 := -(float64(d2*ddtheta2) + phi1) / d1
	return [5]float64{dtheta1, dtheta2, ddtheta1, ddtheta2, 0}
}

// wrap is acrobot.py's wrap: shift x by whole turns of M - m until m <= x <= M.
func wrap(x, m, M float64) float64 {
	diff := M - m
	for x > M {
		x -= diff
	}
	for x < m {
		x += diff
	}
	return x
}

// bound is acrobot.py's bound: min(max(x, m), M).
func bound(x, m, M float64) float64 { return math.Min(math.Max(x, m), M) }

// ObsContinuing implements Continuing: it has no absorbing state, so it is Obs.
func (a *Acrobot) ObsContinuing() []float64 { return a.Obs() }
