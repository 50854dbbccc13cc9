package env

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestFixedHorizonNeverTerminatesAndKeepsDynamics(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 21))
	for _, name := range Names() {
		std, _ := Lookup(name)
		base, _ := Lookup(name)
		fh, err := FixedHorizon(base, 0)
		if err != nil {
			t.Fatal(err)
		}
		sp := fh.Spec()
		if !sp.FixedHorizon || sp.MaxEpisodeSteps != std.Spec().MaxEpisodeSteps {
			t.Fatalf("%s: spec %+v", name, sp)
		}
		fh.Reset(rng)
		std.SetState(fh.State())
		// CartPole's fallen state is absorbing; the others go on with Gymnasium's dynamics.
		absorbing, absorbed := name == "CartPole-v1", false
		var final []float64
		for i := range 3 * sp.MaxEpisodeSteps {
			a := []float64{uniformTest(rng, -3, 3)}
			if sp.Action.Discrete() {
				a[0] = float64(rng.IntN(sp.Action.N))
			}
			_, _, done := fh.Step(a)
			if done {
				t.Fatalf("%s: fixed-horizon env terminated at step %d", name, i)
			}
			if absorbed {
				if fs := fh.State(); !equal(fs, final) {
					t.Fatalf("%s step %d: left the absorbing state %v for %v", name, i, final, fs)
				}
				continue
			}
			_, _, term := std.Step(a) // Gymnasium's dynamics, stepped past termination
			if fs, ss := fh.State(), std.State(); !equal(fs, ss) {
				t.Fatalf("%s step %d: fixed-horizon state %v, Gymnasium's dynamics %v", name, i, fs, ss)
			}
			if term && absorbing {
				absorbed, final = true, std.State()
			}
		}
	}
	if fh, _ := FixedHorizon(NewPendulum(), 64); fh.Spec().MaxEpisodeSteps != 64 {
		t.Fatal("the horizon should set MaxEpisodeSteps")
	}
	if _, err := FixedHorizon(NewPendulum(), -1); err == nil {
		t.Fatal("a negative horizon should be an error")
	}
	if _, err := FixedHorizon(notContinuing{NewCartPole()}, 0); err == nil || !strings.Contains(err.Error(), "no fixed-horizon mode") {
		t.Fatalf("an env without StepContinuing: err = %v", err)
	}
}

// notContinuing hides CartPole's StepContinuing.
type notContinuing struct{ *CartPole }

func (notContinuing) StepContinuing() {}

func equal(a, b []float64) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return len(a) == len(b)
}

// TestFixedHorizonRewards: up to and including Gymnasium's terminating step, CartPole's and
// Acrobot's fixed-horizon rewards are Gymnasium's; after it they keep the same meaning.
func TestFixedHorizonRewards(t *testing.T) {
	rng := rand.New(rand.NewPCG(22, 22))
	for _, name := range []string{"CartPole-v1", "Acrobot-v1"} {
		for range 30 {
			std, _ := Lookup(name)
			fh, _ := FixedHorizon(mustLookup(name), 0)
			fh.Reset(rng)
			std.SetState(fh.State())
			ended := false
			for range 500 {
				a := []float64{float64(rng.IntN(std.Spec().Action.N))}
				before := fh.State()
				_, rf, _ := fh.Step(a)
				_, rs, done := std.Step(a)
				after := fh.State()
				switch {
				case !ended && rf != rs:
					t.Fatalf("%s: before termination the fixed-horizon reward %v differs from Gymnasium's %v", name, rf, rs)
				case name == "CartPole-v1":
					inside := math.Abs(before[0]) <= 2.4 && math.Abs(before[2]) <= cpThetaThreshold
					if (rf == 1) != inside {
						t.Fatalf("CartPole: reward %v from state %v", rf, before)
					}
				case name == "Acrobot-v1":
					above := -math.Cos(after[0])-math.Cos(after[0]+after[1]) > 1
					if (rf == 0) != above || (rf != 0 && rf != -1) {
						t.Fatalf("Acrobot: reward %v at state %v", rf, after)
					}
				}
				ended = ended || done
			}
		}
	}

	// MountainCarContinuous: +1 per step at the goal, minus fuel; past the hilltop (pi/6) the
	// car stays at the goal with no force, so the bonus is earned every step.
	fh, _ := FixedHorizon(NewMountainCarContinuous(), 0)
	fh.SetState([]float64{0.54, 0})
	for i := range 500 {
		if _, r, _ := fh.Step([]float64{0}); r != 1 {
			t.Fatalf("step %d at the goal: reward %v, want 1 (state %v)", i, r, fh.State())
		}
	}
	fh.SetState([]float64{-0.5, 0})
	if _, r, _ := fh.Step([]float64{2}); math.Abs(r - -0.4) > 1e-12 {
		t.Fatalf("away from the goal the reward is the fuel cost: %v, want -0.4", r)
	}

	// Pendulum has no termination: the reward is Gymnasium's.
	p, _ := FixedHorizon(NewPendulum(), 0)
	q := NewPendulum()
	p.SetState([]float64{1, 1})
	q.SetState([]float64{1, 1})
	_, rp, _ := p.Step([]float64{1.5})
	_, rq, _ := q.Step([]float64{1.5})
	if rp != rq {
		t.Fatalf("Pendulum reward %v, want %v", rp, rq)
	}
}

func mustLookup(name string) Env {
	e, err := Lookup(name)
	if err != nil {
		panic(err)
	}
	return e
}

func TestSpaceSample(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	disc := Space{N: 3}
	seen := map[float64]int{}
	for range 3000 {
		a := disc.Sample(rng)
		if len(a) != 1 || a[0] != math.Trunc(a[0]) || a[0] < 0 || a[0] >= 3 {
			t.Fatalf("discrete sample %v", a)
		}
		seen[a[0]]++
	}
	for k := 0.0; k < 3; k++ {
		if seen[k] < 900 {
			t.Errorf("action %v drawn %d times in 3000, want about 1000", k, seen[k])
		}
	}
	box := Space{Low: []float64{-2, 0}, High: []float64{2, 1}}
	lo, hi := [2]float64{math.Inf(1), math.Inf(1)}, [2]float64{math.Inf(-1), math.Inf(-1)}
	for range 3000 {
		a := box.Sample(rng)
		for i, v := range a {
			if v < box.Low[i] || v > box.High[i] {
				t.Fatalf("box sample %v outside %v..%v", a, box.Low, box.High)
			}
			lo[i], hi[i] = math.Min(lo[i], v), math.Max(hi[i], v)
		}
	}
	if lo[0] > -1.9 || hi[0] < 1.9 || lo[1] > 0.05 || hi[1] < 0.95 {
		t.Errorf("box samples span %v..%v, want nearly all of the box", lo, hi)
	}
}
