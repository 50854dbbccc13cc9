package worker

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
)

var (
	syncBench     = flag.String("sync-bench", "", "run the sync benchmark against wrangler dev --local and prefer serve, writing JSON to this file ('-': the test log)")
	syncBenchTime = flag.Duration("sync-bench-time", 5*time.Second, "how long each measurement of the sync benchmark runs")
)

// benchConfig is one load: raters syncing at once, each sending batches of comparisons.
type benchConfig struct {
	Raters int `json:"raters"`
	Batch  int `json:"batch"`
}

// benchResult is the median over repetitions of one load on one server.
type benchResult struct {
	benchConfig
	RequestsPerS    float64 `json:"requests_per_s"`
	ComparisonsPerS float64 `json:"comparisons_per_s"`
	P50ms           float64 `json:"p50_ms"`
	P99ms           float64 `json:"p99_ms"`
	Requests        int     `json:"requests"`
}

// TestSyncBench measures sync batches (requests/s, comparisons/s durably acknowledged, p50 and
// p99 latency) on the Worker under wrangler dev --local and on prefer serve, with the same
// client, loads and payloads, three times each, and writes the medians as JSON. It runs only
// with -sync-bench (it is a benchmark, not a test):
//
//	go test ./tests/worker -run TestSyncBench -count=1 -timeout 30m -sync-bench=/tmp/worker-bench.json
//	bin/prefer bench --extra /tmp/worker-bench.json
func TestSyncBench(t *testing.T) {
	if *syncBench == "" {
		t.Skip("a benchmark: run with -sync-bench=FILE")
	}
	loads := []benchConfig{{1, 20}, {8, 20}, {8, 100}}
	w := Start(t, map[string]string{"PREFER_RATE": "1000000", "PREFER_BURST": "1000000"})
	n := StartNativeT(t, "--no-trainer", "--no-rate-limit")
	out := map[string]any{
		"note": "A local figure only: wrangler dev --local runs workerd and a local D1 (SQLite) on this machine, " +
			"not Cloudflare's network; the Worker re-instantiates its Go wasm for every request. Native is prefer serve " +
			"on the same machine, same client and loads. Medians of 3 runs of " + syncBenchTime.String() + " each.",
		"worker_size": map[string]any{"app_wasm_bytes": w.Build.WasmBytes, "upload_gzip_bytes": w.Build.UploadGzip,
			"limits": "Workers: 3 MB (free) / 10 MB (paid) compressed"},
	}
	for _, srv := range []struct{ name, url, teacher string }{
		{"wrangler_dev_local", w.URL, w.TeacherToken},
		{"native_serve", n.URL, n.TeacherToken},
	} {
		var results []benchResult
		for _, load := range loads {
			res, err := benchLoad(srv.url, srv.teacher, load, *syncBenchTime, 3)
			if err != nil {
				t.Fatalf("%s %+v: %v", srv.name, load, err)
			}
			t.Logf("%s: %+v", srv.name, res)
			results = append(results, res)
		}
		out[srv.name] = results
	}
	b, _ := json.MarshalIndent(map[string]any{"sync_worker": out}, "", "  ")
	if *syncBench == "-" {
		t.Logf("%s", b)
		return
	}
	if err := os.WriteFile(*syncBench, append(b, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}

// benchLoad sets up a project with pairs and load.Raters raters, then runs the load reps
// times and returns the medians.
func benchLoad(base, teacher string, load benchConfig, d time.Duration, reps int) (benchResult, error) {
	c := &http.Client{Timeout: 60 * time.Second}
	call := func(method, path, token string, in, out any) error {
		b, _ := json.Marshal(in)
		req, _ := http.NewRequest(method, base+path, bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := c.Do(req)
		if err != nil {
			return err
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		if res.StatusCode/100 != 2 {
			return fmt.Errorf("%s %s: %d %s", method, path, res.StatusCode, body)
		}
		if out != nil {
			return json.Unmarshal(body, out)
		}
		return nil
	}
	var p struct {
		ID       string `json:"id"`
		JoinCode string `json:"join_code"`
	}
	if err := call("POST", "/api/v1/projects", teacher, map[string]any{"env": "CartPole-v1"}, &p); err != nil {
		return benchResult{}, err
	}
	var clips, pairs []any
	var pairIDs []string
	for i := 0; i < 50; i++ {
		l := map[string]any{"id": uuid.NewString(), "env": "CartPole-v1", "start_state": []float64{0, 0, 0.01, 0}, "actions": [][]float64{{1}, {0}}}
		r := map[string]any{"id": uuid.NewString(), "env": "CartPole-v1", "start_state": []float64{0, 0, -0.01, 0}, "actions": [][]float64{{0}, {1}}}
		id := uuid.NewString()
		clips = append(clips, l, r)
		pairs = append(pairs, map[string]any{"id": id, "left": l["id"], "right": r["id"]})
		pairIDs = append(pairIDs, id)
	}
	if err := call("POST", "/api/v1/projects/"+p.ID+"/trainer/rounds", teacher, map[string]any{"round": 1, "clips": clips, "pairs": pairs}, nil); err != nil {
		return benchResult{}, err
	}
	tokens := make([]string, load.Raters)
	for i := range tokens {
		var j struct {
			Token string `json:"token"`
		}
		if err := call("POST", "/api/v1/join", "", map[string]string{"join_code": p.JoinCode, "name": fmt.Sprint("rater ", i)}, &j); err != nil {
			return benchResult{}, err
		}
		tokens[i] = j.Token
	}
	var runs []benchResult
	for rep := 0; rep < reps; rep++ {
		var mu sync.Mutex
		var lat []time.Duration
		var firstErr error
		stop := time.Now().Add(d)
		start := time.Now()
		var wg sync.WaitGroup
		for _, tok := range tokens {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for k := 0; time.Now().Before(stop); k++ {
					batch := make([]any, load.Batch)
					for i := range batch {
						batch[i] = map[string]any{"id": uuid.NewString(), "pair_id": pairIDs[(k+i)%len(pairIDs)], "choice": "left",
							"created_at": time.Now().UTC().Format(time.RFC3339Nano), "response_ms": 1000}
					}
					var res struct {
						Accepted []string `json:"accepted"`
					}
					t0 := time.Now()
					err := call("POST", "/api/v1/projects/"+p.ID+"/sync", tok, map[string]any{"comparisons": batch}, &res)
					el := time.Since(t0)
					if err == nil && len(res.Accepted) != load.Batch {
						err = fmt.Errorf("%d of %d accepted", len(res.Accepted), load.Batch)
					}
					mu.Lock()
					if err != nil && firstErr == nil {
						firstErr = err
					}
					lat = append(lat, el)
					mu.Unlock()
					if err != nil {
						return
					}
				}
			}()
		}
		wg.Wait()
		if firstErr != nil {
			return benchResult{}, firstErr
		}
		secs := time.Since(start).Seconds()
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		runs = append(runs, benchResult{benchConfig: load, Requests: len(lat),
			RequestsPerS: float64(len(lat)) / secs, ComparisonsPerS: float64(len(lat)*load.Batch) / secs,
			P50ms: ms(lat[len(lat)/2]), P99ms: ms(lat[min(len(lat)-1, len(lat)*99/100)])})
	}
	med := func(f func(benchResult) float64) float64 {
		v := make([]float64, len(runs))
		for i, r := range runs {
			v[i] = f(r)
		}
		sort.Float64s(v)
		return v[len(v)/2]
	}
	total := 0
	for _, r := range runs {
		total += r.Requests
	}
	return benchResult{benchConfig: load, Requests: total,
		RequestsPerS:    round1(med(func(r benchResult) float64 { return r.RequestsPerS })),
		ComparisonsPerS: round1(med(func(r benchResult) float64 { return r.ComparisonsPerS })),
		P50ms:           round1(med(func(r benchResult) float64 { return r.P50ms })),
		P99ms:           round1(med(func(r benchResult) float64 { return r.P99ms }))}, nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func round1(v float64) float64 { return float64(int64(v*10+0.5)) / 10 }
