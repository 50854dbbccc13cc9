package tests

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/prefer-rlhf/prefer/core/prefs"
	"github.com/prefer-rlhf/prefer/core/reward"
	bt "github.com/prefer-rlhf/prefer/tests/browsertest"
	"github.com/prefer-rlhf/prefer/wasm/fitter"
)

// TestBrowserFitWorkers runs the model's worker (fitter.js) in chromium three times on the
// same labels: an init with 100 labels (a full fit) and then 9 labels one by one (incremental
// updates, each predicted first; the 10th refit sends the local model to keep, after its stats). The first run
// fits on one worker, the second spreads the members over two, the third takes the app's
// default (one per member when navigator.hardwareConcurrency is 2 or more). Each run must report the
// workers it used, and the parallel runs must send the same predictions and local model, bit
// for bit, as the single worker.
func TestBrowserFitWorkers(t *testing.T) {
	srv := bt.StartServer(t)
	ctx := bt.NewBrowser(t)
	bt.Do(t, ctx, chromedp.Navigate(srv.URL+"/"))

	rng := rand.New(rand.NewPCG(13, 6))
	const n = 100
	var labels []fitter.Label
	for i := 0; i < n+9; i++ {
		l, r := benchClip(rng), benchClip(rng)
		ch := prefs.Left
		if benchTilt(l) > benchTilt(r) {
			ch = prefs.Right
		}
		labels = append(labels, fitter.Label{ID: strconv.Itoa(i), PairID: strconv.Itoa(i), Choice: ch, Left: l, Right: r})
	}
	init, _ := json.Marshal(fitter.In{Type: fitter.TypeInit, Labels: labels[:n]})
	var more []string
	for _, l := range labels[n:] {
		b, _ := json.Marshal(fitter.In{Type: fitter.TypeLabel, Labels: []fitter.Label{l}})
		more = append(more, string(b))
	}
	initJSON, _ := json.Marshal(string(init))
	moreJSON, _ := json.Marshal(more)
	// All labels are posted at once, so the worker takes each one before any idle round
	// (which would make the model depend on timing).
	expr := fmt.Sprintf(`(async () => {
  const run = (workers) => new Promise((resolve) => {
    const w = new Worker('/fitter.js');
    const msgs = [];
    w.onmessage = (e) => { const m = JSON.parse(e.data); msgs.push(m);
      if (m.type === 'error' || (m.type === 'local' && msgs.some((o) => o.type === 'fitted' && o.stats.labels === %d))) { w.terminate(); resolve(msgs); } };
    const init = JSON.parse(%s); init.workers = workers;
    w.postMessage(JSON.stringify(init));
    for (const m of %s) w.postMessage(m);
  });
  return JSON.stringify({cores: navigator.hardwareConcurrency, runs: [await run(1), await run(2), await run(0)]});
})()`, n+9, initJSON, moreJSON)
	var res struct {
		Cores int
		Runs  [][]fitter.Out
	}
	if err := json.Unmarshal([]byte(bt.Eval[string](t, ctx, expr)), &res); err != nil {
		t.Fatal(err)
	}
	type outcome struct {
		workers int
		preds   []fitter.Prediction
		local   []byte
	}
	var got []outcome
	for k, msgs := range res.Runs {
		var o outcome
		for _, m := range msgs {
			switch {
			case m.Type == fitter.TypeError:
				t.Fatalf("run %d: %s", k, m.Message)
			case m.Type == fitter.TypeFitted && m.Stats != nil && o.workers == 0:
				o.workers = m.Stats.Workers
			case m.Type == fitter.TypePrediction:
				o.preds = append(o.preds, *m.Prediction)
			case m.Type == fitter.TypeLocal:
				o.local = m.Local.Model
			}
		}
		got = append(got, o)
	}
	auto := 1 // one per member (3) with two cores or more, up to two per core
	if res.Cores >= 2 {
		auto = min(3, 2*res.Cores)
	}
	want := []int{1, 2, auto}
	t.Logf("navigator.hardwareConcurrency %d; workers %d, %d, %d", res.Cores, got[0].workers, got[1].workers, got[2].workers)
	for k, o := range got {
		if o.workers != want[k] {
			t.Errorf("run %d: the full fit used %d workers, want %d", k, o.workers, want[k])
		}
		if len(o.preds) != 9 || o.local == nil {
			t.Fatalf("run %d: %d predictions and local model %v, want 9 and a model", k, len(o.preds), o.local != nil)
		}
	}
	for k := 1; k < len(got); k++ {
		if string(got[k].local) != string(got[0].local) {
			t.Errorf("%d workers: the local model after 9 updates differs from one worker's", got[k].workers)
		}
		for i, p := range got[k].preds {
			if !reflect.DeepEqual(p, got[0].preds[i]) {
				t.Errorf("%d workers: prediction %d is %+v, one worker's %+v", got[k].workers, i, p, got[0].preds[i])
			}
		}
	}
}

