package sweeper

import (
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/prefer-rlhf/prefer/core/sweep"
)

// fake is a runner whose normalised return is a function of the run, counting calls.
type fake struct {
	mu    sync.Mutex
	calls map[string]int
	fail  string // key of a run that fails
}

func (f *fake) run(r sweep.Run) (sweep.Result, error) {
	f.mu.Lock()
	f.calls[r.Key()]++
	f.mu.Unlock()
	if r.Key() == f.fail {
		return sweep.Result{}, errors.New("boom")
	}
	v := float64(r.Seed) / 10
	return sweep.Result{EvalReturn: v, ExpertReturn: 1, Normalized: sweep.Normalize(v, 0, 1)}, nil
}

func TestRunnerResumesWhatIsMissing(t *testing.T) {
	dir := t.TempDir()
	grid := sweep.Grid("E", []string{"oracle", "mistake"}, []string{"uniform", "entropy"}, 50, 3, "", "mean")
	f := &fake{calls: map[string]int{}, fail: grid[7].Key()}
	rn := &Runner{Dir: dir, Jobs: 3, Run: f.run}
	if _, err := rn.Do(grid); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("a failing run: err %v", err)
	}
	first, _ := Load(filepath.Join(dir, RunsFile))
	if len(first) == 0 || len(first) >= len(grid) {
		t.Fatalf("after the failure %d of %d runs are in the file", len(first), len(grid))
	}
	// Simulate a kill in the middle of writing a line.
	p := filepath.Join(dir, RunsFile)
	fh, _ := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
	fh.WriteString(`{"env":"E","teacher":"oracle","query":"unif`)
	fh.Close()

	// Run again with the failure fixed: only the missing runs run, each once.
	f.fail = ""
	before := map[string]int{}
	for k, v := range f.calls {
		before[k] = v
	}
	var progress []int
	rn.Progress = func(done, total int, _ sweep.Result) {
		if total != len(grid) {
			t.Errorf("progress total %d", total)
		}
		progress = append(progress, done)
	}
	res, err := rn.Do(grid)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != len(grid) {
		t.Fatalf("%d results", len(res))
	}
	for i, r := range res {
		if r.Key() != grid[i].Key() || r.Normalized != float64(grid[i].Seed)/10 {
			t.Errorf("result %d is %+v for run %+v", i, r, grid[i])
		}
		k := grid[i].Key()
		_, had := first[k]
		if ran := f.calls[k] - before[k]; had && ran != 0 || !had && ran != 1 {
			t.Errorf("run %s: in the file before: %v, ran again %d times", k, had, ran)
		}
	}
	if len(progress) != len(grid)-len(first) || progress[len(progress)-1] != len(grid) {
		t.Errorf("progress %v", progress)
	}
	// A third time: nothing runs; the file has every run once (the cut line aside).
	calls := 0
	rn.Run = func(r sweep.Run) (sweep.Result, error) { calls++; return f.run(r) }
	if _, err := rn.Do(grid); err != nil || calls != 0 {
		t.Errorf("complete sweep re-ran %d runs (%v)", calls, err)
	}
	all, err := Load(p)
	if err != nil || len(all) != len(grid) {
		t.Errorf("file holds %d runs (%v), want %d", len(all), err, len(grid))
	}
	// And the summary over seeds 1-3 of each cell is the mean 0.2 with a CI inside [0.1, 0.3].
	for _, s := range sweep.Summarize(seeded(), res) {
		if s.Runs != 3 || s.NormalizedMean < 0.2-1e-12 || s.NormalizedMean > 0.2+1e-12 || s.CILow < 0.1-1e-12 || s.CIHigh > 0.3+1e-12 || !(s.CILow < s.CIHigh) {
			t.Errorf("summary %+v", s)
		}
	}
}

func TestLoadRejectsACorruptMiddleLine(t *testing.T) {
	p := filepath.Join(t.TempDir(), RunsFile)
	os.WriteFile(p, []byte("{\"env\":\"E\",\"seed\":1}\nnot json\n{\"env\":\"E\",\"seed\":2}\n"), 0o644)
	if _, err := Load(p); err == nil {
		t.Error("a corrupt line in the middle was accepted")
	}
}

func seeded() *rand.Rand { return rand.New(rand.NewPCG(1, 1)) }

// TestAnchorsReadBeforeMeasuring: an anchor in the file is used as it is, not measured again
// (an unknown env would fail to measure).
func TestAnchorsReadBeforeMeasuring(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, AnchorsFile), []byte("{\"env\":\"NoSuchEnv-v0\",\"seed\":3,\"eval_return\":123}\n{\"env\":\"No"), 0o644)
	a, err := NewAnchors(dir)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := a.Expert("NoSuchEnv-v0", 3, 10); err != nil || v != 123 {
		t.Errorf("stored anchor: %v, %v; want 123", v, err)
	}
	if _, err := a.Expert("NoSuchEnv-v0", 4, 10); err == nil {
		t.Error("an anchor for an unknown env was measured")
	}
}

// TestLoopConfigCarriesTheCell: a run's loop configuration has the cell's teacher, query,
// labels, robust fit and fresh final policy, and the loop's defaults otherwise.
func TestLoopConfigCarriesTheCell(t *testing.T) {
	r := sweep.Grid("CartPole-v1", []string{"mistake"}, []string{"entropy"}, 50, 2, "epsilon", "mean")[1]
	r.FinalFresh = 1000
	cfg, err := LoopConfig(r, Settings{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Seed != 2 || cfg.Labels != 50 || cfg.Teacher == nil || cfg.Teacher.Mistake != 0.1 || cfg.Query.Strategy != "entropy" ||
		!cfg.Reward.Robust || cfg.Reward.RobustMode != "epsilon" || cfg.FinalFresh != 1000 {
		t.Errorf("config %+v does not carry run %+v", cfg, r)
	}
	r.FinalFresh = 0
	if cfg, err = LoopConfig(r, Settings{}); err != nil || cfg.FinalFresh != 0 {
		t.Errorf("a run without a fresh policy got FinalFresh %d (%v)", cfg.FinalFresh, err)
	}
}
