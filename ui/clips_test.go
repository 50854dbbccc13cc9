package ui

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/prefer-rlhf/prefer/core/env"
	"github.com/prefer-rlhf/prefer/core/prefs"
)

func TestReplayClipDrawsEveryFrame(t *testing.T) {
	c := clip(rand.New(rand.NewPCG(1, 1)))
	cs, err := replayClip(&c)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs.scenes) != len(c.Actions)+1 {
		t.Fatalf("%d frames for %d actions, want %d", len(cs.scenes), len(c.Actions), len(c.Actions)+1)
	}
	if cs.dt != 0.02 {
		t.Errorf("CartPole's step is %v s, want 0.02", cs.dt)
	}
	// The first frame is the start state as core/env draws it.
	e, _ := env.Lookup(c.Env)
	want := e.Draw(c.StartState)
	if len(cs.scenes[0].Shapes) != len(want.Shapes) || cs.scenes[0].Shapes[0].Points[0] != want.Shapes[0].Points[0] {
		t.Error("the first frame is not the start state")
	}
}

func TestReplayClipRejectsBadClips(t *testing.T) {
	good := clip(rand.New(rand.NewPCG(2, 2)))
	long := good
	long.Actions = make([][]float64, maxClipSteps+1)
	for i := range long.Actions {
		long.Actions[i] = []float64{0}
	}
	for _, tc := range []struct {
		name string
		edit func(c *prefs.Clip)
		want string
	}{
		{"unknown env", func(c *prefs.Clip) { c.Env = "Nope-v0" }, "Nope-v0"},
		{"short state", func(c *prefs.Clip) { c.StartState = c.StartState[:2] }, "state"},
		{"action outside the space", func(c *prefs.Clip) { c.Actions[3] = []float64{2} }, "step 3"},
		{"too long", func(c *prefs.Clip) { *c = long }, "more than"},
		{"no actions", func(c *prefs.Clip) { c.Actions = nil }, "actions"},
	} {
		c := good
		c.Actions = append([][]float64(nil), good.Actions...)
		c.StartState = append([]float64(nil), good.StartState...)
		tc.edit(&c)
		if _, err := replayClip(&c); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one mentioning %q", tc.name, err, tc.want)
		}
	}
}

func TestPlayerInterpolatesBetweenSteps(t *testing.T) {
	c := clip(rand.New(rand.NewPCG(3, 3)))
	cs, _ := replayClip(&c)
	p := NewPlayer()
	mid := p.frameAt(0, cs.scenes, 2.5)
	a, b := cs.scenes[2].Shapes[0].Points, cs.scenes[3].Shapes[0].Points
	for j := range a {
		if want := (a[j] + b[j]) / 2; mid.Shapes[0].Points[j] != want {
			t.Fatalf("point %d at 2.5 is %v, want %v", j, mid.Shapes[0].Points[j], want)
		}
	}
	if last := p.frameAt(0, cs.scenes, float64(len(cs.scenes)+3)); last.Shapes[0].Points[0] != cs.scenes[len(cs.scenes)-1].Shapes[0].Points[0] {
		t.Error("past the end does not hold the last frame")
	}
}

func TestPlayerLoopsAndSeeks(t *testing.T) {
	c := clip(rand.New(rand.NewPCG(4, 4)))
	pair := &Pair{Pair: prefs.Pair{ID: "p", Left: c, Right: c}}
	if err := pair.prepare(); err != nil {
		t.Fatal(err)
	}
	p := NewPlayer()
	p.Load(pair)
	n := p.Frames()
	p.lastT = 1000
	for i := 0; i < n-1; i++ { // one loop at 1x, one 20 ms step per tick, and 5 ms more
		p.advance(p.lastT + 20)
	}
	p.advance(p.lastT + 5)
	if !(p.pos >= 0.2 && p.pos < 0.3) {
		t.Errorf("after one loop the position is %v, want 0.25", p.pos)
	}
	p.advance(p.lastT + 1000)
	if !(p.pos >= 0.2 && p.pos < 0.3) {
		t.Errorf("a long gap (a hidden tab) moved playback to %v", p.pos)
	}
	p.SetSpeed(2)
	p.Seek(0)
	p.advance(p.lastT + 50) // 50 ms at 2x: 5 steps of 20 ms
	if p.pos < 4.99 || p.pos > 5.01 {
		t.Errorf("50 ms at 2x moved %v steps, want 5", p.pos)
	}
	p.TogglePause()
	before := p.pos
	p.advance(p.lastT + 100)
	if p.pos != before {
		t.Error("paused playback moved")
	}
	p.Seek(1)
	if p.pos != float64(n-1) {
		t.Errorf("seek to the end: %v, want %d", p.pos, n-1)
	}
}
