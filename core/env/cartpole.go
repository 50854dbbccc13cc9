package env

import (
	"math"
	"math/rand/v2"
)

// CartPole is CartPole-v1: a pole hinged on a cart that is pushed left or right with a fixed
// force, from Barto, Sutton and Anderson (1983), as in Gymnasium's
// gymnasium/envs/classic_control/cartpole.py (CartPoleEnv) with its default "euler" integrator.
//
// State [x, x_dot, theta, theta_dot] (theta = 0 is upright, positive leans right); the
// observation is the state. Actions Discrete(2): 0 pushes left, 1 pushes right. The reward is 1
// per step including the terminating one; the episode terminates when |x| > 2.4 or
// |theta| > 12 degrees, and Gymnasium's TimeLimit truncates it at 500 steps (reward threshold
// 475, gymnasium/envs/__init__.py).
type CartPole struct {
	s   [4]float64
	obs [4]float64
	// beyond is Gymnasium's steps_beyond_terminated != None: a terminal step was returned and the
	// caller kept stepping, so the reward is 0 until the pole is back inside the bounds.
	beyond bool
}

// The constants of CartPoleEnv.__init__.
const (
	cpGravity    = 9.8
	cpMassCart   = 1.0
	cpMassPole   = 0.1
	cpLength     = 0.5 // half the pole's length
	cpForceMag   = 10.0
	cpTau        = 0.02 // seconds between state updates
	cpXThreshold = 2.4
)

// The derived constants, rounded as Python rounds them. Python rounds after every operation; Go
// evaluates a constant expression exactly and rounds once, which agrees for one operation, so
// only the threshold (three operations) is computed at run time from the variable pi.
var (
	pi               = math.Pi
	cpTotalMass      = float64(cpMassPole) + cpMassCart    // masspole + masscart
	cpPoleMassLength = float64(cpMassPole) * cpLength      // masspole * length
	cpThetaThreshold = float64(12) * float64(2) * pi / 360 // 12 * 2 * math.pi / 360
)

// NewCartPole returns CartPole-v1 in the state [0, 0, 0, 0]; call Reset or SetState first.
func NewCartPole() *CartPole { return &CartPole{} }

// Spec implements Env.
func (c *CartPole) Spec() Spec {
	return Spec{
		Name:            "CartPole-v1",
		MaxEpisodeSteps: 500,
		RewardThreshold: 475,
		DT:              cpTau,
		ObsDim:          4,
		StateDim:        4,
		Action:          Space{N: 2},
	}
}

// Reset draws every state variable from U(-0.05, 0.05), as CartPoleEnv.reset.
func (c *CartPole) Reset(rng *rand.Rand) []float64 {
	for i := range c.s {
		c.s[i] = uniform(rng, -0.05, 0.05)
	}
	c.beyond = false
	return c.Obs()
}

// State implements Env.
func (c *CartPole) State() []float64 { return append([]float64(nil), c.s[:]...) }

// SetState implements Env.
func (c *CartPole) SetState(s []float64) error {
	if err := CheckState(c.Spec(), s); err != nil {
		return err
	}
	copy(c.s[:], s)
	c.beyond = false
	return nil
}

// Obs is the state itself (Gymnasium returns it as float32; we keep float64).
func (c *CartPole) Obs() []float64 {
	c.obs = c.s
	return c.obs[:]
}

// Step implements Env with CartPoleEnv.step.
func (c *CartPole) Step(action []float64) ([]float64, float64, bool) {
	c.advance(action)
	terminated := c.outside()
	reward := 1.0
	if terminated {
		if c.beyond {
			reward = 0 // stepping after termination: "undefined behaviour", reward 0
		}
		c.beyond = true
	}
	return c.Obs(), reward, terminated
}

