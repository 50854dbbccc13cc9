// Package browsertest starts what the browser tests need: a headless Debian chromium driven by
// chromedp, and a real `prefer serve` on a loopback port with a temporary database.
package browsertest

import (
	"context"
	"os"
	"testing"

	"github.com/chromedp/chromedp"
)

// ChromiumPath is where Debian's chromium lives (build.sh installs it).
const ChromiumPath = "/usr/lib/chromium/chromium"

// NewBrowser starts a headless chromium with a fresh profile and returns a context for its
// first tab. The browser is closed when the test ends. The test is skipped where chromium is
// not installed.
func NewBrowser(t testing.TB) context.Context {
	t.Helper()
	if _, err := os.Stat(ChromiumPath); err != nil {
		t.Skipf("browsertest: no chromium at %s (./build.sh test installs it)", ChromiumPath)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(ChromiumPath),
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
