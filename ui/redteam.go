//go:build !notext

package ui

import (
	"errors"
	"math"
	"strconv"

	"github.com/prefer-rlhf/prefer/core/env"
	"github.com/prefer-rlhf/prefer/core/prefs"
	"github.com/prefer-rlhf/prefer/core/wire"
	"github.com/vugu/vugu/js"
)

// Red-team mode (issue 15, red-teaming by hand): the rater edits a clip's actions step by step,
// watches r̂ of their local model change, and submits a clip they think the model overrates;
// the hub scores it with the task's true reward. It is in the full build only: the clip build
// switches to it when the rater opens the mode (fullswitch.go), and the full build opens the
// mode once it has loaded (openAfterSwitch).

// RedTeam is red-team mode's state: the clip the rater started from and their edit of it.
type RedTeam struct {
	Orig prefs.Clip // the left clip of the pair on screen when the mode opened
	Clip prefs.Clip // Orig's start state with the edited actions
	Step int        // the step on screen: its frame, and the action taken there
	// RHat and RHatOrig are the local model's returns of Clip and Orig, scored together after
	// each edit; NaN until the worker answers, or when it cannot (Note says why).
	RHat, RHatOrig float64
	Scoring        bool
	Note           string
	Submitting     bool
	Result         *wire.RedTeamResponse // the hub's verdict on the last submission
	SubmitErr      string

	spec   env.Spec
	scenes clipScenes
	seq    int // the last score request, so a late answer to an older one is ignored
}

// OpenRedTeam starts red-team mode on the left clip of the pair on screen. Call it under the
// write lock (from an event handler).
func (a *App) OpenRedTeam() {
	if a.View != ViewLabel || a.Help || a.RedTeamBlocked() != "" {
		return
	}
	orig := a.Current().Left
	orig.Actions = cloneActions(orig.Actions)
	e, err := env.Lookup(orig.Env)
	if err != nil {
		a.warn("Red-team mode: " + err.Error())
		return
	}
	rt := &RedTeam{Orig: orig, Clip: orig, spec: e.Spec(), RHat: math.NaN(), RHatOrig: math.NaN()}
	rt.Clip.Actions = cloneActions(orig.Actions)
	if err := rt.replay(); err != nil {
		a.warn("Red-team mode: " + err.Error())
		return
	}
	a.RedTeam, a.View = rt, ViewRedTeam
	a.RedPlayer.LoadScenes(rt.scenes, 0)
	a.scoreRedTeam()
}

// openAfterSwitch opens red-team mode when the clip build switched to this one for it
// (fullswitch.go leaves ViewRedTeam under sessionStorage's openKey): the rater asked for the
// mode once. Call it without a lock, after the load has chosen the view and started the worker.
func (a *App) openAfterSwitch() {
	ss := js.Global().Get("sessionStorage")
	if !ss.Truthy() || ss.Call("getItem", openKey).String() != ViewRedTeam {
		return
	}
	ss.Call("removeItem", openKey)
	a.update(a.OpenRedTeam)
}

// redTeamRefresh asks for r̂ again when the mode shows none yet: opened before the worker had
// fitted (as right after the switch to this build), it shows r̂ once the model is there. Call
// it under the write lock.
func (a *App) redTeamRefresh() {
	if rt := a.RedTeam; rt != nil && a.View == ViewRedTeam && !rt.Scoring && math.IsNaN(rt.RHat) {
		a.scoreRedTeam()
	}
}

// RedTeamSeek shows step i of the clip.
func (a *App) RedTeamSeek(i int) {
	rt := a.RedTeam
	if rt == nil {
		return
	}
	rt.Step = min(max(i, 0), len(rt.Clip.Actions)-1)
	a.RedPlayer.SeekFrame(rt.Step)
}

// RedTeamChoose sets the action at the step on screen to index i of a discrete space.
func (a *App) RedTeamChoose(i int) {
	rt := a.RedTeam
	if rt == nil || !rt.spec.Action.Discrete() || i < 0 || i >= rt.spec.Action.N {
		return
	}
	a.redTeamEdit([]float64{float64(i)})
}

// RedTeamNudge moves the action at the step on screen by frac of a box space's range (its
// first component; the continuous tasks have one), within the bounds.
func (a *App) RedTeamNudge(frac float64) {
	rt := a.RedTeam
	if rt == nil || rt.spec.Action.Discrete() || len(rt.spec.Action.Low) == 0 {
		return
	}
	lo, hi := rt.spec.Action.Low[0], rt.spec.Action.High[0]
	act := append([]float64(nil), rt.Clip.Actions[rt.Step]...)
	act[0] = math.Round(min(max(act[0]+frac*(hi-lo), lo), hi)*1000) / 1000
	a.redTeamEdit(act)
}

// RedTeamRevert puts the original actions back.
func (a *App) RedTeamRevert() {
	rt := a.RedTeam
	if rt == nil {
		return
	}
	rt.Clip.Actions = cloneActions(rt.Orig.Actions)
	a.redTeamChanged()
}

// redTeamEdit sets the action at the step on screen, then replays and rescores the clip.
func (a *App) redTeamEdit(act []float64) {
	rt := a.RedTeam
	rt.Clip.Actions[rt.Step] = act
	a.redTeamChanged()
}

