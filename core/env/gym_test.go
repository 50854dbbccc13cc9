package env

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// The replay contract: Replay matches Gymnasium's equations (the test-local transliterations in
// gymref_test.go) to 1e-9 on CartPole and 1e-6 on the others, over long random action
// sequences from random start states, with out-of-range continuous actions and termination.

// clip is one replay case: a start state and actions.
type refCase struct {
	start   []float64
	actions [][]float64
}

// checkAgainstRef replays c and compares every state, reward and terminated flag with the
// reference's, which steps with refStep until it terminates. It returns the number of steps.
func checkAgainstRef(t *testing.T, name string, c refCase, tol float64,
	refStep func(a []float64) (state []float64, reward float64, terminated bool)) int {
	t.Helper()
	states, rewards, terminated, err := Replay(name, c.start, c.actions)
	if err != nil {
		t.Fatalf("%s: Replay: %v", name, err)
	}
	n := 0
	for i, a := range c.actions {
		ws, wr, wt := refStep(a)
		if i >= len(states) {
			t.Fatalf("%s: Replay stopped after %d steps; Gymnasium goes on (terminated=%v)", name, len(states), wt)
		}
		for j := range ws {
			if d := math.Abs(states[i][j] - ws[j]); !(d <= tol*math.Max(1, math.Abs(ws[j]))) {
				t.Fatalf("%s: step %d state[%d] = %.17g, Gymnasium %.17g (diff %g)\nstart %v", name, i, j, states[i][j], ws[j], d, c.start)
			}
		}
		if math.Abs(rewards[i]-wr) > tol || terminated[i] != wt {
			t.Fatalf("%s: step %d reward %v terminated %v, Gymnasium %v %v", name, i, rewards[i], terminated[i], wr, wt)
		}
		n++
		if wt {
			break
		}
	}
	if n != len(states) {
		t.Fatalf("%s: Replay returned %d states, Gymnasium stops after %d", name, len(states), n)
	}
	return n
}

func TestReplayMatchesGymnasiumCartPole(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	steps, terms := 0, 0
	for ep := range 300 {
		start := make([]float64, 4)
		for i := range start {
			start[i] = uniformTest(rng, -0.2, 0.2)
		}
		// A noisy balancing policy makes some episodes long (up to 500 steps) and others short.
		noise := []float64{0, 0.1, 0.3, 0.5}[ep%4]
		var actions [][]float64
		sim := refCartPole{stepsBeyondTerminated: -1}
		copy(sim.state[:], start)
		for range 500 {
			a := 0
			if sim.state[2]+0.3*sim.state[3]+0.01*sim.state[1] > 0 {
				a = 1
			}
			if rng.Float64() < noise {
				a = rng.IntN(2)
			}
			actions = append(actions, []float64{float64(a)})
			if _, done := sim.step(a); done {
				break
			}
		}
		ref := refCartPole{stepsBeyondTerminated: -1}
		copy(ref.state[:], start)
		n := checkAgainstRef(t, "CartPole-v1", refCase{start, actions}, 1e-9, func(a []float64) ([]float64, float64, bool) {
			r, done := ref.step(int(a[0]))
			return ref.state[:], r, done
		})
		steps += n
		if len(actions) > 0 && n == len(actions) && ref.stepsBeyondTerminated == 0 {
			terms++
		}
	}
	if steps < 5000 || terms < 50 {
		t.Fatalf("weak test: %d steps, %d terminations", steps, terms)
	}
	t.Logf("CartPole-v1: %d steps, %d terminations, all within 1e-9", steps, terms)
}

func TestReplayMatchesGymnasiumPendulum(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	steps := 0
	for ep := range 20 {
		start := []float64{uniformTest(rng, -10, 10), uniformTest(rng, -8, 8)}
		if ep == 0 {
			start = []float64{math.Pi, 0} // hanging still: exact angle_normalize edge
		}
		actions := make([][]float64, 1000)
		for i := range actions {
			actions[i] = []float64{uniformTest(rng, -4, 4)} // half of them outside [-2, 2]
		}
		ref := refPendulum{state: [2]float64{start[0], start[1]}}
		steps += checkAgainstRef(t, "Pendulum-v1", refCase{start, actions}, 1e-6, func(a []float64) ([]float64, float64, bool) {
			r := ref.step(a[0])
			return ref.state[:], r, false
		})
	}
	t.Logf("Pendulum-v1: %d steps within 1e-6", steps)
}

