package fitter

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"reflect"
	"testing"
)

// localPool runs each job with RunJob, as another worker would, on bytes only.
type localPool struct {
	size int
	jobs []int // worker of each job started
}

func (p *localPool) Size() int { return p.size }

func (p *localPool) Start(w int, job []byte) func() ([]byte, error) {
	p.jobs = append(p.jobs, w)
	in := bytes.Clone(job)
	return func() ([]byte, error) { return RunJob(in) }
}

// run feeds a fitter an init with 60 labels (a full fit), then 9 labels one at a time
// (incremental updates): the 10th refit sends the local model. It returns every message.
func run(t *testing.T, pool Pool, workers int) []Out {
	t.Helper()
	ls := labels(rand.New(rand.NewPCG(5, 6)), 70)
	f := New(DefaultConfig(), pool)
	out := f.Handle(In{Type: TypeInit, Labels: ls[:61], Workers: workers})
	for _, l := range ls[61:] {
		out = append(out, f.Handle(In{Type: TypeLabel, Labels: []Label{l}})...)
	}
	for _, o := range out {
		if o.Type == TypeError {
			t.Fatalf("%d workers: %s", workers, o.Message)
		}
	}
	return out
}

// TestSplitFitIsSingleWorkerFit: with members fitted in other workers the fitter sends the
// page the same predictions, stats and local model, bit for bit, as one worker alone.
func TestSplitFitIsSingleWorkerFit(t *testing.T) {
	one := run(t, nil, 0)
	for _, k := range []int{2, 3} {
		p := &localPool{size: 2}
		many := run(t, p, k)
		if len(p.jobs) != k-1 {
			t.Fatalf("%d workers: %d jobs started, want %d (one full fit)", k, len(p.jobs), k-1)
		}
		if len(many) != len(one) {
			t.Fatalf("%d workers: %d messages, one worker %d", k, len(many), len(one))
		}
		sawLocal := false
		for i := range one {
			a, b := one[i], many[i]
			if a.Stats != nil && b.Stats != nil {
				if b.Stats.Workers != k || a.Stats.Workers != 1 {
					t.Fatalf("workers reported %d and %d, want 1 and %d", a.Stats.Workers, b.Stats.Workers, k)
				}
				sa, sb := *a.Stats, *b.Stats
				sa.FitMS, sb.FitMS, sb.Workers = 0, 0, 1 // times differ
				if sa != sb {
					t.Fatalf("%d workers: message %d: stats %+v, one worker %+v", k, i, sb, sa)
				}
			}
			if a.Prediction != nil && (b.Prediction == nil || !reflect.DeepEqual(*a.Prediction, *b.Prediction)) {
				t.Fatalf("%d workers: message %d: prediction %+v, one worker %+v", k, i, b.Prediction, a.Prediction)
			}
			if a.Local != nil {
				sawLocal = true
				if b.Local == nil || !bytes.Equal(a.Local.Model, b.Local.Model) {
					t.Fatalf("%d workers: the local model differs from one worker's", k)
				}
			}
		}
		if !sawLocal {
			t.Fatal("no local model to compare")
		}
	}
}

// brokenPool's workers fail every job.
type brokenPool struct{}

func (brokenPool) Size() int { return 3 }

func (brokenPool) Start(int, []byte) func() ([]byte, error) {
	return func() ([]byte, error) { return nil, errors.New("worker gone") }
}

// TestFailedWorkersFitHere: when the other workers fail, the fit runs in this one from the
// members' start, so the model is still the single worker's, and it reports one worker.
func TestFailedWorkersFitHere(t *testing.T) {
	one, broken := run(t, nil, 0), run(t, brokenPool{}, 0)
	for i := range one {
		if a, b := one[i], broken[i]; a.Local != nil && (b.Local == nil || !bytes.Equal(a.Local.Model, b.Local.Model)) {
			t.Fatal("the local model differs from one worker's")
		}
		if s := broken[i].Stats; s != nil && s.Workers != 1 {
			t.Fatalf("stats report %d workers after they failed, want 1", s.Workers)
		}
	}
}

func TestRunJobRejectsBadJobs(t *testing.T) {
	for _, b := range [][]byte{nil, {1, 2, 3}, EncodeJob([]byte("PRRM"), nil, nil, nil)} {
		if _, err := RunJob(b); err == nil {
			t.Errorf("job %q: want an error", b)
		}
	}
}
