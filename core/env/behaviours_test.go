package env

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

// randomAction draws a uniformly random valid action for sp (wider than a box, to test clipping).
func randomAction(sp Space, rng *rand.Rand) []float64 {
	if sp.Discrete() {
		return []float64{float64(rng.IntN(sp.N))}
	}
	return []float64{uniformTest(rng, sp.Low[0]*1.5, sp.High[0]*1.5)}
}

func TestBehavioursHaveNoRewardAndTheBaseDynamics(t *testing.T) {
	if len(Behaviours()) < 3 {
		t.Fatalf("%d behaviours, want at least 3", len(Behaviours()))
	}
	rng := rand.New(rand.NewPCG(5, 5))
	for _, b := range Behaviours() {
		e, err := Lookup(b.Name)
		if err != nil {
			t.Fatal(err)
		}
		checker, err := Lookup(CheckerPrefix + b.Name)
		if err != nil {
			t.Fatal(err)
		}
		base, _ := Lookup(b.Base)
		fh, err := FixedHorizon(base, 0)
		if err != nil {
			t.Fatal(err)
		}
		sp, cs := e.Spec(), checker.Spec()
		if !sp.NoReward || cs.NoReward || sp.Name != b.Name || cs.Name != CheckerPrefix+b.Name ||
			sp.MaxEpisodeSteps != b.Horizon || cs.MaxEpisodeSteps != b.Horizon || !math.IsNaN(sp.RewardThreshold) {
			t.Fatalf("%s: spec %+v, checker spec %+v", b.Name, sp, cs)
		}
		if sp.ObsDim != base.Spec().ObsDim || sp.Action.Dim() != base.Spec().Action.Dim() {
			t.Fatalf("%s: obs/action differ from %s", b.Name, b.Base)
		}
		for ep := 0; ep < 3; ep++ {
			seed := rng.Uint64()
			e.Reset(rand.New(rand.NewPCG(seed, 1)))
			checker.Reset(rand.New(rand.NewPCG(seed, 1)))
			fh.Reset(rand.New(rand.NewPCG(seed, 1)))
			for i := range 2 * b.Horizon {
				a := randomAction(sp.Action, rng)
				prev := e.State()
				_, r, done := e.Step(a)
				_, cr, cdone := checker.Step(a)
				fh.Step(a)
				if r != 0 || done || cdone {
					t.Fatalf("%s step %d: reward %v, terminated %v/%v; want 0 and never", b.Name, i, r, done, cdone)
				}
				if !equal(e.State(), fh.State()) || !equal(checker.State(), fh.State()) {
					t.Fatalf("%s step %d: state %v, checker %v, %s fixed-horizon %v", b.Name, i, e.State(), checker.State(), b.Base, fh.State())
				}
				if want := b.Score(prev, a, e.State()); cr != want || !finite(cr) {
					t.Fatalf("%s step %d: checker reward %v, Score %v", b.Name, i, cr, want)
				}
			}
		}
	}
}

// Hand-made steps whose score is known.
func TestCheckerScores(t *testing.T) {
	cases := []struct {
		name          string
		state, action []float64
		want          float64
	}{
		// Pendulum: at the bottom moving counter-clockwise at 4 rad/s, no torque: gravity has
		// no moment there, so θ̇' = 4 and the pendulum turns 4·0.05 rad = 0.2/2π turns.
		{"PendulumSpin-v0", []float64{math.Pi, 4}, []float64{0}, 0.2 / (2 * math.Pi)},
		{"PendulumSpin-v0", []float64{math.Pi, -4}, []float64{0}, -0.2 / (2 * math.Pi)},
		// CartPole: upright on the left earns 1; on the right, or fallen, 0.
		{"CartPoleLeft-v0", []float64{-1, 0, 0, 0}, []float64{0}, 1},
		{"CartPoleLeft-v0", []float64{1, 0, 0, 0}, []float64{1}, 0.5},
		{"CartPoleLeft-v0", []float64{-1, 0, 0.5, 0}, []float64{0}, 0},
		{"CartPoleLeft-v0", []float64{-2.5, 0, 0, 0}, []float64{0}, 0},
		// MountainCar: past the flag −1; in the valley at top speed about 1.
		{"MountainCarRock-v0", []float64{0.5, 0.01}, []float64{0}, -1},
		{"MountainCarRock-v0", []float64{-0.5236, 0.07}, []float64{1}, 1},
		{"MountainCarRock-v0", []float64{-0.5236, 0}, []float64{0}, 0},
	}
	for _, c := range cases {
		got, err := ScoreClip(c.name, c.state, [][]float64{c.action})
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(got-c.want) > 1e-3 {
			t.Errorf("%s from %v: score %v, want %v", c.name, c.state, got, c.want)
		}
	}
}

