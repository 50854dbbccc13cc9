package classroom

import (
	"math/rand/v2"
	"net"
	"strings"
	"testing"

	"github.com/prefer-rlhf/prefer/core/env"
	"github.com/prefer-rlhf/prefer/core/prefs"
	"github.com/prefer-rlhf/prefer/core/text"
)

func TestTasks(t *testing.T) {
	ts := Tasks()
	checkers, texts := 0, 0
	for _, task := range ts {
		if tt, ok := text.TaskOf(task.Env); ok {
			// A text env is registered only once a corpus is loaded: the task list has it
			// regardless, marked unavailable until then.
			if !task.Text || task.Checker != tt.NoReward || !strings.Contains(task.Goal, tt.Goal) || task.Available != (text.Installed() != nil) {
				t.Fatalf("text task %+v", task)
			}
			texts++
			continue
		}
		if task.Text || !task.Available {
			t.Fatalf("task %+v", task)
		}
		e, err := env.Lookup(task.Env)
		if err != nil {
			t.Fatalf("task %s: %v", task.Env, err)
		}
		if task.Checker != e.Spec().NoReward || task.Goal == "" {
			t.Fatalf("task %+v: NoReward %v", task, e.Spec().NoReward)
		}
		if task.Checker {
			checkers++
		}
	}
	if len(ts) < 9 || checkers < 3 || texts != 2 {
		t.Fatalf("%d tasks, %d behaviours with checkers, %d text tasks", len(ts), checkers, texts)
	}
	if task, ok := TaskOf("TextNoE-v0"); !ok || !task.Checker || !strings.Contains(task.Goal, `letter "e"`) {
		t.Fatalf("TaskOf(TextNoE-v0) = %+v, %v", task, ok)
	}
	if _, ok := TaskOf("PendulumSpin-v0"); !ok {
		t.Fatal("TaskOf(PendulumSpin-v0)")
	}
}

func cidr(s string) net.Addr {
	ip, n, err := net.ParseCIDR(s)
	if err != nil {
		panic(err)
	}
	n.IP = ip
	return n
}

func TestJoinHost(t *testing.T) {
	addrs := []net.Addr{cidr("127.0.0.1/8"), cidr("::1/128"), cidr("fe80::1/64"), cidr("169.254.3.4/16"),
		cidr("203.0.113.9/24"), cidr("192.168.1.23/24"), cidr("10.0.0.7/8")}
	cases := []struct{ addr, want string }{
		{"0.0.0.0:8080", "192.168.1.23:8080"},
		{":9000", "192.168.1.23:9000"},
		{"[::]:8080", "192.168.1.23:8080"},
		{"127.0.0.1:8080", "127.0.0.1:8080"},
		{"10.0.0.7:80", "10.0.0.7:80"},
	}
	for _, c := range cases {
		if got, err := JoinHost(c.addr, addrs); err != nil || got != c.want {
			t.Errorf("JoinHost(%q) = %q, %v; want %q", c.addr, got, err, c.want)
		}
	}
	if got, _ := JoinHost("0.0.0.0:8080", addrs[:5]); got != "203.0.113.9:8080" {
		t.Errorf("no private address: %q", got)
	}
	if got, _ := JoinHost("0.0.0.0:8080", addrs[:2]); got != "127.0.0.1:8080" {
		t.Errorf("loopback only: %q", got)
	}
	if _, err := JoinHost("8080", addrs); err == nil {
		t.Error("no port: no error")
	}
}

// A noiseless demo rater prefers the clip its checker scores higher; a fully noisy one
// answers left and right about equally whatever the clips.
func TestDemoRaters(t *testing.T) {
	spin := func(u float64) prefs.Clip {
		acts := make([][]float64, 30)
		for i := range acts {
			acts[i] = []float64{u}
		}
		return prefs.Clip{Env: "PendulumSpin-v0", StartState: []float64{3.14, 6}, Actions: acts}
	}
	p := prefs.Pair{ID: "p", Left: spin(-2), Right: spin(2)} // right keeps spinning counter-clockwise
	rng := rand.New(rand.NewPCG(1, 2))
	ds, err := DemoRaters(3, 0, "")
	if err != nil || len(ds) != 3 || ds[2].Name != "demo-3" {
		t.Fatalf("DemoRaters: %v %v", ds, err)
	}
	for _, d := range ds {
		if c, err := d.Answer(rng, p); err != nil || c != prefs.Right {
			t.Fatalf("%s: %v, %v; want right", d.Name, c, err)
		}
	}
	noisy, _ := DemoRaters(1, 1, "")
	left := 0
	for range 400 {
		if c, _ := noisy[0].Answer(rng, p); c == prefs.Left {
			left++
		}
	}
	if left < 150 || left > 250 {
		t.Fatalf("noise 1: %d of 400 left", left)
	}
	if _, err := DemoRaters(2, 1.5, ""); err == nil {
		t.Fatal("noise 1.5: no error")
	}
	bad := p
	bad.Left.StartState = []float64{1}
	if _, err := ds[0].Answer(rng, bad); err == nil {
		t.Fatal("bad clip: no error")
	}
}

// TestDemoTeachers: demo raters answer as B-Pref's teachers: the oracle picks the larger
// return, skip says "can't tell" when both clips fall below its threshold, equal calls
// clips of the same return "equally good", mistake errs about a tenth of the time.
func TestDemoTeachers(t *testing.T) {
	cart := func(theta float64, steps int) prefs.Clip {
		acts := make([][]float64, steps)
		for i := range acts {
			acts[i] = []float64{float64(i % 2)}
		}
		return prefs.Clip{Env: "CartPole-v1", StartState: []float64{0, 0, theta, 0}, Actions: acts}
	}
	up, fallen := cart(0, 40), cart(0.5, 40) // balanced for 40 steps; past the 0.21 rad limit
	rng := rand.New(rand.NewPCG(3, 4))
	one := func(teacher string) *DemoRater {
		ds, err := DemoRaters(1, 0, teacher)
		if err != nil || ds[0].Teacher == nil {
			t.Fatalf("%s: %v", teacher, err)
		}
		return &ds[0]
	}
	ask := func(d *DemoRater, l, r prefs.Clip) prefs.Choice {
		c, err := d.Answer(rng, prefs.Pair{ID: "p", Left: l, Right: r})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	if c := ask(one("oracle"), fallen, up); c != prefs.Right {
		t.Fatalf("oracle: %s, want right", c)
	}
	skip := one("skip")
	if c := ask(skip, up, fallen); c != prefs.Left {
		t.Fatalf("skip on a clear pair: %s, want left", c)
	}
	if c := ask(skip, fallen, fallen); c != prefs.CantTell {
		t.Fatalf("skip on two fallen clips: %s, want can't tell", c)
	}
	if c := ask(one("equal"), up, up); c != prefs.Equal {
		t.Fatalf("equal on two equal clips: %s, want equal", c)
	}
	if c := ask(one("oracle"), up, up); c != prefs.Equal {
		t.Fatalf("oracle on a tie: %s, want equal (an exact tie is equally good for every teacher)", c)
	}
	mistake, wrong := one("mistake"), 0
	for range 400 {
		if ask(mistake, fallen, up) != prefs.Right {
			wrong++
		}
	}
	if wrong < 20 || wrong > 65 {
		t.Fatalf("mistake: %d of 400 wrong, want about 40", wrong)
	}
	if _, err := DemoRaters(1, 0, "lazy"); err == nil {
		t.Fatal("unknown teacher: no error")
	}
	if _, err := DemoRaters(1, 0.1, "oracle"); err == nil {
		t.Fatal("a teacher with noise: no error")
	}
}
