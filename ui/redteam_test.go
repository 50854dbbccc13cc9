//go:build !notext

package ui

import (
	"math"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/prefer-rlhf/prefer/core/env"
	"github.com/prefer-rlhf/prefer/core/prefs"
)

// scoreFitter answers score requests with a made-up r̂ (the number of actions equal to 1), so
// that the page's handling of the worker's answers is tested without a worker.
type scoreFitter struct {
	a    *App
	mu   sync.Mutex
	asks int
}

func (f *scoreFitter) Init([]*Label, []byte, []byte) {}
func (f *scoreFitter) AddLabel(*Label)               {}
func (f *scoreFitter) SetGlobal([]byte)              {}
func (f *scoreFitter) RequestUpdate()                {}
func (f *scoreFitter) Score(seq int, clips []prefs.Clip) {
	f.mu.Lock()
	f.asks++
	f.mu.Unlock()
	var rhat []float64
	for _, c := range clips {
		n := 0.0
		for _, a := range c.Actions {
			n += a[0]
		}
		rhat = append(rhat, n)
	}
	f.a.update(func() { f.a.redTeamScores(seq, rhat, "") })
}

// Red-team mode opens on the left clip on screen, edits the action at the step chosen,
// replays the edit from the clip's start state, shows r̂ of the edit beside the original's,
// submits start state and actions to the hub and shows its true score; offline it says that
// submitting needs the hub, and it is off while the teacher hides model assistance.
func TestRedTeamMode(t *testing.T) {
	h := &fakeHub{stored: map[string]prefs.Comparison{}, pairs: testPairs(4)}
	a := newTestApp(NewMemStore(), h)
	f := &scoreFitter{a: a}
	a.SetFitter(f)
	joinAndFill(t, a, h)
	var orig prefs.Clip
	a.update(func() {
		orig = a.Current().Left
		a.OpenRedTeam()
	})
	rt := a.RedTeam
	if a.View != ViewRedTeam || rt == nil || rt.Orig.ID != orig.ID || len(rt.Clip.Actions) != len(orig.Actions) {
		t.Fatalf("red-team mode did not open on the left clip: view %q", a.View)
	}
	waitFor(t, a, func() bool { return !rt.Scoring && !math.IsNaN(rt.RHat) })
	if rt.RHat != rt.RHatOrig || a.RedPlayer.Frames() != len(orig.Actions)+1 {
		t.Fatalf("before an edit: r̂ %v vs %v, %d frames", rt.RHat, rt.RHatOrig, a.RedPlayer.Frames())
	}

	// Flip the action at step 3.
	step := 3
	flip := 1 - int(orig.Actions[step][0])
	a.update(func() {
		a.RedTeamSeek(step)
		a.RedTeamControl(flip)
	})
	waitFor(t, a, func() bool { return !rt.Scoring })
	if int(rt.Clip.Actions[step][0]) != flip || rt.Edits() != 1 || int(orig.Actions[step][0]) == flip {
		t.Fatalf("edit: action %v, %d edits; the original must stay as it was", rt.Clip.Actions[step], rt.Edits())
	}
	if want := rt.RHatOrig + float64(flip) - float64(1-flip); rt.RHat != want {
		t.Fatalf("r̂ of the edit %v, want %v from the worker's answer", rt.RHat, want)
	}
	// The player shows the replayed edit: the frames after step 3 differ from the original's.
	want, err := replayClip(&rt.Clip)
	if err != nil {
		t.Fatal(err)
	}
	was, err := replayClip(&orig)
	if err != nil {
		t.Fatal(err)
	}
	if got := a.RedPlayer.clips[0]; !reflect.DeepEqual(got, want.scenes) || reflect.DeepEqual(got, was.scenes) ||
		!reflect.DeepEqual(got[:step+1], was.scenes[:step+1]) {
		t.Fatal("the player does not show the edit replayed from the start state")
	}
	if !rendersIn(a, &RedTeamMode{App: a}, "id", "rt-rhat") {
		t.Fatal("no r̂ on screen")
	}

	// Submit.
	a.update(a.SubmitRedTeam)
	waitFor(t, a, func() bool { return !rt.Submitting })
	h.mu.Lock()
	sent := h.redTeam
	h.mu.Unlock()
	if len(sent) != 1 || int(sent[0].Actions[step][0]) != flip || sent[0].StartState[2] != orig.StartState[2] {
		t.Fatalf("sent %+v", sent)
	}
	truth, _ := env.ScoreClip("CartPole-v1", rt.Clip.StartState, rt.Clip.Actions)
	if rt.Result == nil || rt.Result.TrueReturn != truth || !rendersIn(a, &RedTeamMode{App: a}, "id", "rt-result") {
		t.Fatalf("result %+v, want the hub's true score %v on screen", rt.Result, truth)
	}

	// Offline: nothing is sent, and the page says why.
	a.update(func() { a.NetDown = true; a.SubmitRedTeam() })
	if rt.SubmitErr == "" || rt.Submitting || !rendersIn(a, &RedTeamMode{App: a}, "class", "rt-result error") {
		t.Fatal("offline submit: no message")
	}

	// The teacher hides model assistance: the next sync closes the mode.
	h.mu.Lock()
	h.hide = true
	h.mu.Unlock()
	if _, err := a.syncOnce(); err != nil {
		t.Fatal(err)
	}
	if a.View != ViewLabel {
		t.Fatalf("view %q after the teacher hid model assistance", a.View)
	}
	h.mu.Lock()
	h.hide = false
	h.mu.Unlock()
	if _, err := a.syncOnce(); err != nil {
		t.Fatal(err)
	}

	// Undo, close; with model assistance hidden the mode does not open.
	a.update(func() { a.RedTeamRevert(); a.CloseRedTeam() })
	if rt.Edits() != 0 || a.View != ViewLabel {
		t.Fatalf("undo left %d edits; view %q", rt.Edits(), a.View)
	}
	a.update(func() { a.AssistOff = true; a.RedTeam = nil; a.OpenRedTeam() })
	if a.View != ViewLabel || a.RedTeam != nil || a.RedTeamBlocked() == "" {
		t.Fatal("red-team mode opened with model assistance hidden")
	}
}

