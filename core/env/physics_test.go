package env

import (
	"math"
	"math/rand/v2"
	"testing"
)

// Physics invariants that hold whatever the transliteration says.

// TestAcrobotRK4MatchesFineIntegration: one env step (one RK4 step of 0.2 s) lands close to a
// 1000-substep integration of the same equations, and a halved step size shrinks the error
// about 32-fold (RK4's local error is O(h^5)).
func TestAcrobotRK4MatchesFineIntegration(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 11))
	for range 50 {
		s0 := [4]float64{uniformTest(rng, -math.Pi, math.Pi), uniformTest(rng, -math.Pi, math.Pi), uniformTest(rng, -2, 2), uniformTest(rng, -2, 2)}
		a := rng.IntN(3)
		integrate := func(n int) [5]float64 {
			y := [5]float64{s0[0], s0[1], s0[2], s0[3], abTorque[a]}
			for range n {
				y = rk4(abDsdt, y, abDT/float64(n))
			}
			return y
		}
		fine, two := integrate(1000), integrate(2)
		e := NewAcrobot()
		e.SetState(s0[:])
		e.Step([]float64{float64(a)})
		got := e.State()
		errOne, errTwo := 0.0, 0.0
		for i := range 4 {
			d := got[i] - fine[i]
			if i < 2 {
				d = math.Remainder(d, 2*math.Pi) // the env wraps angles
			}
			errOne = math.Max(errOne, math.Abs(d))
			errTwo = math.Max(errTwo, math.Abs(two[i]-fine[i]))
		}
		if errOne > 0.02 {
			t.Fatalf("start %v: one RK4 step is %g from the fine integration", s0, errOne)
		}
		if errOne > 1e-6 && errTwo > errOne/8 {
			t.Fatalf("start %v: halving the step cut the error only from %g to %g", s0, errOne, errTwo)
		}
	}
}

func TestAcrobotBoundsAndWrap(t *testing.T) {
	e := NewAcrobot()
	e.SetState([]float64{3, -3, 12, -28})
	rng := rand.New(rand.NewPCG(12, 12))
	for range 2000 {
		e.Step([]float64{float64(rng.IntN(3))})
		s := e.State()
		if math.Abs(s[0]) > math.Pi || math.Abs(s[1]) > math.Pi || math.Abs(s[2]) > 4*math.Pi || math.Abs(s[3]) > 9*math.Pi {
			t.Fatalf("state out of Gymnasium's bounds: %v", s)
		}
	}
}

// abEnergy is the acrobot's total energy (links of mass 1, length 1, centre of mass at 0.5,
// moment of inertia 1 about the centre, as _dsdt's d1 and d2 assume).
func abEnergy(s []float64) float64 {
	t1, t2, w1, w2 := s[0], s[1], s[2], s[3]
	d1 := 0.25 + (1 + 0.25 + math.Cos(t2)) + 2
	d2 := 0.25 + 0.5*math.Cos(t2) + 1
	kin := 0.5*d1*w1*w1 + d2*w1*w2 + 0.5*(0.25+1)*w2*w2
	pot := -9.8 * (0.5*math.Cos(t1) + (math.Cos(t1) + 0.5*math.Cos(t1+t2)))
	return kin + pot
}

// TestAcrobotConservesEnergyWithoutTorque: with torque 0 the equations conserve energy, and RK4
// at dt = 0.2 keeps it within a small drift over a short swing.
func TestAcrobotConservesEnergyWithoutTorque(t *testing.T) {
	e := NewAcrobot()
	e.SetState([]float64{0.5, 0.3, 0, 0})
	e0 := abEnergy(e.State())
	for i := range 50 {
		e.Step([]float64{1}) // torque 0
		if d := math.Abs(abEnergy(e.State()) - e0); d > 0.01*math.Abs(e0) {
			t.Fatalf("step %d: energy drifted by %g from %g", i, d, e0)
		}
	}
}

// pdEnergy is conserved by theta” = 15 sin(theta) (theta = 0 up): E = theta'^2/2 + 15 cos(theta).
func pdEnergy(s []float64) float64 { return 0.5*s[1]*s[1] + 15*math.Cos(s[0]) }

