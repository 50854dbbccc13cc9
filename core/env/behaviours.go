package env

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Behaviour is a classroom task that no reward function defines: the class teaches it by its
// preferences alone, on a Gymnasium task's dynamics, start states and drawing. Its episodes
// last Horizon steps and never terminate early, as in fixed-horizon mode (Christiano et al.
// 2017, App. A.1: when every episode has the same length, the length carries no reward that
// the learned reward cannot see).
//
// The env registered as Name has no built-in reward (Spec.NoReward; Step's reward is 0). Its
// scripted checker, Score, is registered as a second env, CheckerPrefix+Name, whose reward is
// the checker's score: that is what demo raters answer from and what Prefer measures a policy
// with (ppo.Evaluate on ScoredEnv(Name)). Raters never see it.
//
// A checker's score of a clip or an episode is the sum of its steps' scores, so it is a reward
// function in the sense of the Bradley-Terry model of Christiano et al. (2017, eq. 1): a class
// of noiseless raters who judge as the checker does is a synthetic rater (core/oracle)
// answering from the checker's return.
type Behaviour struct {
	Name    string // registered id of the env raters label, e.g. "PendulumSpin-v0"
	Base    string // the Gymnasium task whose dynamics it has, e.g. "Pendulum-v1"
	Goal    string // the behaviour in words, as the teacher presents it to the class
	Checker string // how the scripted checker scores, in words, for the teacher and the docs
	Horizon int    // steps per episode (the TimeLimit); every episode lasts exactly this long
	// Score is the checker's score of one step from the state before it, the action and the
	// state after it (states as Env.State returns them). It must be finite for finite input.
	Score func(state, action, next []float64) float64

	base func() Continuing // a fresh env with the base task's dynamics
}

// CheckerPrefix is the namespace of the checker envs: CheckerPrefix+b.Name is b's dynamics
// with the checker's score as the reward.
const CheckerPrefix = "checker/"

// behaviours are the built-in behaviours, registered by init.
var behaviours = []Behaviour{
	{
		Name:    "PendulumSpin-v0",
		Base:    "Pendulum-v1",
		Goal:    "pendulum: spin counter-clockwise without stopping",
		Checker: "counter-clockwise turns per step (Δθ/2π); clockwise turns count negative",
		Horizon: 200,
		// The state's angle is not wrapped, so next - state is the step's rotation,
		// θ̇'·dt. A full turn needs ½θ̇² ≥ 2·15 at the bottom (θ̇ ≥ 7.75 of the 8 allowed), so
		// the pendulum has to pump before it can go over the top, and then keep pushing.
		Score: func(s, _, next []float64) float64 { return (next[0] - s[0]) / (2 * math.Pi) },
		base:  func() Continuing { return NewPendulum() },
	},
	{
		Name:    "CartPoleLeft-v0",
		Base:    "CartPole-v1",
		Goal:    "cartpole: balance while staying on the left half",
		Checker: "per step begun upright (CartPole's bounds): 1 if it ends left of the centre (x < 0), ½ if right of it; 0 for a fallen pole",
		Horizon: 500,
		// Half marks for balancing on the wrong side, as a class would rate it: a clip that
		// balances on the right is better than one that falls, and worse than one on the left.
		// With no credit for it (tried first), a policy starting in the middle gets nothing for
		// staying up until it is left of centre, and 600 labels did not teach it to balance
		// (checker 33-77 against a random policy's 14.5).
		Score: func(s, _, next []float64) float64 {
			switch {
			case cpOutside(s[0], s[2]):
				return 0
			case next[0] >= 0:
				return 0.5
			}
			return 1
		},
		base: func() Continuing { return NewCartPole() },
	},
	{
		Name:    "MountainCarRock-v0",
		Base:    "MountainCarContinuous-v0",
		Goal:    "mountain car: rock back and forth without reaching the flag",
		Checker: "speed |v|/0.07 for every step that ends below the flag (x < 0.45); −1 for every step at or past it",
		Horizon: 500,
		// Speed in a valley comes only from swinging, and swinging higher is faster, up to
		// the point where the car crosses the hilltop and reaches the flag: the best rocking
		// stops just short of it.
		Score: func(_, _, next []float64) float64 {
			if next[0] >= mcGoalPosition {
				return -1
			}
			return math.Abs(next[1]) / mcMaxSpeed
		},
		base: func() Continuing { return NewMountainCarContinuous() },
	},
}

func init() {
	for i := range behaviours {
		b := &behaviours[i]
		Register(b.Name, func() Env { return newBehaviourEnv(b, false) })
		Register(CheckerPrefix+b.Name, func() Env { return newBehaviourEnv(b, true) })
	}
}

// Behaviours returns the built-in behaviours.
func Behaviours() []Behaviour { return append([]Behaviour(nil), behaviours...) }

// BehaviourOf returns the behaviour registered as name (its own name, not the checker's).
func BehaviourOf(name string) (Behaviour, bool) {
	for _, b := range behaviours {
		if b.Name == name {
			return b, true
		}
	}
	return Behaviour{}, false
}