var browserT1JSON = flag.String("browser-t1-json", "", "run TestBrowserBenchT1 and write its figures to this JSON file")

// TestBrowserBenchT1 is TestBrowserBench's T1 part alone (benchT1), a benchmark:
//
//	go test ./tests -run TestBrowserBenchT1 -count=1 -timeout 20m -args -browser-t1-json /tmp/t1.json
func TestBrowserBenchT1(t *testing.T) {
	if *browserT1JSON == "" {
		t.Skip("a benchmark: run with -args -browser-t1-json FILE")
	}
	srv := bt.StartServer(t)
	ctx := bt.NewBrowser(t)
	b, err := json.MarshalIndent(map[string]any{"browser": map[string]any{"reward_t1": benchT1(t, ctx, srv, 5)}}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(*browserT1JSON, b, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s", b)
}

// benchT1 runs task T1 (core/reward: 500 comparisons, ensemble of 3) in chromium's Web
// Workers, each running fitter.js, for seeds 1..seeds, with the members spread over 1, 2 and
// 3 workers as the model's worker does (member i on worker i mod k), workers named as the
// app's (fitter.AppWorker), so running its matrix kernel. The time is from handing
// the workers their jobs (model, member states, data, already fetched) to the last member's
// state back; the workers are started and ready before, on a page of the server's origin that
// runs nothing else (the app would be playing clips). The members come back and are assembled
// here, natively: the model must be the same for every worker count.
func benchT1(t *testing.T, ctx context.Context, srv *bt.Server, seeds int) map[string]any {
	bt.Do(t, ctx, chromedp.Navigate(srv.URL+"/app.css"))
	counts := []int{1, 2, 3}
	const goKernel = -1         // one worker with Go's kernels
	jobs := map[string][]byte{} // seed/k/w
	type seedRun struct {
		m    *reward.Model
		d    *reward.Dataset
		test []reward.Comparison
	}
	runs := map[int]seedRun{}
	for s := 1; s <= seeds; s++ {
		d, test := reward.T1Data(uint64(s))
		m, err := reward.New(reward.T1Config(uint64(s)), reward.T1Shape)
		if err != nil {
			t.Fatal(err)
		}
		model, _ := m.MarshalBinary()
		data := reward.AppendDataset(nil, d)
		for _, k := range counts {
			for w := 0; w < k; w++ {
				var members []int
				var states [][]byte
				for i := w; i < m.Members(); i += k {
					st, _ := m.MemberState(i)
					members, states = append(members, i), append(states, st)
				}
				jobs[fmt.Sprintf("%d/%d/%d", s, k, w)] = fitter.EncodeJob(model, data, members, states)
			}
		}
		runs[s] = seedRun{m, d, test}
	}
	js := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		b, ok := jobs[strings.TrimPrefix(r.URL.Path, "/")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write(b)
	}))
	defer js.Close()

	load0, _ := os.ReadFile("/proc/loadavg")
	secs := map[int][]float64{}
	var acc []float64
	for s := 1; s <= seeds; s++ {
		order := counts
		if s%2 == 0 { // alternate the order, so drift in the machine's load favours none
			order = []int{3, 2, 1}
		}
		var model0 []byte
		// goKernel: one worker named fitter.GoKernelWorker, which keeps Go's kernels, as the same
		// run's anchor for the SIMD module; it must fit the same model.
		for _, k := range append(order, goKernel) {
			expr := fmt.Sprintf(`(async () => {
  if (!self.t1Workers) {
    self.t1Kernels = [];
    self.t1Workers = await Promise.all([%q, %q, %q, %q].map((name, i) => new Promise((resolve) => {
      const w = new Worker('/fitter.js', {name});
      w.onmessage = (e) => { if (typeof e.data === 'string' && JSON.parse(e.data).type === 'ready') { self.t1Kernels[i] = JSON.parse(e.data).message; resolve(w); } };
    })));
  }
  const goKernel = %d < 0, k = goKernel ? 1 : %d;
  const bufs = await Promise.all([...Array(k).keys()].map((w) =>
    fetch(%q + '/%d/' + k + '/' + w).then((r) => r.arrayBuffer())));
  const t0 = performance.now();
  const res = await Promise.all(bufs.map((b, w) => new Promise((resolve, reject) => {
    const wk = self.t1Workers[goKernel ? 3 : w];
    wk.onmessage = (e) => { if (typeof e.data === 'string') { const m = JSON.parse(e.data); if (m.type === 'error') reject(m.message); return; } resolve(e.data); };
    wk.postMessage(new Uint8Array(b), [b]);
  })));
  const ms = performance.now() - t0;
  const b64 = (u) => { let s = ''; for (let i = 0; i < u.length; i += 0x8000) s += String.fromCharCode.apply(null, u.subarray(i, i + 0x8000)); return btoa(s); };
  return JSON.stringify({ms, res: res.map(b64)});
})()`, fitter.AppWorker, fitter.AppWorker, fitter.AppWorker, fitter.GoKernelWorker, k, k, js.URL, s)
			var out struct {
				MS  float64
				Res []string
			}
			if err := json.Unmarshal([]byte(bt.Eval[string](t, ctx, expr)), &out); err != nil {
				t.Fatal(err)
			}
			secs[k] = append(secs[k], out.MS/1000)
			// Assemble on a fresh copy of the untrained model, as the model's worker does.
			var m reward.Model
			b, _ := runs[s].m.MarshalBinary()
			if err := m.UnmarshalBinary(b); err != nil {
				t.Fatal(err)
			}
			steps := 0
			for _, r := range out.Res {
				raw, _ := base64.StdEncoding.DecodeString(r)
				n, err := fitter.TakeResult(&m, raw)
				if err != nil {
					t.Fatal(err)
				}
				steps += n
			}
			m.Assemble(runs[s].d, steps)
			got, _ := m.MarshalBinary()
			if model0 == nil {
				model0 = got
				acc = append(acc, reward.Accuracy(&m, runs[s].test))
			} else if string(got) != string(model0) {
				t.Errorf("T1 seed %d: the model fitted on %d workers (-1: Go's kernels) differs", s, k)
			}
			t.Logf("T1 seed %d, %d workers: %.3f s", s, k, out.MS/1000)
		}
	}
	load1, _ := os.ReadFile("/proc/loadavg")
	// Every chromium the tests run (150 and up) has WebAssembly SIMD.
	kernels := bt.Eval[[]string](t, ctx, `self.t1Kernels`)
	for i, k := range kernels {
		if want := fitter.KernelSIMD; i < 3 && k != want || i == 3 && !strings.HasPrefix(k, "go") {
			t.Errorf("fit worker %d's matrix kernel is %q, want %q (\"go\" for worker 3)", i, k, want)
		}
	}
	_ = bt.Eval[bool](t, ctx, `(() => { for (const w of self.t1Workers || []) w.terminate(); self.t1Workers = null; return true; })()`)
	cores := bt.Eval[int](t, ctx, `navigator.hardwareConcurrency`)
	res := map[string]any{
		"seeds":                   seeds,
		"matrix_kernels":          kernels,
		"hardware_concurrency":    cores,
		"app_workers":             appWorkers(cores),
		"heldout_accuracy_median": browserMedian(acc),
		"load_average_before":     strings.TrimSpace(string(load0)),
		"load_average_after":      strings.TrimSpace(string(load1)),
		"what": "task T1 (core/reward) in headless chromium Web Workers running fitter.js: members spread over k workers (member i on worker i mod k), " +
			"from handing over the jobs to the last member back; the model's worker uses min(members, 2 × navigator.hardwareConcurrency) on two cores or more; " +
			"the workers run the SIMD module (wasm/simd) but for workers_1_go_kernel, one worker with Go's kernels, which fits the same model",
	}
	for _, k := range counts {
		res[fmt.Sprintf("t1_seconds_workers_%d", k)] = browserMedian(secs[k])
		res[fmt.Sprintf("t1_seconds_workers_%d_runs", k)] = secs[k]
	}
	res["t1_seconds_workers_1_go_kernel"] = browserMedian(secs[goKernel])
	res["t1_seconds_workers_1_go_kernel_runs"] = secs[goKernel]
	return res
}

// appWorkers is how many workers the app's model fits T1's three members on (fitter.Message's
// Workers): one per member, up to two per core, on two cores or more; one otherwise.
func appWorkers(cores int) int {
	if cores < 2 {
		return 1
	}
	return min(3, 2*cores)
}
