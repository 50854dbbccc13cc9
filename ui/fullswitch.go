//go:build notext

package ui

import (
	"slices"
	"time"

	"github.com/prefer-rlhf/prefer/wasm/fitter"
	"github.com/vugu/vugu"
	"github.com/vugu/vugu/js"
)

// The build for clip projects (app.wasm) leaves out what a clip project's rater may never
// use, to keep its first load small: reading text pairs (textread.go, tryread.go) and red-team
// mode (redteam.go, red-team-mode.vugu). On the first text pair, or when the rater opens
// red-team mode, it switches the page to the full build, text.wasm, which public/main.js loads
// from then on (the localStorage key prefer-app, "text" since text was the first reason). The
// pairs and labels are in IndexedDB, so the full build goes on where this one stopped.

// ReadsText is false in the build for clip projects.
const ReadsText = false

// textBundle is empty here: this build keeps no tokenizer.
type textBundle struct{ project string }

// loadBundle keeps nothing: a stored bundle stays on the device for the full build.
func loadBundle(string, TextBundle) (*textBundle, error) { return nil, nil }

// prepareText is never reached: without a bundle, prepare asks for one (needText).
func (p *Pair) prepareText(*textBundle) error { return errNoTokenizer }

// TextGoal is "": this build shows no text pair.
func (a *App) TextGoal() string { return "" }

// MarksText is "": this build shows no text pair.
func (a *App) MarksText(*Label, fitter.Prediction) string { return "" }

// heldPolicy and tryDOM are empty here: this build samples nothing and shows no Try-it box
// (the full build's).
type (
	heldPolicy struct{}
	tryDOM     struct{}
)

// MountTryIt does nothing: CanTry is false.
func (a *App) MountTryIt(js.Value) {}

// restorePolicy reads nothing: a stored policy stays on the device for the full build.
func (a *App) restorePolicy() {}

// needPolicy fetches nothing: this build has no Try it.
func (a *App) needPolicy() {}

// CanTry is false: this build shows no Try-it box.
func (a *App) CanTry() bool { return false }

// MarkFirstText does nothing: this build shows no text pair.
func (a *App) MarkFirstText(js.Value) {}

// needText switches to the full build once.
func (a *App) needText() {
	if a.textBusy {
		return
	}
	a.textBusy = true
	a.switchFull("the text reader", "")
}

// RedTeam is empty here: this build has no red-team mode.
type RedTeam struct{}

// RedTeamMode is empty here: View is never ViewRedTeam in this build.
type RedTeamMode struct{ App *App }

// Build shows nothing.
func (c *RedTeamMode) Build(*vugu.BuildIn) *vugu.BuildOut { return &vugu.BuildOut{} }

// OpenRedTeam switches to the full build, which opens red-team mode once loaded.
func (a *App) OpenRedTeam() {
	if a.View == ViewLabel && !a.Help && a.RedTeamBlocked() == "" {
		a.switchFull("red-team mode", ViewRedTeam)
	}
}

// redTeamScores and redTeamRefresh are never reached: there is no red-team mode to score for.
func (a *App) redTeamScores(int, []float64, string) {}
func (a *App) redTeamRefresh()                      {}

// openAfterSwitch forgets the view the full build was to open: this page is the fallback of a
// full build that did not load.
func (a *App) openAfterSwitch() {
	if ss := js.Global().Get("sessionStorage"); ss.Truthy() {
		ss.Call("removeItem", openKey)
	}
}

// switchFull switches the page to the full build, once, for what (named for the rater) this
// build leaves out; open, if not "", is the view the full build opens once loaded. If this page
// is already the fallback of a full build that failed to load (offline before the service
// worker kept it: public/main.js), it says so instead of reloading, and the rater labels on.
func (a *App) switchFull(what, open string) {
	ls := js.Global().Get("localStorage")
	if ls.Call("getItem", "prefer-app").String() == "text" {
		if msg := "This device has not kept " + what + " yet: connect to the network once and reload the page."; !slices.Contains(a.Warnings, msg) {
			a.warn(msg)
		}
		return
	}
	if a.switching {
		return
	}
	a.switching = true
	if open != "" {
		js.Global().Get("sessionStorage").Call("setItem", openKey, open)
	}
	go func() {
		// Labels being written to the device finish first.
		for i := 0; i < 50; i++ {
			var n int
			a.read(func() { n = a.saving })
			if n == 0 {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		ls.Call("setItem", "prefer-app", "text")
		js.Global().Get("location").Call("reload")
	}()
}