func TestReplayMatchesGymnasiumAcrobot(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	steps, terms := 0, 0
	for ep := range 40 {
		var start []float64
		if ep%2 == 0 { // near Gymnasium's reset
			start = []float64{uniformTest(rng, -0.1, 0.1), uniformTest(rng, -0.1, 0.1), uniformTest(rng, -0.1, 0.1), uniformTest(rng, -0.1, 0.1)}
		} else { // anywhere, including angles beyond pi that wrap
			start = []float64{uniformTest(rng, -4, 4), uniformTest(rng, -4, 4), uniformTest(rng, -12, 12), uniformTest(rng, -28, 28)}
		}
		// Random torques; from the wide starts, many episodes swing above the line and end.
		actions := make([][]float64, 500)
		for i := range actions {
			actions[i] = []float64{float64(rng.IntN(3))}
		}
		ref := refAcrobot{state: [4]float64{start[0], start[1], start[2], start[3]}}
		var last bool
		steps += checkAgainstRef(t, "Acrobot-v1", refCase{start, actions}, 1e-6, func(a []float64) ([]float64, float64, bool) {
			r, done := ref.step(int(a[0]))
			last = done
			return ref.state[:], r, done
		})
		if last {
			terms++
		}
	}
	if steps < 5000 || terms < 5 {
		t.Fatalf("weak test: %d steps, %d terminations", steps, terms)
	}
	t.Logf("Acrobot-v1: %d steps, %d terminations, all within 1e-6", steps, terms)
}

func TestReplayMatchesGymnasiumMountainCarContinuous(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	steps, terms := 0, 0
	for ep := range 30 {
		start := []float64{uniformTest(rng, -1.2, 0.44), uniformTest(rng, -0.07, 0.07)}
		if ep%3 == 0 {
			start = []float64{-1.1, -0.07} // straight into the left wall
		}
		// Random actions in [-3, 3] (out of range two times in three); every other episode
		// pushes with the velocity, which reaches the goal.
		sim := refMountainCar{state: [2]float64{start[0], start[1]}}
		var actions [][]float64
		for range 999 {
			a := uniformTest(rng, -3, 3)
			if ep%2 == 1 {
				a = math.Copysign(uniformTest(rng, 0.5, 3), sim.state[1])
			}
			actions = append(actions, []float64{a})
			if _, done := sim.step(a); done {
				break
			}
		}
		ref := refMountainCar{state: [2]float64{start[0], start[1]}}
		var last bool
		steps += checkAgainstRef(t, "MountainCarContinuous-v0", refCase{start, actions}, 1e-6, func(a []float64) ([]float64, float64, bool) {
			r, done := ref.step(a[0])
			last = done
			return ref.state[:], r, done
		})
		if last {
			terms++
		}
	}
	if steps < 5000 || terms < 10 {
		t.Fatalf("weak test: %d steps, %d terminations", steps, terms)
	}
	t.Logf("MountainCarContinuous-v0: %d steps, %d terminations, all within 1e-6", steps, terms)
}

// TestReplayIsBitExact documents a stronger property than the contract: the package computes
// exactly what the transliterations compute, rounding for rounding, on every env.
func TestReplayIsBitExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	for _, name := range []string{"CartPole-v1", "Pendulum-v1", "Acrobot-v1", "MountainCarContinuous-v0"} {
		e, _ := Lookup(name)
		e.Reset(rng)
		start := e.State()
		actions := make([][]float64, 300)
		for i := range actions {
			if e.Spec().Action.Discrete() {
				actions[i] = []float64{float64(rng.IntN(e.Spec().Action.N))}
			} else {
				actions[i] = []float64{uniformTest(rng, -3, 3)}
			}
		}
		var ref func(a []float64) []float64
		switch name {
		case "CartPole-v1":
			r := refCartPole{stepsBeyondTerminated: -1}
			copy(r.state[:], start)
			ref = func(a []float64) []float64 { r.step(int(a[0])); return r.state[:] }
		case "Pendulum-v1":
			r := refPendulum{}
			copy(r.state[:], start)
			ref = func(a []float64) []float64 { r.step(a[0]); return r.state[:] }
		case "Acrobot-v1":
			r := refAcrobot{}
			copy(r.state[:], start)
			ref = func(a []float64) []float64 { r.step(int(a[0])); return r.state[:] }
		default:
			r := refMountainCar{}
			copy(r.state[:], start)
			ref = func(a []float64) []float64 { r.step(a[0]); return r.state[:] }
		}
		states, _, _, err := Replay(name, start, actions)
		if err != nil {
			t.Fatal(err)
		}
		for i, s := range states {
			want := ref(actions[i])
			if fmt.Sprint(s) != fmt.Sprint(want) {
				t.Fatalf("%s step %d: %v, want bit-exact %v", name, i, s, want)
			}
		}
	}
}

func uniformTest(rng *rand.Rand, lo, hi float64) float64 { return lo + (hi-lo)*rng.Float64() }
