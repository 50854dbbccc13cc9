package tests

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// appBudget is the most a clip project's first load may weigh, brotli-compressed: app.wasm and
// the shell's files (issue 13).
const appBudget = 1_000_000

// TestAppSizeBudget: the built app (./build.sh build) weighs at most appBudget on a first visit.
// Brotli's size of the 5 MB wasm moves by 1-5 KB when a few hundred bytes of code move, so a
// change can cross the line without looking big: this catches it when it is made.
func TestAppSizeBudget(t *testing.T) {
	if _, err := exec.LookPath("brotli"); err != nil {
		t.Skip("no brotli here (./build.sh test installs it)")
	}
	res := appSize(t)
	br := res["app_brotli_bytes"].(int)
	t.Logf("first load of a clip project: %d bytes brotli (app.wasm %d), budget %d", br, res["wasm_brotli_bytes"], appBudget)
	if br > appBudget {
		t.Errorf("the app weighs %d bytes brotli, over the budget of %d: look at what the change added to app.wasm (ui, wasm/fitter and what they import) and at build.sh's inlining flags", br, appBudget)
	}
}

// TestAppLeavesOutRedTeam: red-team mode is in the full build only (ui/fullswitch.go), as
// reading text is: its screen's words are in text.wasm and not in app.wasm, the clip build.
func TestAppLeavesOutRedTeam(t *testing.T) {
	const words = "Find a clip your model overrates" // red-team-mode.vugu's hint
	for f, want := range map[string]bool{"app.wasm": false, "text.wasm": true} {
		b, err := os.ReadFile(filepath.Join("..", "public", f))
		if err != nil {
			t.Fatalf("%v (run ./build.sh build)", err)
		}
		if got := bytes.Contains(b, []byte(words)); got != want {
			t.Errorf("%s carries red-team mode's screen: %v, want %v", f, got, want)
		}
	}
}
