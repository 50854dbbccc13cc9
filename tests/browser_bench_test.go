package tests

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/prefer-rlhf/prefer/core/env"
	"github.com/prefer-rlhf/prefer/core/lm"
	"github.com/prefer-rlhf/prefer/core/prefs"
	"github.com/prefer-rlhf/prefer/core/text"
	"github.com/prefer-rlhf/prefer/server/store"
	bt "github.com/prefer-rlhf/prefer/tests/browsertest"
	"github.com/prefer-rlhf/prefer/wasm/fitter"
)

var browserBenchJSON = flag.String("browser-bench-json", "", "run TestBrowserBench and write its figures to this JSON file (for prefer bench --extra)")

// TestBrowserBench measures the browser app and writes JSON: the app's size (raw, gzip,
// brotli), the time from navigation to the first clip on screen (a returning rater, shell from
// the service worker), the local model's refit time after one label at 50 and 500 labels (in a
// real Web Worker), the playback frame rate, task T1 on 1, 2 and 3 fit workers (benchT1), and
// a text project's first text pair and Try it (benchText). It runs only with -browser-bench-json FILE:
//
//	go test ./tests -run TestBrowserBench -count=1 -timeout 20m -args -browser-bench-json /tmp/browser.json
func TestBrowserBench(t *testing.T) {
	if *browserBenchJSON == "" {
		t.Skip("a benchmark: run with -args -browser-bench-json FILE")
	}
	out := map[string]any{"app_size": appSize(t)}

	srv := bt.StartServer(t)
	ctx := bt.NewBrowser(t)
	joinWithLink(t, ctx, srv, "Bench")
	bt.WaitServiceWorker(t, ctx)
	var first []float64
	for i := 0; i < 7; i++ {
		bt.Do(t, ctx, chromedp.Reload())
		bt.Wait(t, ctx, "the first clip", `document.documentElement.dataset.firstClip !== undefined`, 30*time.Second)
		v, _ := strconv.ParseFloat(bt.Eval[string](t, ctx, `document.documentElement.dataset.firstClip`), 64)
		first = append(first, v)
	}
	out["first_clip_ms"] = map[string]any{"median": browserMedian(first), "runs": first,
		"what": "navigation start to the first clip drawn, returning rater, app shell from the service worker, localhost"}

	time.Sleep(3 * time.Second)
	var fps []float64
	for i := 0; i < 5; i++ {
		v, _ := strconv.ParseFloat(bt.Eval[string](t, ctx, `document.documentElement.dataset.fps || '0'`), 64)
		fps = append(fps, v)
		time.Sleep(time.Second)
	}
	out["playback_fps"] = map[string]any{"median": browserMedian(fps), "runs": fps,
		"what": "canvas redraws per second of both clips (requestAnimationFrame, headless chromium)"}

	refit := map[string]any{}
	for _, n := range []int{50, 500} {
		fit, trip := benchRefit(t, ctx, n)
		refit[strconv.Itoa(n)] = map[string]any{"fit_ms_median": browserMedian(fit), "round_trip_ms_median": browserMedian(trip), "fit_ms": fit}
	}
	refit["what"] = "worker time to refit incrementally after one label (fit_ms), and page to worker to page (round_trip_ms)"
	out["refit_after_one_label"] = refit
	out["reward_t1"] = benchT1(t, ctx, srv, 5) // last: it leaves the app
	for k, v := range benchText(t) {
		out[k] = v
	}

	b, err := json.MarshalIndent(map[string]any{"browser": out}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(*browserBenchJSON, b, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s", b)
}

// appSize sums the app shell's files as served: raw, gzip -9 and brotli -q 11.
func appSize(t *testing.T) map[string]any {
	root, _ := filepath.Abs("../public")
	files := []string{"app.wasm", "wasm_exec.js", "main.js", "fitter.js", "sw.js", "app.css", "index.html"}
	var raw, gz, br int
	haveBrotli := true
	res := map[string]any{}
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Fatalf("app size: %v (run ./build.sh build)", err)
		}
		raw += len(b)
		var buf bytes.Buffer
		w, _ := gzip.NewWriterLevel(&buf, 9)
		w.Write(b)
		w.Close()
		gz += buf.Len()
		n := 0
		if c, err := exec.Command("brotli", "-c", "-q", "11", filepath.Join(root, f)).Output(); err == nil {
			n = len(c)
		} else {
			haveBrotli = false
		}
		br += n
		if f == "app.wasm" {
			res["wasm_raw_bytes"], res["wasm_gzip_bytes"], res["wasm_brotli_bytes"] = len(b), buf.Len(), n
		}
	}
	res["app_raw_bytes"], res["app_gzip_bytes"] = raw, gz
	if haveBrotli {
		res["app_brotli_bytes"] = br
	}
	res["what"] = "app.wasm (page and fitter worker are one binary) plus wasm_exec.js, scripts, CSS and index.html"
	return res
}

