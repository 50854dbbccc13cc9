package env

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
)

func TestReplayErrors(t *testing.T) {
	cases := []struct {
		name    string
		env     string
		start   []float64
		actions [][]float64
		is      error
		says    []string
	}{
		{"unknown env", "CartPole-v9", []float64{0, 0, 0, 0}, nil, ErrUnknownEnv, []string{`"CartPole-v9"`, "CartPole-v1", "Pendulum-v1"}},
		{"short state", "CartPole-v1", []float64{0, 0, 0}, nil, ErrStateLength, []string{"4", "got 3", "start_state"}},
		{"long state", "Pendulum-v1", []float64{0, 0, 0}, nil, ErrStateLength, []string{"2", "got 3"}},
		{"NaN state", "Acrobot-v1", []float64{0, math.NaN(), 0, 0}, nil, ErrNotFinite, []string{"state[1]"}},
		{"action 2 of 2", "CartPole-v1", []float64{0, 0, 0, 0}, [][]float64{{0}, {1}, {2}}, ErrActionSpace, []string{"Discrete(2)", "step 2"}},
		{"negative action", "Acrobot-v1", []float64{0, 0, 0, 0}, [][]float64{{-1}}, ErrActionSpace, []string{"Discrete(3)", "step 0"}},
		{"fractional action", "Acrobot-v1", []float64{0, 0, 0, 0}, [][]float64{{1}, {0.5}}, ErrActionSpace, []string{"0.5", "step 1"}},
		{"empty action", "Pendulum-v1", []float64{0, 0}, [][]float64{{1}, {}}, ErrActionLength, []string{"got 0", "step 1"}},
		{"two numbers", "MountainCarContinuous-v0", []float64{0, 0}, [][]float64{{1, 2}}, ErrActionLength, []string{"got 2", "step 0"}},
		{"infinite action", "Pendulum-v1", []float64{0, 0}, [][]float64{{math.Inf(1)}}, ErrNotFinite, []string{"step 0"}},
		{"overflow", "CartPole-v1", []float64{0, 0, 0, 1e300}, [][]float64{{1}, {1}}, ErrNotFinite, []string{"step"}},
	}
	for _, c := range cases {
		states, rewards, terminated, err := Replay(c.env, c.start, c.actions)
		if !errors.Is(err, c.is) {
			t.Errorf("%s: err = %v, want %v", c.name, err, c.is)
			continue
		}
		if states != nil || rewards != nil || terminated != nil {
			t.Errorf("%s: partial results with an error", c.name)
		}
		msg := err.Error()
		if !strings.HasPrefix(msg, "env: ") || strings.Contains(msg, "\n") {
			t.Errorf("%s: message %q should be one line starting with \"env: \"", c.name, msg)
		}
		for _, s := range c.says {
			if !strings.Contains(msg, s) {
				t.Errorf("%s: message %q does not mention %q", c.name, msg, s)
			}
		}
	}
}

func TestReplayStopsAfterTermination(t *testing.T) {
	actions := slices.Repeat([][]float64{{1}}, 200)
	states, rewards, terminated, err := Replay("CartPole-v1", []float64{0, 0, 0.1, 0}, actions)
	if err != nil {
		t.Fatal(err)
	}
	n := len(states)
	if n == 0 || n >= 200 || len(rewards) != n || len(terminated) != n || !terminated[n-1] || slices.Contains(terminated[:n-1], true) {
		t.Fatalf("%d states, terminated %v", n, terminated)
	}
	// In fixed-horizon mode the same clip replays to the end.
	fh, _ := FixedHorizon(NewCartPole(), 0)
	states, _, terminated, err = ReplayEnv(fh, []float64{0, 0, 0.1, 0}, actions)
	if err != nil || len(states) != 200 || slices.Contains(terminated, true) {
		t.Fatalf("fixed horizon: %d states, err %v", len(states), err)
	}
	// No actions: no states, and not nil (a clip of length 0 is valid).
	states, _, _, err = Replay("Pendulum-v1", []float64{0, 0}, nil)
	if err != nil || states == nil || len(states) != 0 {
		t.Fatalf("empty clip: %v %v", states, err)
	}
}

func TestCheckAction(t *testing.T) {
	cp := NewCartPole().Spec()
	pd := NewPendulum().Spec()
	for _, a := range [][]float64{{0}, {1}} {
		if err := CheckAction(cp, a); err != nil {
			t.Errorf("CartPole %v: %v", a, err)
		}
	}
	for _, a := range [][]float64{{-5}, {0}, {2}, {1e9}} { // any finite continuous action; Step clips it
		if err := CheckAction(pd, a); err != nil {
			t.Errorf("Pendulum %v: %v", a, err)
		}
	}
	for _, a := range [][]float64{{2}, {-1}, {0.5}, {math.NaN()}, {}, {0, 1}} {
		if CheckAction(cp, a) == nil {
			t.Errorf("CartPole %v should be rejected", a)
		}
	}
	for _, a := range [][]float64{{math.NaN()}, {math.Inf(-1)}, {}, {1, 1}} {
		if CheckAction(pd, a) == nil {
			t.Errorf("Pendulum %v should be rejected", a)
		}
	}
	if CheckState(cp, []float64{0, 0, math.Inf(1), 0}) == nil || CheckState(cp, []float64{0, 0, 0, 0}) != nil {
		t.Error("CheckState")
	}
}

func TestRegistry(t *testing.T) {
	names := Names()
	for _, want := range []string{"Acrobot-v1", "CartPole-v1", "MountainCarContinuous-v0", "Pendulum-v1"} {
		if !slices.Contains(names, want) {
			t.Errorf("Names() = %v lacks %s", names, want)
		}
	}
	if !slices.IsSorted(names) {
		t.Errorf("Names() = %v is not sorted", names)
	}
	for _, n := range names {
		e, err := Lookup(n)
		if err != nil || e.Spec().Name != n {
			t.Fatalf("Lookup(%q) = %v, %v", n, e, err)
		}
		e2, _ := Lookup(n)
		if e == e2 {
			t.Fatalf("Lookup(%q) returned the same instance twice", n)
		}
	}
	_, err := Lookup("Pong-v5")
	if err == nil || err.Error() != `env: unknown env "Pong-v5" (known: `+strings.Join(names, ", ")+")" {
		t.Fatalf("unknown env error: %v", err)
	}
	mustPanic(t, "duplicate", func() { Register("CartPole-v1", func() Env { return NewCartPole() }) })
	mustPanic(t, "wrong name", func() { Register("Other-v0", func() Env { return NewCartPole() }) })
	if !slices.Contains(names, "CartPoleRenamed-v0") { // -count=N reruns this test
		Register("CartPoleRenamed-v0", func() Env { return renamed{NewCartPole()} })
	}
	if e, err := Lookup("CartPoleRenamed-v0"); err != nil || e.Spec().Name != "CartPoleRenamed-v0" {
		t.Fatalf("a registered env: %v", err)
	}
}

type renamed struct{ *CartPole }

func (r renamed) Spec() Spec { s := r.CartPole.Spec(); s.Name = "CartPoleRenamed-v0"; return s }

func mustPanic(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		if recover() == nil {
			t.Errorf("%s: no panic", what)
		}
	}()
	f()
}

func TestStepPanicsOnInvalidDiscreteAction(t *testing.T) {
	mustPanic(t, "CartPole action 2", func() { NewCartPole().Step([]float64{2}) })
	mustPanic(t, "Acrobot action 0.5", func() { NewAcrobot().Step([]float64{0.5}) })
}
