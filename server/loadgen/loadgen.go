// Package loadgen is the hub's load generator: simulated raters on loopback sync batches of
// comparisons with a real `prefer serve` stack (hub over the SQLite store with synchronous=FULL, so every
// acknowledged comparison is on disk) in this process. Client and server share the machine.
//
// Two load shapes, at 100 and at 1,000 concurrent raters:
//   - "paced": each rater syncs one batch per second (a classroom of raters whose browsers
//     sync on a timer), offering raters × batch comparisons per second;
//   - "saturated": each rater syncs again as soon as its last sync is answered, which finds
//     the most comparisons per second the hub can durably acknowledge.
//
// Reported per run: comparisons/s acknowledged (accepted after commit), requests/s, and the
// p50/p99 latency of a sync request. `prefer bench` (part hub) runs it.
package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/prefer-rlhf/prefer/core/prefs"
	"github.com/prefer-rlhf/prefer/server/hub"
	"github.com/prefer-rlhf/prefer/server/store"
)

// Load settings.
const (
	Batch    = 20              // comparisons per sync
	Duration = 5 * time.Second // measured time per run, after a warm-up
	Warmup   = time.Second
)

// Run measures the hub under both load shapes at 100 and 1,000 raters, logging a line per run
// to log (nil: none), and returns the figures as one JSON object.
func Run(log io.Writer) (map[string]any, error) {
	if log == nil {
		log = io.Discard
	}
	dir, err := os.MkdirTemp("", "prefer-bench-hub")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	st, err := store.Open(filepath.Join(dir, "bench.db"), store.Options{})
	if err != nil {
		return nil, err
	}
	defer st.Close()
	ctx := context.Background()
	pid := uuid.NewString()
	if err := st.CreateProject(ctx, &store.Project{ID: pid, Env: "CartPole-v1", Settings: store.DefaultSettings(), JoinCode: "BENCH1"}); err != nil {
		return nil, err
	}
	clips := []prefs.Clip{
		{ID: uuid.NewString(), Env: "CartPole-v1", StartState: []float64{0, 0, 0.01, 0}, Actions: [][]float64{{0}, {1}}},
		{ID: uuid.NewString(), Env: "CartPole-v1", StartState: []float64{0, 0, -0.01, 0}, Actions: [][]float64{{1}, {0}}},
	}
	var pairs []store.NewPair
	for i := 0; i < 50; i++ {
		pairs = append(pairs, store.NewPair{ID: uuid.NewString(), Left: clips[0].ID, Right: clips[1].ID})
	}
	if err := st.AddClipsAndPairs(ctx, pid, clips, pairs, true); err != nil {
		return nil, err
	}
	const maxRaters = 1000
	tokens := make([]string, maxRaters)
	for i := range tokens {
		tokens[i] = hub.NewToken("pr_")
		if err := st.CreateRater(ctx, &store.Rater{ID: uuid.NewString(), ProjectID: pid, Name: fmt.Sprint("bench", i)}, hub.HashToken(tokens[i])); err != nil {
			return nil, err
		}
	}
	h := hub.New(st, hub.Config{NoRateLimit: true, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	defer srv.Close()
	url := "http://" + ln.Addr().String() + "/api/v1/projects/" + pid + "/sync"
	pairIDs := make([]string, len(pairs))
	for i, p := range pairs {
		pairIDs[i] = p.ID
	}

	out := map[string]any{"batch": Batch, "seconds": Duration.Seconds(), "gomaxprocs": runtime.GOMAXPROCS(0),
		"synchronous": "FULL", "ids": "UUID v7",
		"note": "client and server share the machine; latency is per sync request; cpu figures cover both"}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		out["loadavg_before"] = strings.TrimSpace(string(b))
	}
	for _, n := range []int{100, 1000} {
		for _, paced := range []bool{true, false} {
			name := fmt.Sprintf("raters_%d_%s", n, map[bool]string{true: "paced", false: "saturated"}[paced])
			fmt.Fprintf(log, "bench hub: %s ...\n", name)
			r, err := syncRun(url, tokens[:n], pairIDs, paced)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			fmt.Fprintf(log, "bench hub: %s: %.0f comparisons/s, p50 %.1f ms, p99 %.1f ms\n", name,
				r["comparisons_per_second"], r["p50_ms"], r["p99_ms"])
			out[name] = r
		}
	}
	stored, err := st.CountComparisons(ctx, pid)
	if err != nil {
		return nil, err
	}
	out["stored_comparisons"] = stored
	return out, nil
}

// syncRun runs one load shape and measures it.
func syncRun(url string, tokens, pairs []string, paced bool) (map[string]any, error) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConns: len(tokens), MaxIdleConnsPerHost: len(tokens), IdleConnTimeout: time.Minute}}
	defer client.CloseIdleConnections()
	var (
		mu        sync.Mutex
		lat       []float64
		acked     atomic.Int64
		requests  atomic.Int64
		failures  atomic.Int64
		firstErr  atomic.Value
		measuring atomic.Bool
		stop      atomic.Bool
	)
	start := time.Now()
	var wg sync.WaitGroup
	for i, tok := range tokens {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Spread the paced raters' syncs evenly over each second.
			next := start.Add(time.Duration(i) * time.Second / time.Duration(len(tokens)))
			var local []float64
			k := 0
			for !stop.Load() {
				if paced {
					if d := time.Until(next); d > 0 {
						time.Sleep(d)
					}
					next = next.Add(time.Second)
					if stop.Load() {
						break
					}
				}
				body := syncBody(pairs, k)
				k++
				req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+tok)
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					failures.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				var res struct {
					Accepted []string `json:"accepted"`
				}
				err = json.NewDecoder(resp.Body).Decode(&res)
				resp.Body.Close()
				d := time.Since(t0)
				if err != nil || resp.StatusCode != 200 {
					failures.Add(1)
					firstErr.CompareAndSwap(nil, fmt.Sprintf("status %d %v", resp.StatusCode, err))
					continue
				}
				if measuring.Load() {
					acked.Add(int64(len(res.Accepted)))
					requests.Add(1)
					local = append(local, float64(d)/float64(time.Millisecond))
				}
			}
			mu.Lock()
			lat = append(lat, local...)
			mu.Unlock()
		}()
	}
	time.Sleep(Warmup)
	measuring.Store(true)
	t0, cpu0 := time.Now(), processCPU()
	time.Sleep(Duration)
	measuring.Store(false)
	elapsed, cpu := time.Since(t0).Seconds(), (processCPU() - cpu0).Seconds()
	stop.Store(true)
	wg.Wait()
	if failures.Load() > 0 {
		return nil, fmt.Errorf("%d failed syncs, first: %v", failures.Load(), firstErr.Load())
	}
	sort.Float64s(lat)
	q := func(p float64) float64 {
		if len(lat) == 0 {
			return 0
		}
		return lat[min(int(p*float64(len(lat))), len(lat)-1)]
	}
	out := map[string]any{
		"raters":                 len(tokens),
		"comparisons_per_second": float64(acked.Load()) / elapsed,
		"requests_per_second":    float64(requests.Load()) / elapsed,
		"p50_ms":                 q(0.50),
		"p99_ms":                 q(0.99),
		"max_ms":                 q(1),
		// CPU of the whole process (server and simulated clients) while measuring, per
		// acknowledged comparison, and the share of the machine's cores it got.
		"cpu_cores_used": cpu / elapsed,
	}
	if n := acked.Load(); n > 0 && cpu > 0 {
		out["cpu_us_per_comparison"] = cpu / float64(n) * 1e6
	}
	return out, nil
}

// syncBody builds a sync body of Batch fresh comparisons.
func syncBody(pairs []string, k int) []byte {
	b := make([]byte, 0, 150*Batch+40)
	b = append(b, `{"comparisons":[`...)
	now := time.Now().UTC().Format(time.RFC3339Nano)
	for i := 0; i < Batch; i++ {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"id":"`...)
		b = append(b, uuidV7()...)
		b = append(b, `","pair_id":"`...)
		b = append(b, pairs[(k+i)%len(pairs)]...)
		b = append(b, `","choice":"left","created_at":"`...)
		b = append(b, now...)
		b = append(b, `","response_ms":1200}`...)
	}
	return append(b, "]}"...)
}

// uuidV7 is a version 7 UUID (time-ordered, RFC 9562), what a client should send: ids that
// grow with time go to the end of the primary-key index, so a commit dirties few pages.
func uuidV7() string {
	id, err := uuid.NewV7()
	if err != nil {
		return uuid.NewString()
	}
	return id.String()
}