// TestPendulumEnergy: without torque, the semi-implicit Euler step is symplectic, so energy
// oscillates in a band and does not drift over 10,000 steps; torque along the motion pumps
// energy in; torque beyond 2 is clipped to 2, in the dynamics and in the cost.
func TestPendulumEnergy(t *testing.T) {
	p := NewPendulum()
	p.SetState([]float64{math.Pi - 0.5, 0}) // hanging, 0.5 rad off the bottom
	e0 := pdEnergy(p.State())
	lo, hi := e0, e0
	var early, late float64
	for i := range 10000 {
		p.Step([]float64{0})
		e := pdEnergy(p.State())
		lo, hi = math.Min(lo, e), math.Max(hi, e)
		if i < 1000 {
			early += e / 1000
		}
		if i >= 9000 {
			late += e / 1000
		}
	}
	if hi-lo > 0.5 || math.Abs(late-early) > 0.01 {
		t.Fatalf("energy band [%g, %g], mean %g early and %g late: not symplectic", lo, hi, early, late)
	}

	p.SetState([]float64{math.Pi, 0.1})
	before := pdEnergy(p.State())
	for range 20 {
		p.Step([]float64{2 * math.Copysign(1, p.State()[1])})
	}
	if after := pdEnergy(p.State()); after < before+1 {
		t.Fatalf("pumping torque took energy from %g only to %g", before, after)
	}

	a, b := NewPendulum(), NewPendulum()
	a.SetState([]float64{1, 7.9})
	b.SetState([]float64{1, 7.9})
	_, ra, _ := a.Step([]float64{50})
	_, rb, _ := b.Step([]float64{2})
	if ra != rb || a.State()[1] != b.State()[1] {
		t.Fatalf("torque 50 should act and cost as torque 2: %v %v vs %v %v", a.State(), ra, b.State(), rb)
	}
	if a.State()[1] != 8 {
		t.Fatalf("speed %v should be clipped to 8", a.State()[1])
	}
	// The cost: angle_normalize(theta)^2 + 0.1 theta_dot^2 + 0.001 u^2 of the state before.
	c := NewPendulum()
	c.SetState([]float64{2*math.Pi + 0.5, -1})
	_, r, _ := c.Step([]float64{-3})
	if want := -(0.25 + 0.1 + 0.004); math.Abs(r-want) > 1e-12 {
		t.Fatalf("reward %v, want %v", r, want)
	}
}

func TestMountainCarContinuousRules(t *testing.T) {
	m := NewMountainCarContinuous()
	// The left wall stops the car.
	m.SetState([]float64{-1.19, -0.05})
	m.Step([]float64{-1})
	if s := m.State(); s[0] != f32(-1.2) || s[1] != 0 {
		t.Fatalf("at the left wall the state is %v, want [-1.2 0]", s)
	}
	// Speed is clipped to 0.07 and the position to 0.6.
	m.SetState([]float64{0.59, 0.0699})
	m.Step([]float64{1})
	if s := m.State(); s[0] != f32(0.6) || s[1] != f32(0.07) {
		t.Fatalf("state %v, want [0.6 0.07]", s)
	}
	// A force beyond 1 moves the car as 1 but costs 0.1 a^2 of the action as given.
	a, b := NewMountainCarContinuous(), NewMountainCarContinuous()
	a.SetState([]float64{-0.5, 0})
	b.SetState([]float64{-0.5, 0})
	_, ra, _ := a.Step([]float64{3})
	_, rb, _ := b.Step([]float64{1})
	if a.State()[0] != b.State()[0] || a.State()[1] != b.State()[1] {
		t.Fatalf("force 3 should act as 1")
	}
	if math.Abs(ra - -0.9) > 1e-12 || math.Abs(rb - -0.1) > 1e-12 {
		t.Fatalf("fuel costs %v and %v, want -0.9 and -0.1", ra, rb)
	}
	// Reaching the goal terminates with +100.
	m.SetState([]float64{0.44, 0.02})
	_, r, done := m.Step([]float64{0.5})
	if !done || math.Abs(r-(100-0.025)) > 1e-12 {
		t.Fatalf("at the goal: reward %v terminated %v", r, done)
	}
	// The goal also needs velocity >= 0.
	m.SetState([]float64{0.5, -0.01})
	if _, _, done := m.Step([]float64{-1}); done {
		t.Fatal("moving left away from the goal should not terminate")
	}
	// The state is stored as float32, as Gymnasium stores it.
	m.SetState([]float64{-0.5, 0})
	m.Step([]float64{0.3})
	for _, v := range m.State() {
		if v != f32(v) {
			t.Fatalf("state %v is not float32", m.State())
		}
	}
}