// redTeamChanged replays the edited clip from its start state (core/env, as every clip is
// replayed) and asks the local model for r̂ again.
func (a *App) redTeamChanged() {
	rt := a.RedTeam
	rt.Result, rt.SubmitErr = nil, ""
	if err := rt.replay(); err != nil {
		a.warn("Red-team mode: " + err.Error())
		return
	}
	a.RedPlayer.LoadScenes(rt.scenes, rt.Step)
	a.scoreRedTeam()
}

func (rt *RedTeam) replay() error {
	cs, err := replayClip(&rt.Clip)
	if err != nil {
		return err
	}
	rt.scenes = cs
	return nil
}

// scoreRedTeam asks the worker for r̂ of the original and the edited clip.
func (a *App) scoreRedTeam() {
	rt := a.RedTeam
	rt.seq++
	if a.fitter == nil {
		rt.Note = "No local model on this device."
		return
	}
	rt.Scoring = true
	seq, clips := rt.seq, []prefs.Clip{rt.Orig, rt.Clip}
	clips[1].Actions = cloneActions(rt.Clip.Actions)
	go a.fitter.Score(seq, clips)
}

// redTeamScores takes the worker's answer to a score request.
func (a *App) redTeamScores(seq int, rhat []float64, reason string) {
	rt := a.RedTeam
	if rt == nil || seq != rt.seq {
		return
	}
	rt.Scoring = false
	if len(rhat) != 2 {
		rt.RHat, rt.RHatOrig, rt.Note = math.NaN(), math.NaN(), "Your model has no r̂ yet: "+reason+"."
		return
	}
	rt.RHatOrig, rt.RHat, rt.Note = rhat[0], rhat[1], ""
}

// Edits returns how many steps' actions differ from the original clip's.
func (rt *RedTeam) Edits() int {
	n := 0
	for i, act := range rt.Clip.Actions {
		for j := range act {
			if act[j] != rt.Orig.Actions[i][j] {
				n++
				break
			}
		}
	}
	return n
}

// SubmitRedTeam sends the edited clip to the hub, which scores it with the task's true reward.
// It needs the hub: the verdict is the point, so an offline device says so instead of queueing.
func (a *App) SubmitRedTeam() {
	rt := a.RedTeam
	if rt == nil || rt.Submitting || a.Rater == nil {
		return
	}
	if !a.Online() {
		rt.SubmitErr = "Submitting needs the hub: you are offline. Your edit stays here; submit when you are back online."
		return
	}
	rt.Submitting, rt.SubmitErr, rt.Result = true, "", nil
	req := &wire.RedTeamRequest{StartState: append([]float64(nil), rt.Clip.StartState...), Actions: cloneActions(rt.Clip.Actions)}
	go a.submitRedTeam(rt, *a.Rater, req)
}

func (a *App) submitRedTeam(rt *RedTeam, r Rater, req *wire.RedTeamRequest) {
	res, err := a.hub.SubmitRedTeam(&r, req)
	a.update(func() {
		rt.Submitting = false
		var he *HubError
		switch {
		case err == nil:
			rt.Result = res
		case errors.Is(err, ErrNetwork):
			rt.SubmitErr = "Submitting needs the hub, and it cannot be reached. Try again when you are online."
		case errors.As(err, &he) && he.Message != "":
			rt.SubmitErr = "The hub refused the clip: " + he.Message
		default:
			rt.SubmitErr = "Could not submit: " + err.Error()
		}
	})
}

// ActionText names an action for the rater: a discrete index, or a box action's value.
func ActionText(spec env.Spec, act []float64) string {
	if spec.Action.Discrete() && len(act) == 1 {
		return "action " + strconv.Itoa(int(act[0]))
	}
	s := ""
	for i, v := range act {
		if i > 0 {
			s += ", "
		}
		s += strconv.FormatFloat(v, 'f', 2, 64)
	}
	return s
}

func cloneActions(acts [][]float64) [][]float64 {
	out := make([][]float64, len(acts))
	for i, a := range acts {
		out[i] = append([]float64(nil), a...)
	}
	return out
}

// Discrete reports whether the clip's env has a discrete action space.
func (rt *RedTeam) Discrete() bool { return rt.spec.Action.Discrete() }

// Controls labels the buttons that change the action at the step on screen: one per action
// of a discrete space, or less and more for a box (RedTeamControl).
func (rt *RedTeam) Controls() []string {
	if !rt.Discrete() {
		return []string{"− less", "+ more"}
	}
	out := make([]string, rt.spec.Action.N)
	for i := range out {
		out[i] = "action " + strconv.Itoa(i)
	}
	return out
}

// RedTeamControl is button i of Controls: choose action i of a discrete space, or move a box
// action down (0) or up (1) by a tenth of its range.
func (a *App) RedTeamControl(i int) {
	rt := a.RedTeam
	switch {
	case rt == nil:
	case rt.Discrete():
		a.RedTeamChoose(i)
	case i == 0:
		a.RedTeamNudge(-0.1)
	default:
		a.RedTeamNudge(0.1)
	}
}
