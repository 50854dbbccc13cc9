package browsertest

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// Wait polls a JavaScript expression in the page until it is truthy, failing the test after
// timeout with what.
func Wait(t testing.TB, ctx context.Context, what, expr string, timeout time.Duration) {
	t.Helper()
	if err := poll(ctx, expr, timeout); err != nil {
		t.Fatalf("browsertest: waiting %v for %s (%s): %v", timeout, what, expr, err)
	}
}

// poll polls expr in the page every 50 ms until it is truthy or timeout has passed.
func poll(ctx context.Context, expr string, timeout time.Duration) error {
	return chromedp.Do(ctx, chromedp.Poll[chromedp.Void](expr,
		chromedp.WithPollingTimeout(timeout), chromedp.WithPollingInterval(50*time.Millisecond)))
}

// WaitServiceWorker waits until the app's service worker controls the page (sw.js installed
// the shell and claimed it). On a timeout it reports the registration's workers and their
// states, so that a failed install (no worker left) reads apart from a slow one.
//
// A page whose navigation was in flight while the worker activated (the app reloads itself to
// switch builds) can miss clients.claim(): the spec leaves such a reserved client to the next
// navigation (w3c/ServiceWorker#1090), and chromium sometimes does. The next load is
// controlled, so when the worker has been active for a while and the page is still not, the
// page is reloaded once, as a rater's next visit would be.
func WaitServiceWorker(t testing.TB, ctx context.Context) {
	t.Helper()
	const timeout = 150 * time.Second
	const activated = `navigator.serviceWorker.getRegistration().then((r) => !!(r && r.active && r.active.state === 'activated'))`
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if poll(ctx, `!!navigator.serviceWorker.controller`, 10*time.Second) == nil {
			return
		}
		if active, err := chromedp.Run(ctx, chromedp.Evaluate[bool](activated, chromedp.EvalAwaitPromise)); err == nil && active {
			// A claim that has just begun lands within milliseconds; give it seconds.
			if poll(ctx, `!!navigator.serviceWorker.controller`, 5*time.Second) == nil {
				return
			}
			t.Log("browsertest: the service worker is active but missed this page: reloading it once")
			if err := chromedp.Do(ctx, chromedp.Reload()); err != nil {
				t.Fatalf("browsertest: reloading for the service worker: %v", err)
			}
			break
		}
	}
	if err := poll(ctx, `!!navigator.serviceWorker.controller`, time.Until(deadline)); err != nil {
		state, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`navigator.serviceWorker.getRegistration().then((r) => JSON.stringify(r ? {installing: r.installing && r.installing.state, waiting: r.waiting && r.waiting.state, active: r.active && r.active.state} : "no registration"))`, chromedp.EvalAwaitPromise))
		t.Fatalf("browsertest: waiting %v for the service worker: %v; registration: %s", timeout, err, state)
	}
}

// Eval evaluates a JavaScript expression (awaiting a promise) and decodes its value.
func Eval[T any](t testing.TB, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("browsertest: evaluating %s: %v", expr, err)
	}
	return v
}

// Do runs actions, failing the test on an error.
func Do(t testing.TB, ctx context.Context, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("browsertest: %v", err)
	}
}

// SetOffline cuts the tab off the network, or reconnects it, as DevTools' offline switch does:
// the page's requests fail and navigator.onLine follows. It sends Network.emulateNetworkConditions,
// which every chromium has (deprecated since 140 but answered by 150 and 156): its replacement,
// emulateNetworkConditionsByRule, changed its parameters between versions (chromium 148 answers
// "Invalid parameters" to the form 156 takes). The API never goes through the service worker
// (public/sw.js), so the page's own requests are the ones that must fail.
func SetOffline(t testing.TB, ctx context.Context, offline bool) {
	t.Helper()
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatalf("browsertest: network.enable: %v", err)
	}
	if _, err := chromedp.Call(ctx, emulateNetworkConditions, networkConditions{
		Offline: offline, DownloadThroughput: -1, UploadThroughput: -1,
	}); err != nil {
		t.Fatalf("browsertest: emulating offline=%v: %v", offline, err)
	}
}

// networkConditions are the parameters of Network.emulateNetworkConditions, all four required
// by every version.
type networkConditions struct {
	Offline            bool    `json:"offline"`
	Latency            float64 `json:"latency"`
	DownloadThroughput float64 `json:"downloadThroughput"`
	UploadThroughput   float64 `json:"uploadThroughput"`
}

// emulateNetworkConditions is the command, which cdproto no longer generates.
var emulateNetworkConditions = cdp.Command[networkConditions, cdp.Empty]{Method: "Network.emulateNetworkConditions"}

// NewTab opens a new tab in the same browser (same profile: IndexedDB, service worker and
// caches are shared) and closes it when the test ends or when the returned cancel is called.
func NewTab(t testing.TB, browser context.Context) (context.Context, context.CancelFunc) {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser)
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("browsertest: new tab: %v", err)
	}
	return ctx, cancel
}