func TestCartPoleRules(t *testing.T) {
	c := NewCartPole()
	c.SetState([]float64{2.39, 1, 0, 0})
	_, r, done := c.Step([]float64{1})
	if !done || r != 1 {
		t.Fatalf("leaving the track: reward %v terminated %v, want 1 true", r, done)
	}
	_, r, done = c.Step([]float64{1})
	if !done || r != 0 {
		t.Fatalf("a step after termination: reward %v terminated %v, want 0 true", r, done)
	}
	// 12 degrees is 0.2094395 rad; theta moves by 0.02 theta_dot.
	c.SetState([]float64{0, 0, 0.2094, 0})
	if _, _, done := c.Step([]float64{0}); done {
		t.Fatal("theta 0.2094 is inside 12 degrees")
	}
	c.SetState([]float64{0, 0, 0.2094, 0.003})
	if _, _, done := c.Step([]float64{0}); !done {
		t.Fatal("theta 0.20946 is beyond 12 degrees")
	}
	// Pushing right accelerates the cart right and tips the pole left.
	c.SetState([]float64{0, 0, 0, 0})
	c.Step([]float64{1})
	if s := c.State(); s[1] <= 0 || s[3] >= 0 {
		t.Fatalf("after a push right: %v", s)
	}
}

// TestResetDistributions samples many resets and checks each variable's range, spread and
// mean against Gymnasium's uniform reset distributions.
func TestResetDistributions(t *testing.T) {
	cases := []struct {
		name   string
		lo, hi []float64
	}{
		{"CartPole-v1", []float64{-0.05, -0.05, -0.05, -0.05}, []float64{0.05, 0.05, 0.05, 0.05}},
		{"Pendulum-v1", []float64{-math.Pi, -1}, []float64{math.Pi, 1}},
		{"Acrobot-v1", []float64{-0.1, -0.1, -0.1, -0.1}, []float64{0.1, 0.1, 0.1, 0.1}},
		{"MountainCarContinuous-v0", []float64{-0.6, 0}, []float64{-0.4, 0}},
	}
	rng := rand.New(rand.NewPCG(13, 13))
	const n = 20000
	for _, c := range cases {
		e, _ := Lookup(c.name)
		dim := len(c.lo)
		mean := make([]float64, dim)
		mins := append([]float64(nil), c.hi...)
		maxs := append([]float64(nil), c.lo...)
		for range n {
			obs := e.Reset(rng)
			if len(obs) != e.Spec().ObsDim {
				t.Fatalf("%s: obs length %d", c.name, len(obs))
			}
			s := e.State()
			for i, v := range s {
				if v < c.lo[i] || v > c.hi[i] {
					t.Fatalf("%s: reset state %v outside [%v, %v]", c.name, s, c.lo, c.hi)
				}
				if c.name == "Acrobot-v1" && v != f32(v) {
					t.Fatalf("Acrobot's reset state is float32 in Gymnasium; %v is not", v)
				}
				mean[i] += v / n
				mins[i], maxs[i] = math.Min(mins[i], v), math.Max(maxs[i], v)
			}
		}
		for i := range dim {
			w := c.hi[i] - c.lo[i]
			if w == 0 {
				continue
			}
			sd := w / math.Sqrt(12*n) // standard error of the mean of U(lo, hi)
			if math.Abs(mean[i]-(c.lo[i]+c.hi[i])/2) > 5*sd || mins[i] > c.lo[i]+0.01*w || maxs[i] < c.hi[i]-0.01*w {
				t.Fatalf("%s[%d]: mean %v, range [%v, %v]: not U(%v, %v)", c.name, i, mean[i], mins[i], maxs[i], c.lo[i], c.hi[i])
			}
		}
	}
}

func BenchmarkStep(b *testing.B) {
	for _, name := range Names() {
		b.Run(name, func(b *testing.B) {
			e, _ := Lookup(name)
			rng := rand.New(rand.NewPCG(1, 1))
			e.Reset(rng)
			a := []float64{1}
			for b.Loop() {
				if _, _, done := e.Step(a); done {
					e.Reset(rng)
				}
			}
		})
	}
}