// ScoredEnv returns the name of the registered env whose reward measures the task name: name
// itself for a task with a built-in reward, the checker env for a behaviour. It fails for an
// unknown env and for one with no reward and no checker.
func ScoredEnv(name string) (string, error) {
	if b, ok := BehaviourOf(name); ok {
		return CheckerPrefix + b.Name, nil
	}
	e, err := Lookup(name)
	if err != nil {
		return "", err
	}
	if e.Spec().NoReward {
		// A behaviour registered outside this package (a text task, core/text) keeps its
		// checker under the same prefix.
		if _, err := Lookup(CheckerPrefix + name); err == nil {
			return CheckerPrefix + name, nil
		}
		return "", fmt.Errorf("env: %s has no reward and no checker", name)
	}
	return name, nil
}

// ScoreClip returns a clip's true return: the sum of the fixed-horizon rewards of ScoredEnv(name)
// over the clip's steps. It is the score of a behaviour's checker, and for a Gymnasium task the
// fixed-horizon return that core/loop's synthetic rater answers from. Bad input is an error, as
// in Replay.
func ScoreClip(name string, start []float64, actions [][]float64) (float64, error) {
	rewards, err := ClipRewards(name, start, actions)
	if err != nil {
		return 0, err
	}
	sum := 0.0
	for _, r := range rewards {
		sum += r
	}
	return sum, nil
}

// ClipRewards returns the per-step fixed-horizon rewards of ScoredEnv(name) over a clip's
// steps, whose sum is ScoreClip: what B-Pref's teachers (core/oracle.Teacher) read.
func ClipRewards(name string, start []float64, actions [][]float64) ([]float64, error) {
	scored, err := ScoredEnv(name)
	if err != nil {
		return nil, err
	}
	e, err := Lookup(scored)
	if err != nil {
		return nil, err
	}
	fh, err := FixedHorizon(e, 0)
	if err != nil {
		return nil, err
	}
	_, rewards, _, err := ReplayEnv(fh, start, actions)
	return rewards, err
}

// behaviourEnv is a behaviour's env: the base task's continuing dynamics, no termination, and
// a reward of 0, or the checker's score for the checker env.
type behaviourEnv struct {
	c      Continuing
	b      *Behaviour
	scored bool // the checker env: the reward is b.Score
	spec   Spec
}

func newBehaviourEnv(b *Behaviour, scored bool) *behaviourEnv {
	c := b.base()
	spec := c.Spec()
	spec.Name = b.Name
	spec.MaxEpisodeSteps = b.Horizon
	spec.RewardThreshold = math.NaN()
	spec.NoReward = !scored
	if scored {
		spec.Name = CheckerPrefix + b.Name
	}
	return &behaviourEnv{c: c, b: b, scored: scored, spec: spec}
}

func (e *behaviourEnv) Spec() Spec                     { return e.spec }
func (e *behaviourEnv) Reset(rng *rand.Rand) []float64 { return e.c.Reset(rng) }
func (e *behaviourEnv) State() []float64               { return e.c.State() }
func (e *behaviourEnv) SetState(s []float64) error     { return e.c.SetState(s) }
func (e *behaviourEnv) Obs() []float64                 { return e.c.ObsContinuing() }

// Draw is the base task's drawing; CartPoleLeft also marks the centre of the track, so raters
// can see which half the cart is on.
func (e *behaviourEnv) Draw(state []float64) Scene {
	sc := e.c.Draw(state)
	if e.b.Name == "CartPoleLeft-v0" {
		mark := Shape{Kind: Line, Points: []float64{0, -0.25, 0, 0.25}, Stroke: "#888888", Width: 2 / cpPx}
		sc.Shapes = append([]Shape{mark}, sc.Shapes...)
	}
	return sc
}

// Step never terminates: a behaviour's episode lasts Horizon steps (see Behaviour).
func (e *behaviourEnv) Step(action []float64) ([]float64, float64, bool) {
	obs, r := e.StepContinuing(action)
	return obs, r, false
}

// StepContinuing implements Continuing with the base task's continuing dynamics (a fallen
// CartPole is absorbing) and a reward of 0, or the checker's score.
func (e *behaviourEnv) StepContinuing(action []float64) ([]float64, float64) {
	if !e.scored {
		obs, _ := e.c.StepContinuing(action)
		return obs, 0
	}
	prev := e.c.State()
	obs, _ := e.c.StepContinuing(action)
	return obs, e.b.Score(prev, action, e.c.State())
}

// ObsContinuing implements Continuing; a behaviour is always continuing, so it is Obs.
func (e *behaviourEnv) ObsContinuing() []float64 { return e.c.ObsContinuing() }

// cpOutside is CartPole's termination test on a state's position and angle.
func cpOutside(x, theta float64) bool {
	return x < -cpXThreshold || x > cpXThreshold || theta < -cpThetaThreshold || theta > cpThetaThreshold
}
