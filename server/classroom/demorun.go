package classroom

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/prefer-rlhf/prefer/core/prefs"
	"github.com/prefer-rlhf/prefer/server/hub"
	"github.com/prefer-rlhf/prefer/server/store"
)

// DemoStore is what demo raters need: they join and label through the store, as a rater's
// sync would, so the trainer cannot tell them from students. *store.Store implements it.
type DemoStore interface {
	Project(ctx context.Context, id string) (*store.Project, error)
	CreateRater(ctx context.Context, r *store.Rater, tokenHash string) error
	PairsForOverlap(ctx context.Context, projectID, raterID string, n int, skip []string, overlap int) ([]store.Pair, error)
	AddComparisonsCapped(ctx context.Context, projectID, raterID string, cs []prefs.Comparison, received time.Time, max int) (store.SyncResult, error)
}

// DemoState is the demo mode of one project, as the dashboard shows it.
type DemoState struct {
	Raters int     `json:"raters"` // 0: off
	Noise  float64 `json:"noise"`
	// Teacher is the B-Pref teacher the raters answer as (oracle.TeacherNames), or "" for
	// the noisy rater of Noise.
	Teacher string `json:"teacher"`
}

// Demo runs demo raters in the background, one group per project. It is safe for concurrent
// use.
type Demo struct {
	store DemoStore
	log   *slog.Logger
	// Every is how often each demo rater answers one pair (a student takes a few seconds).
	Every time.Duration

	mu   sync.Mutex
	runs map[string]*demoRun // project -> running group
}

type demoRun struct {
	state DemoState
	stop  context.CancelFunc
	done  chan struct{}
}

// NewDemo returns a stopped demo over s; each demo rater answers every 1.5 s.
func NewDemo(s DemoStore, log *slog.Logger) *Demo {
	if log == nil {
		log = slog.Default()
	}
	return &Demo{store: s, log: log, Every: 1500 * time.Millisecond, runs: map[string]*demoRun{}}
}

// State returns project pid's demo mode.
func (d *Demo) State(pid string) DemoState {
	d.mu.Lock()
	defer d.mu.Unlock()
	if r := d.runs[pid]; r != nil {
		return r.state
	}
	return DemoState{}
}

// Set starts n demo raters with the given noise or B-Pref teacher (DemoRaters) on project
// pid, replacing any running there; n = 0 stops them. New raters join each time: their
// earlier labels stay, as a student's do.
func (d *Demo) Set(ctx context.Context, pid string, n int, noise float64, teacher string) error {
	raters, err := DemoRaters(n, noise, teacher)
	if err != nil {
		return err
	}
	if _, err := d.store.Project(ctx, pid); err != nil {
		return err
	}
	d.stopRun(pid)
	if n == 0 {
		return nil
	}
	ids := make([]string, n)
	for i, r := range raters {
		ids[i] = uuid.NewString()
		var tok [16]byte
		rand.Read(tok[:])
		// The token is never given out: a demo rater has no browser.
		err := d.store.CreateRater(ctx, &store.Rater{ID: ids[i], ProjectID: pid, Name: r.Name}, hub.HashToken("demo-"+hex.EncodeToString(tok[:])))
		if err != nil {
			return fmt.Errorf("classroom: demo rater: %w", err)
		}
	}
	rctx, cancel := context.WithCancel(context.Background())
	run := &demoRun{state: DemoState{Raters: n, Noise: noise, Teacher: teacher}, stop: cancel, done: make(chan struct{})}
	d.mu.Lock()
	d.runs[pid] = run
	d.mu.Unlock()
	go func() {
		defer close(run.done)
		var wg sync.WaitGroup
		for i := range raters {
			wg.Add(1)
			go func() {
				defer wg.Done()
				d.label(rctx, pid, ids[i], &raters[i], uint64(i))
			}()
		}
		wg.Wait()
	}()
	return nil
}

// Stop stops every demo rater and waits for them.
func (d *Demo) Stop() {
	d.mu.Lock()
	pids := make([]string, 0, len(d.runs))
	for pid := range d.runs {
		pids = append(pids, pid)
	}
	d.mu.Unlock()
	for _, pid := range pids {
		d.stopRun(pid)
	}
}

func (d *Demo) stopRun(pid string) {
	d.mu.Lock()
	run := d.runs[pid]
	delete(d.runs, pid)
	d.mu.Unlock()
	if run != nil {
		run.stop()
		<-run.done
	}
}

// label is one demo rater's loop: every d.Every, the next pair it has not answered, answered
// from the clips' true returns. With no pair waiting (the trainer has not published yet), it
// waits for the next tick.
func (d *Demo) label(ctx context.Context, pid, raterID string, r *DemoRater, seed uint64) {
	rng := mrand.New(mrand.NewPCG(seed, uint64(time.Now().UnixNano())))
	// Stagger the raters so their labels do not arrive in bursts.
	t := time.NewTimer(time.Duration(rng.Int64N(int64(d.Every) + 1)))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		t.Reset(d.Every)
		if err := d.answer(ctx, pid, raterID, r, rng); err != nil && !errors.Is(err, context.Canceled) {
			d.log.Warn("classroom: demo rater", "project", pid, "rater", r.Name, "err", err)
		}
	}
}

// answer labels one pair as a student's app would: the project's overlap picks the pair and
// its cap (max_labels_per_rater) stops the rater.
func (d *Demo) answer(ctx context.Context, pid, raterID string, r *DemoRater, rng *mrand.Rand) error {
	proj, err := d.store.Project(ctx, pid)
	if err != nil {
		return err
	}
	ps, err := d.store.PairsForOverlap(ctx, pid, raterID, 1, nil, proj.Settings.Overlap)
	if err != nil || len(ps) == 0 {
		return err
	}
	p := prefs.Pair{ID: ps[0].ID}
	if err := json.Unmarshal(ps[0].Left, &p.Left); err != nil {
		return fmt.Errorf("pair %s: %w", p.ID, err)
	}
	if err := json.Unmarshal(ps[0].Right, &p.Right); err != nil {
		return fmt.Errorf("pair %s: %w", p.ID, err)
	}
	choice, err := r.Answer(rng, p)
	if err != nil {
		return err
	}
	now := time.Now()
	c := prefs.Comparison{ID: uuid.Must(uuid.NewV7()).String(), PairID: p.ID, Choice: choice, CreatedAt: now,
		ResponseMS: 1000 + rng.Int64N(2000)}
	_, err = d.store.AddComparisonsCapped(ctx, pid, raterID, []prefs.Comparison{c}, now, proj.Settings.MaxLabelsPerRater)
	return err
}