// benchRefit starts a fitter worker on the page with n-1 labels, then sends labels one at a
// time and returns the worker's refit times and the round trips.
func benchRefit(t *testing.T, ctx context.Context, n int) (fit, trip []float64) {
	rng := rand.New(rand.NewPCG(uint64(n), 7))
	var labels []fitter.Label
	for i := 0; i < n+5; i++ {
		l, r := benchClip(rng), benchClip(rng)
		ch := prefs.Left
		if benchTilt(l) > benchTilt(r) {
			ch = prefs.Right
		}
		labels = append(labels, fitter.Label{ID: strconv.Itoa(i), PairID: strconv.Itoa(i), Choice: ch, Left: l, Right: r})
	}
	init, _ := json.Marshal(fitter.In{Type: fitter.TypeInit, Labels: labels[:n-1]})
	var more []string
	for _, l := range labels[n-1:] {
		b, _ := json.Marshal(fitter.In{Type: fitter.TypeLabel, Labels: []fitter.Label{l}})
		more = append(more, string(b))
	}
	moreJSON, _ := json.Marshal(more)
	initJSON, _ := json.Marshal(string(init))
	expr := fmt.Sprintf(`(async () => {
  const w = new Worker('/fitter.js');
  const fitted = (count) => new Promise((resolve) => {
    const h = (e) => { const m = JSON.parse(e.data);
      if (m.type === 'fitted' && m.stats.labels === count) { w.removeEventListener('message', h); resolve(m.stats); } };
    w.addEventListener('message', h);
  });
  let p = fitted(%d); w.postMessage(%s); await p;
  const out = [];
  const more = %s;
  for (let i = 0; i < more.length; i++) {
    const t0 = performance.now();
    p = fitted(%d + i + 1); w.postMessage(more[i]); const s = await p;
    out.push([s.fit_ms, performance.now() - t0]);
  }
  w.terminate();
  return out;
})()`, n-1, initJSON, moreJSON, n-1)
	res := bt.Eval[[][2]float64](t, ctx, expr)
	for _, r := range res {
		fit = append(fit, r[0])
		trip = append(trip, r[1])
	}
	return fit, trip
}

// benchClip is a random CartPole clip of 75 steps (1.5 s).
func benchClip(rng *rand.Rand) prefs.Clip {
	e, _ := env.Lookup("CartPole-v1")
	e.Reset(rng)
	c := prefs.Clip{ID: "c", Env: "CartPole-v1", StartState: e.State()}
	for i := 0; i < 75; i++ {
		c.Actions = append(c.Actions, []float64{float64(rng.IntN(2))})
	}
	return c
}

// benchTilt is the clip's start angle magnitude, the hidden rule of the synthetic rater.
func benchTilt(c prefs.Clip) float64 {
	a := c.StartState[2]
	if a < 0 {
		return -a
	}
	return a
}

func browserMedian(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return s[len(s)/2]
}

var browserTextJSON = flag.String("browser-text-json", "", "run TestBrowserBenchText and write its figures to this JSON file")