// The checkers tell the behaviour from random behaviour: constant counter-clockwise torque
// spins the pendulum, and a random policy does not.
func TestCheckerSeparatesBehaviourFromRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	episode := func(name string, act func() []float64) float64 {
		e, _ := Lookup(CheckerPrefix + name)
		e.Reset(rng)
		total := 0.0
		for range e.Spec().MaxEpisodeSteps {
			_, r, _ := e.Step(act())
			total += r
		}
		return total
	}
	sp, _ := Lookup("PendulumSpin-v0")
	ccw, cw, random := 0.0, 0.0, 0.0
	for range 10 {
		ccw += episode("PendulumSpin-v0", func() []float64 { return []float64{2} }) / 10
		cw += episode("PendulumSpin-v0", func() []float64 { return []float64{-2} }) / 10
		random += episode("PendulumSpin-v0", func() []float64 { return randomAction(sp.Spec().Action, rng) }) / 10
	}
	if !(ccw > 3 && cw < -3 && math.Abs(random) < 1) {
		t.Fatalf("pendulum turns per episode: counter-clockwise torque %.2f, clockwise %.2f, random %.2f", ccw, cw, random)
	}
	// Pushing the car in the direction it moves pumps energy until it crosses the flag; the
	// checker scores the rocking first and the arrival negatively.
	pump := func(e Env) float64 {
		e.Reset(rng)
		total, v := 0.0, 0.0
		for range e.Spec().MaxEpisodeSteps {
			obs, r, _ := e.Step([]float64{math.Copysign(1, v)})
			v = obs[1]
			total += r
		}
		return total
	}
	mc, _ := Lookup(CheckerPrefix + "MountainCarRock-v0")
	if got := pump(mc); got > 0 {
		t.Fatalf("MountainCarRock: pumping over the flag scores %.1f, want negative", got)
	}
}

func TestScoredEnvAndScoreClip(t *testing.T) {
	if n, err := ScoredEnv("CartPole-v1"); err != nil || n != "CartPole-v1" {
		t.Fatalf("ScoredEnv(CartPole-v1) = %q, %v", n, err)
	}
	if n, err := ScoredEnv("MountainCarRock-v0"); err != nil || n != "checker/MountainCarRock-v0" {
		t.Fatalf("ScoredEnv(MountainCarRock-v0) = %q, %v", n, err)
	}
	if _, err := ScoredEnv("Nope-v0"); !errors.Is(err, ErrUnknownEnv) {
		t.Fatalf("unknown env: %v", err)
	}
	// A Gymnasium task's clip score is its fixed-horizon return: CartPole earns 1 a step
	// until the pole falls, then 0.
	actions := make([][]float64, 60)
	for i := range actions {
		actions[i] = []float64{1}
	}
	got, err := ScoreClip("CartPole-v1", []float64{0, 0, 0, 0}, actions)
	if err != nil {
		t.Fatal(err)
	}
	if got < 5 || got >= 60 {
		t.Fatalf("CartPole always pushing right: %v steps upright of 60", got)
	}
	if _, err := ScoreClip("CartPoleLeft-v0", []float64{0, 0}, actions); !errors.Is(err, ErrStateLength) {
		t.Fatalf("bad start state: %v", err)
	}
	if _, err := ScoreClip("CartPoleLeft-v0", []float64{0, 0, 0, 0}, [][]float64{{2}}); !errors.Is(err, ErrActionSpace) {
		t.Fatalf("bad action: %v", err)
	}
}
