package tests

import (
	"os/exec"
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