// TestBrowserBenchText runs benchText alone (TestBrowserBench runs it too):
//
//	go test ./tests -run TestBrowserBenchText -count=1 -timeout 10m -args -browser-text-json /tmp/text.json
func TestBrowserBenchText(t *testing.T) {
	if *browserTextJSON == "" {
		t.Skip("a benchmark: run with -args -browser-text-json FILE")
	}
	b, err := json.MarshalIndent(map[string]any{"browser": benchText(t)}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(*browserTextJSON, b, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s", b)
}

// benchText measures a text project in the browser (issue 13): the time from navigation
// start to the first text pair painted (data-first-text, the animation frame that paints it)
// for a returning rater (text.wasm from the service worker, tokenizer, pairs and policy from
// IndexedDB), median of 5 reloads after one that is not counted, with where the time went
// (text.wasm's response from the service worker, the app's first render) and a clip project's
// first clip measured right after, for scale; and Try it's sampling time on the page for a
// policy of core/lm's anchor shape (137k parameters).
func benchText(t *testing.T) map[string]any {
	_, srv, api, pid, code, bundle := startTextProject(t)
	publishTextPairs(t, api, pid, bundle, 40)
	tok, _ := text.LoadBPE(bundle.Tokenizer)
	c := lm.DefaultConfig()
	c.Vocab = tok.VocabSize()
	m, err := lm.New(c, 1)
	if err != nil {
		t.Fatal(err)
	}
	w, _ := m.MarshalBinary()
	if err := api.PublishRound(context.Background(), &store.Round{ProjectID: pid, Round: 2, Policy: &store.Policy{Version: 1, Weights: w}}); err != nil {
		t.Fatal(err)
	}

	ctx := bt.NewBrowser(t)
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: `window.preferTrace = true;`}); err != nil {
		t.Fatal(err)
	}
	bt.Do(t, ctx, chromedp.Navigate(srv.URL+"/join?code="+code))
	bt.Wait(t, ctx, "the join form", `!!document.getElementById('join-name')`, 30*time.Second)
	bt.Do(t, ctx, chromedp.SendKeys(chromedp.ID("join-name"), "Bench"), chromedp.Click(chromedp.CSS(`form.join button[type=submit]`)))
	waitAcrossReload(t, ctx, "the text build", `localStorage.getItem('prefer-app') === 'text' && !!document.getElementById('text-left')`, 60*time.Second)
	bt.WaitServiceWorker(t, ctx)
	bt.Wait(t, ctx, "the policy", `(document.getElementById('try-meta') || {}).textContent?.includes('policy v1')`, 60*time.Second)
	// The timeline of one load, in ms from navigation start: where the time before the first
	// pair goes. The marks and measures are the page's (public/main.js, wasm/app, ui/trace.go).
	const jsTimeline = `(() => {
  const t = {};
  const nav = performance.getEntriesByType('navigation')[0];
  if (nav) t.page_response_end = nav.responseEnd;
  const wasm = performance.getEntriesByType('resource').find((e) => e.name.includes('/text.wasm'));
  if (wasm) { t.wasm_fetch_start = wasm.fetchStart; t.wasm_worker_start = wasm.workerStart; t.wasm_response_start = wasm.responseStart; t.wasm_response_end = wasm.responseEnd; }
  for (const m of performance.getEntriesByType('mark')) if (m.name.startsWith('prefer:') && !(m.name.slice(7) in t)) t[m.name.slice(7)] = m.startTime;
  for (const m of performance.getEntriesByType('measure')) {
    if (!((m.name + '_start') in t)) { t[m.name + '_start'] = m.startTime; t[m.name + '_end'] = m.startTime + m.duration; }
  }
  t.first_text = +document.documentElement.dataset.firstText;
  return t;
})()`
	var first []float64
	var timelines []map[string]float64
	for i := 0; i < 6; i++ {
		bt.Do(t, ctx, chromedp.Reload())
		bt.Wait(t, ctx, "the first text pair", `document.documentElement.dataset.firstText !== undefined`, 30*time.Second)
		tl := bt.Eval[map[string]float64](t, ctx, jsTimeline)
		if i == 0 {
			continue // the first load after the switch to text.wasm: V8 caches its compiled code from the second
		}
		first = append(first, tl["first_text"])
		timelines = append(timelines, tl)
	}
	bt.Wait(t, ctx, "the policy kept on the device", `(document.getElementById('try-meta') || {}).textContent?.includes('policy v1')`, 30*time.Second)
	var try []float64
	for i := 0; i < 5; i++ {
		bt.Eval[string](t, ctx, `document.getElementById('try-prompt').value = 'The food we tried in town was great and'`)
		bt.Do(t, ctx, chromedp.Click(chromedp.ID("try-go")))
		bt.Wait(t, ctx, "a continuation", `+document.getElementById('try-out').dataset.count === `+strconv.Itoa(i+1), 30*time.Second)
		ms, _ := strconv.ParseFloat(bt.Eval[string](t, ctx, `document.getElementById('try-out').dataset.ms`), 64)
		try = append(try, ms)
	}
	// The same figure for a clip project in the same minutes: this machine's load moves both.
	csrv := bt.StartServer(t)
	cctx := bt.NewBrowser(t)
	joinWithLink(t, cctx, csrv, "Bench")
	bt.WaitServiceWorker(t, cctx)
	var clip []float64
	for i := 0; i < 6; i++ {
		bt.Do(t, cctx, chromedp.Reload())
		bt.Wait(t, cctx, "the first clip", `document.documentElement.dataset.firstClip !== undefined`, 30*time.Second)
		if i > 0 {
			v, _ := strconv.ParseFloat(bt.Eval[string](t, cctx, `document.documentElement.dataset.firstClip`), 64)
			clip = append(clip, v)
		}
	}
	return map[string]any{
		"first_text_pair_ms": map[string]any{"median": browserMedian(first), "runs": first,
			"first_clip_same_run_ms": clip, "first_clip_same_run_median_ms": browserMedian(clip),
			"timeline_ms": medianTimeline(first, timelines),
			"what":        "navigation start to the animation frame that paints the first text pair, returning rater (text.wasm from the service worker; tokenizer, pairs and a 137k-parameter policy in IndexedDB), localhost; timeline_ms: the median run's time from navigation start of each step of the load (the page's response, text.wasm's fetch from the service worker, the module instantiated, Go's main, IndexedDB opened and read, each span's start and end, the first render); first_clip_same_run_ms: a clip project's first clip, measured right after"},
		"tryit_ms": map[string]any{"median": browserMedian(try), "runs": try,
			"what": "Try it: a continuation of 12 tokens after a 5-token prompt sampled on the page from a policy of core/lm's anchor shape (137k parameters), wall time including the hand-backs to the browser every 8 ms"},
	}
}

// medianTimeline returns the timeline of the run with the median first pair, each step in ms
// from navigation start rounded to 0.1 ms (one run's, so that the steps add up).
func medianTimeline(first []float64, timelines []map[string]float64) map[string]float64 {
	m := browserMedian(first)
	out := map[string]float64{}
	for i, v := range first {
		if v == m {
			for k, x := range timelines[i] {
				out[k] = float64(int(x*10+0.5)) / 10
			}
			break
		}
	}
	return out
}
