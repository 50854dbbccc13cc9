package env

import (
	"math"
	"math/rand/v2"
)

// MountainCarContinuous is MountainCarContinuous-v0: an underpowered car in a valley must rock
// back and forth to reach the flag on the right hill (Moore 1990), as in Gymnasium's
// gymnasium/envs/classic_control/continuous_mountain_car.py (Continuous_MountainCarEnv,
// goal_velocity = 0).
//
// State and observation [position, velocity]. The action is a force in Box(-1, 1), clipped to
// it. velocity += force * 0.0015 - 0.0025 cos(3 position), clipped to [-0.07, 0.07]; position
// += velocity, clipped to [-1.2, 0.6]; at the left wall a leftward velocity becomes 0. The
// episode terminates when position >= 0.45 and velocity >= 0, with +100 on that step; every
// step also costs 0.1 a^2 of the action as given, before clipping. TimeLimit truncates at 999
// steps; reward threshold 90.
//
// Gymnasium stores the state as float32 after every step (np.array(..., dtype=np.float32)), so
// Step computes in float64 and rounds the new state to float32, as that line does.
type MountainCarContinuous struct {
	s   [2]float64
	obs [2]float64
}

// The constants of Continuous_MountainCarEnv.__init__.
const (
	mcMinAction    = -1.0
	mcMaxAction    = 1.0
	mcMinPosition  = -1.2
	mcMaxPosition  = 0.6
	mcMaxSpeed     = 0.07
	mcGoalPosition = 0.45
	mcGoalVelocity = 0
	mcPower        = 0.0015
)

// NewMountainCarContinuous returns MountainCarContinuous-v0 in the state [0, 0]; call Reset or
// SetState first.
func NewMountainCarContinuous() *MountainCarContinuous { return &MountainCarContinuous{} }

// Spec implements Env. Gymnasium's car has no time step; DT is its render_fps, 1/30 s.
func (m *MountainCarContinuous) Spec() Spec {
	return Spec{
		Name:            "MountainCarContinuous-v0",
		MaxEpisodeSteps: 999,
		RewardThreshold: 90,
		DT:              1.0 / 30,
		ObsDim:          2,
		StateDim:        2,
		Action:          Space{Low: []float64{mcMinAction}, High: []float64{mcMaxAction}},
		// Velocity (at most 0.07) at the scale of position (-1.2 to 0.6).
		ObsScale: []float64{1, 1 / mcMaxSpeed},
	}
}

// Reset draws the position from U(-0.6, -0.4) with velocity 0, as
// Continuous_MountainCarEnv.reset (the state stays float64 until the first step).
func (m *MountainCarContinuous) Reset(rng *rand.Rand) []float64 {
	m.s = [2]float64{uniform(rng, -0.6, -0.4), 0}
	return m.Obs()
}

// State implements Env.
func (m *MountainCarContinuous) State() []float64 { return append([]float64(nil), m.s[:]...) }

// SetState implements Env.
func (m *MountainCarContinuous) SetState(s []float64) error {
	if err := CheckState(m.Spec(), s); err != nil {
		return err
	}
	copy(m.s[:], s)
	return nil
}

// Obs is the state.
func (m *MountainCarContinuous) Obs() []float64 {
	m.obs = m.s
	return m.obs[:]
}

// Step implements Env with Continuous_MountainCarEnv.step.
func (m *MountainCarContinuous) Step(action []float64) ([]float64, float64, bool) {
	terminated := m.advance(action)
	reward := 0.0
	if terminated {
		reward = 100.0
	}
	// reward -= math.pow(action[0], 2) * 0.1: the fuel cost of the unclipped action
	reward -= float64(action[0]*action[0]) * 0.1
	return m.Obs(), reward, terminated
}

// StepContinuing implements Continuing: the same dynamics, the same fuel cost, and instead of
// the one-off +100 for arriving (and stopping), +1 for every step that ends at the goal
// (position >= 0.45, velocity >= 0). Past the hilltop at pi/6 the slope carries the car to the
// right wall, where it stays at the goal unless it pushes left, so arriving sooner earns more,
// and no bonus can be farmed by leaving and re-entering the goal (the reward is a function of
// the step alone).
func (m *MountainCarContinuous) StepContinuing(action []float64) ([]float64, float64) {
	atGoal := m.advance(action)
	reward := -float64(action[0]*action[0]) * 0.1
	if atGoal {
		reward++
	}
	return m.Obs(), reward
}

// advance applies the dynamics of Continuous_MountainCarEnv.step and reports its termination
// test, position >= goal_position and velocity >= goal_velocity, which Gymnasium evaluates on
// the float64 values before it stores them as float32.
func (m *MountainCarContinuous) advance(action []float64) (atGoal bool) {
	position, velocity := m.s[0], m.s[1]
	force := math.Min(math.Max(action[0], mcMinAction), mcMaxAction)

	// velocity += force * self.power - 0.0025 * math.cos(3 * position)
	velocity += float64(force*mcPower) - float64(0.0025*cCos(3*position))
	if velocity > mcMaxSpeed {
		velocity = mcMaxSpeed
	}
	if velocity < -mcMaxSpeed {
		velocity = -mcMaxSpeed
	}
	position += velocity
	if position > mcMaxPosition {
		position = mcMaxPosition
	}
	if position < mcMinPosition {
		position = mcMinPosition
	}
	if position == mcMinPosition && velocity < 0 {
		velocity = 0 // an inelastic collision with the left wall
	}
	m.s = [2]float64{f32(position), f32(velocity)}
	return position >= mcGoalPosition && velocity >= mcGoalVelocity
}

// ObsContinuing implements Continuing: it has no absorbing state, so it is Obs.
func (m *MountainCarContinuous) ObsContinuing() []float64 { return m.Obs() }