// waitFor polls cond under the read lock until it holds (5 s at most).
func waitFor(t *testing.T, a *App, cond func() bool) {
	t.Helper()
	for i := 0; i < 500; i++ {
		var ok bool
		a.read(func() { ok = cond() })
		if ok {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("timed out")
}

// On a continuous task the controls move the action at the step by a tenth of its range and
// stop at the bounds (Pendulum-v1: torque in [-2, 2]).
func TestRedTeamNudgeContinuous(t *testing.T) {
	a := newTestApp(NewMemStore(), &fakeHub{stored: map[string]prefs.Comparison{}})
	c := prefs.Clip{ID: "c", Env: "Pendulum-v1", StartState: []float64{3, 0}, Actions: [][]float64{{0}, {1.5}, {0}}}
	a.update(func() {
		a.View, a.Rater = ViewLabel, &Rater{ID: "r1", Token: "t", ProjectID: "p1"}
		a.Queue = []*Pair{{Pair: prefs.Pair{ID: "p", Left: c, Right: c}}}
		a.OpenRedTeam()
	})
	rt := a.RedTeam
	if rt == nil || rt.Discrete() || len(rt.Controls()) != 2 {
		t.Fatalf("red-team mode on Pendulum-v1: %+v", rt)
	}
	a.update(func() {
		a.RedTeamSeek(1)
		a.RedTeamControl(1) // +0.4
		a.RedTeamControl(1) // clipped at 2
	})
	if got := rt.Clip.Actions[1][0]; got != 2 || rt.Edits() != 1 {
		t.Fatalf("after two steps up from 1.5: %v, %d edits", got, rt.Edits())
	}
	a.update(func() {
		a.RedTeamSeek(0)
		a.RedTeamControl(0) // −0.4
	})
	if got := rt.Clip.Actions[0][0]; got != -0.4 || rt.Edits() != 2 || rt.Orig.Actions[0][0] != 0 {
		t.Fatalf("one step down from 0: %v, %d edits", got, rt.Edits())
	}
	if a.RedPlayer.Frames() != 4 {
		t.Fatalf("%d frames, want 4", a.RedPlayer.Frames())
	}
}