// StepContinuing implements Continuing. Inside Gymnasium's bounds it is Step: the same
// dynamics and reward 1. A state outside the bounds, where Gymnasium terminates, is absorbing
// (Kostrikov et al. 2019, "Discriminator-Actor-Critic", §4.2): the cart and pole stay as they
// fell and every further step earns 0. The fixed-horizon return therefore counts the steps
// begun upright, with no signal hidden in the episode's length; and a fallen pole stays on
// screen, bounded, instead of spinning and drifting off into states that neither a rater nor a
// reward model has a use for.
//
// As in Kostrikov et al., the absorbing state is one state, whatever the fall: its observation
// is CartPoleAbsorbingObs from the step that leaves the bounds on (State and Draw keep the
// pole as it fell). Were it the state the pole fell in, a learned reward that reads
// observations would score each way of falling differently, and since a fallen pole repeats
// that score for the rest of the episode, a policy could earn more by choosing how to fall
// (measured: PPO on r̂ then learns to push one way and fall within 10 steps) than by staying up.
func (c *CartPole) StepContinuing(action []float64) ([]float64, float64) {
	if c.outside() {
		checkDiscrete(action, 2)
		return c.ObsContinuing(), 0
	}
	c.advance(action)
	return c.ObsContinuing(), 1
}

// CartPoleAbsorbingObs is the observation of CartPole's absorbing state in continuing mode:
// the pole hanging straight down under a cart at rest in the middle, a state no upright
// episode comes near (|theta| stays under 0.21 there) and that is the same for a fall either way.
var CartPoleAbsorbingObs = [4]float64{0, 0, pi, 0}

// ObsContinuing implements Continuing: Obs inside the bounds, CartPoleAbsorbingObs outside.
func (c *CartPole) ObsContinuing() []float64 {
	if c.outside() {
		c.obs = CartPoleAbsorbingObs
		return c.obs[:]
	}
	return c.Obs()
}

// outside is CartPoleEnv.step's termination test on the current state.
func (c *CartPole) outside() bool {
	x, theta := c.s[0], c.s[2]
	return x < -cpXThreshold || x > cpXThreshold || theta < -cpThetaThreshold || theta > cpThetaThreshold
}

// advance applies one Euler step of the equations of motion (Florian 2005, "Correct equations
// for the dynamics of the cart-pole system", with friction removed), written in the order
// CartPoleEnv.step evaluates them so that every rounding matches.
func (c *CartPole) advance(action []float64) {
	a := checkDiscrete(action, 2)
	x, xDot, theta, thetaDot := c.s[0], c.s[1], c.s[2], c.s[3]
	force := -cpForceMag
	if a == 1 {
		force = cpForceMag
	}
	sin, cos := cSincos(theta)
	// Every product is rounded with float64(...) before it is added, as Python does, so that no
	// platform fuses it into a multiply-add (Go allows that; the conversion forbids it).
	// temp = (force + polemass_length * theta_dot**2 * sintheta) / total_mass
	temp := (force + float64(float64(cpPoleMassLength*float64(thetaDot*thetaDot))*sin)) / cpTotalMass
	// thetaacc = (gravity * sintheta - costheta * temp) /
	//            (length * (4.0 / 3.0 - masspole * costheta**2 / total_mass))
	thetaAcc := (float64(cpGravity*sin) - float64(cos*temp)) /
		(cpLength * (4.0/3.0 - float64(cpMassPole*float64(cos*cos))/cpTotalMass))
	// xacc = temp - polemass_length * thetaacc * costheta / total_mass
	xAcc := temp - float64(float64(cpPoleMassLength*thetaAcc)*cos)/cpTotalMass
	// kinematics_integrator == "euler"
	c.s[0] = x + float64(cpTau*xDot)
	c.s[1] = xDot + float64(cpTau*xAcc)
	c.s[2] = theta + float64(cpTau*thetaDot)
	c.s[3] = thetaDot + float64(cpTau*thetaAcc)
}

// checkDiscrete returns action[0] as an index in [0, n) and panics otherwise: Step's contract
// is that callers validate input with CheckAction first.
func checkDiscrete(action []float64, n int) int {
	a := action[0]
	i := int(a)
	if float64(i) != a || i < 0 || i >= n {
		panic("env: discrete action out of range (validate with CheckAction)")
	}
	return i
}
