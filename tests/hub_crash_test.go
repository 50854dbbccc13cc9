package tests

import (
	"math/rand/v2"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
)

// TestHubCrashLosesNoAcknowledgedComparison streams syncs from several raters into the real
// binary, kills it with SIGKILL mid-stream, restarts it on the same database and lets the
// clients retry what was in flight. Every comparison that was ever acknowledged must be stored,
// and nothing may be stored twice.
func TestHubCrashLosesNoAcknowledgedComparison(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the real binary")
	}
	db := filepath.Join(t.TempDir(), "crash.db")
	// No trainer rounds after the first one (which makes the pairs): only the store is tested.
	flags := []string{"--round-labels", "100000000", "--no-rate-limit", "--quiet"}
	h := startHub(t, db, flags...)
	c := newHubClient()

	const raters = 6
	var pid string
	tokens := make([]string, raters)
	for i := range tokens {
		j, err := c.join(h.base, h.code, "rater")
		if err != nil {
			t.Fatal(err)
		}
		tokens[i], pid = j.Token, j.ProjectID
	}
	var pairs []string
	for i := 0; len(pairs) == 0; i++ {
		var s hubSync
		if err := c.call("POST", h.base+"/api/v1/projects/"+pid+"/sync", tokens[0], map[string]any{"want_pairs": 50}, &s); err != nil {
			t.Fatal(err)
		}
		for _, p := range s.Pairs {
			pairs = append(pairs, p.ID)
		}
		if i > 500 {
			t.Fatal("the trainer made no pairs")
		}
		time.Sleep(20 * time.Millisecond)
	}

	var base atomic.Value // the server's URL; changes on restart
	base.Store(h.base)
	var (
		mu     sync.Mutex
		acked  = map[string]bool{} // every id ever acknowledged
		sent   = map[string]bool{} // every id ever sent
		stop   atomic.Bool
		errs   atomic.Int64
		before atomic.Int64 // acknowledgements before the kill
		killed atomic.Bool
	)
	var wg sync.WaitGroup
	for r := 0; r < raters; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(r), 1))
			for !stop.Load() {
				batch := make([]map[string]any, 1+rng.IntN(30))
				ids := make([]string, len(batch))
				for i := range batch {
					ids[i] = uuid.NewString()
					batch[i] = map[string]any{"id": ids[i], "pair_id": pairs[rng.IntN(len(pairs))], "choice": []string{"left", "right", "equal", "cant_tell"}[rng.IntN(4)],
						"created_at": time.Now().UTC().Format(time.RFC3339Nano), "response_ms": rng.IntN(5000)}
				}
				mu.Lock()
				for _, id := range ids {
					sent[id] = true
				}
				mu.Unlock()
				// Retry the same batch until it is acknowledged, as the browser does.
				for {
					var s hubSync
					err := c.call("POST", base.Load().(string)+"/api/v1/projects/"+pid+"/sync", tokens[r], map[string]any{"comparisons": batch}, &s)
					if err == nil {
						if len(s.Accepted)+len(s.Duplicates) != len(batch) || len(s.Rejected) != 0 {
							t.Errorf("batch of %d: %d accepted, %d duplicates, %v rejected", len(batch), len(s.Accepted), len(s.Duplicates), s.Rejected)
						}
						mu.Lock()
						for _, id := range append(s.Accepted, s.Duplicates...) {
							acked[id] = true
						}
						mu.Unlock()
						if !killed.Load() {
							before.Add(int64(len(batch)))
						}
						break
					}
					errs.Add(1)
					time.Sleep(5 * time.Millisecond)
				}
			}
		}()
	}
	// Let the stream run, then kill -9 while requests are in flight.
	for before.Load() < 3000 {
		time.Sleep(5 * time.Millisecond)
	}
	killed.Store(true)
	h.kill()
	ackedAtKill := func() int { mu.Lock(); defer mu.Unlock(); return len(acked) }()
	time.Sleep(100 * time.Millisecond) // clients fail and retry meanwhile
	h2 := startHub(t, db, flags...)
	base.Store(h2.base)
	// Let the clients finish their in-flight batches and send a few more.
	time.Sleep(500 * time.Millisecond)
	stop.Store(true)
	wg.Wait()

	ids, err := c.exportIDs(h2.base, h2.teacher, pid)
	if err != nil {
		t.Fatal(err)
	}
	stored := map[string]int{}
	for _, id := range ids {
		stored[id]++
	}
	for id, n := range stored {
		if n != 1 {
			t.Fatalf("comparison %s stored %d times", id, n)
		}
		if !sent[id] {
			t.Fatalf("stored comparison %s was never sent", id)
		}
	}
	lost := 0
	for id := range acked {
		if stored[id] == 0 {
			lost++
		}
	}
	t.Logf("acknowledged %d before the kill, %d in all; %d stored; %d failed requests retried", ackedAtKill, len(acked), len(ids), errs.Load())
	if lost > 0 {
		t.Fatalf("%d acknowledged comparisons lost", lost)
	}
	if errs.Load() == 0 {
		t.Fatal("no request failed: the kill did not happen mid-stream")
	}
	if len(acked) != len(sent) {
		t.Fatalf("%d sent but %d acknowledged after the retries", len(sent), len(acked))
	}
	if h.teacher != h2.teacher || h.code != h2.code {
		t.Fatal("the restart changed the join code or the teacher token")
	}
}
