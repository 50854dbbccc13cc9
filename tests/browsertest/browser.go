// Package browsertest starts what the browser tests need: a headless Debian chromium driven by
// chromedp, and a real `prefer serve` on a loopback port with a temporary database.
package browsertest

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/prefer-rlhf/prefer/tests/worker"
)

// ChromiumPath is where Debian's chromium lives (build.sh installs it).
const ChromiumPath = "/usr/lib/chromium/chromium"

// Chromium returns the browser binary to test: $PREFER_CHROMIUM when set (say, an older
// chromium unpacked with dpkg -x, to check the DevTools calls against it), else ChromiumPath.
func Chromium() string {
	if p := os.Getenv("PREFER_CHROMIUM"); p != "" {
		return p
	}
	return ChromiumPath
}

// NewBrowser starts a headless chromium with a fresh profile and returns a context for its
// first tab. The browser is closed when the test ends. Where chromium is not installed the
// test fails under CI=true and is skipped otherwise.
func NewBrowser(t testing.TB) context.Context {
	t.Helper()
	bin := Chromium()
	if _, err := os.Stat(bin); err != nil {
		worker.Unavailable(t, fmt.Errorf("browsertest: no chromium at %s (./build.sh test installs it)", bin))
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 800),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-features", "Translate,MediaRouter,OptimizationHints"),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	if err := chromedp.Do(ctx); err != nil { // start the browser now, with no deadline
		t.Fatalf("browsertest: starting chromium: %v", err)
	}
	return ctx
}
