//go:build notext

package ui

import (
	"time"

	"github.com/prefer-rlhf/prefer/wasm/fitter"
	"github.com/vugu/vugu/js"
)

// The build for clip projects (app.wasm) cannot read text pairs (textpair.go): on the first
// one it switches the page to the full build, text.wasm, which public/main.js loads from then
// on (the localStorage key prefer-app). The pairs and labels are in IndexedDB, so the full
// build goes on where this one stopped.

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

// needText switches to the full build once. If this page is already the fallback of a full
// build that failed to load (offline before it was kept), it says so instead of reloading.
func (a *App) needText() {
	if a.textBusy {
		return
	}
	a.textBusy = true
	ls := js.Global().Get("localStorage")
	if ls.Call("getItem", "prefer-app").String() == "text" {
		a.warn("This device has not kept the text reader yet: connect to the network once and reload the page.")
		return
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
