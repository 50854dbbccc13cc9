// Package sweeper runs a sweep's grid (core/sweep): runs in parallel on every core, one JSONL
// line per finished run appended to a file, so that a sweep killed and started again does
// only the runs that are missing, with a progress callback.
package sweeper

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	"github.com/prefer-rlhf/prefer/core/sweep"
)

// RunsFile is the name of the JSONL file of finished runs in a sweep's directory.
const RunsFile = "runs.jsonl"

// Func runs one run of the grid.
type Func func(sweep.Run) (sweep.Result, error)

// Runner runs grids into a directory.
type Runner struct {
	// Dir holds RunsFile; it is created if missing.
	Dir string
	// Jobs is the number of runs at a time; 0 means one per CPU.
	Jobs int
	// Run runs one run; it is called from Jobs goroutines at once.
	Run Func
	// Progress, if not nil, is called after each run finishes (from one goroutine at a time)
	// with the number done of the grid (those found in the file included) and its size.
	Progress func(done, total int, r sweep.Result)
}

// Do runs every run of grid that Dir's RunsFile lacks, appending each result as it finishes,
// and returns the results of the whole grid in grid order. The first error stops new runs
// from starting; the results finished so far stay in the file.
func (rn *Runner) Do(grid []sweep.Run) ([]sweep.Result, error) {
	if err := os.MkdirAll(rn.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("sweeper: %w", err)
	}
	path := filepath.Join(rn.Dir, RunsFile)
	have, err := Load(path)
	if err != nil {
		return nil, err
	}
	var todo []sweep.Run
	for _, r := range grid {
		if _, ok := have[r.Key()]; !ok {
			todo = append(todo, r)
		}
	}
	if err := dropCut(path); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("sweeper: %w", err)
	}
	defer f.Close()

	jobs := rn.Jobs
	if jobs <= 0 {
		jobs = runtime.NumCPU()
	}
	var (
		mu       sync.Mutex
		firstErr error
		done     = len(grid) - len(todo)
		next     = 0
		wg       sync.WaitGroup
	)
	take := func() (sweep.Run, bool) {
		mu.Lock()
		defer mu.Unlock()
		if firstErr != nil || next >= len(todo) {
			return sweep.Run{}, false
		}
		next++
		return todo[next-1], true
	}
	for w := 0; w < min(jobs, len(todo)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				r, ok := take()
				if !ok {
					return
				}
				res, err := rn.Run(r)
				res.Run = r
				mu.Lock()
				if err == nil {
					err = appendLine(f, res)
				}
				if err != nil {
					if firstErr == nil {
						firstErr = fmt.Errorf("sweeper: run %s: %w", r.Key(), err)
					}
				} else {
					have[r.Key()] = res
					done++
					if rn.Progress != nil {
						rn.Progress(done, len(grid), res)
					}
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	out := make([]sweep.Result, 0, len(grid))
	for _, r := range grid {
		out = append(out, have[r.Key()])
	}
	return out, nil
}

// Load reads a runs file into a map by run key; a missing file is empty. A last line cut
// short by a kill is ignored (that run is done again); any other bad line is an error.
func Load(path string) (map[string]sweep.Result, error) {
	have := map[string]sweep.Result{}
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return have, nil
	}
	if err != nil {
		return nil, fmt.Errorf("sweeper: %w", err)
	}
	lines := bytes.Split(b, []byte("\n"))
	for i, line := range lines {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var r sweep.Result
		if err := json.Unmarshal(line, &r); err != nil {
			if i == len(lines)-1 {
				continue // unterminated last line: the write a kill cut short
			}
			return nil, fmt.Errorf("sweeper: %s line %d: %w", path, i+1, err)
		}
		have[r.Key()] = r
	}
	return have, nil
}

// dropCut truncates a runs file whose last line a kill cut short to its complete lines, so
// that the next result appended starts a line of its own.
func dropCut(path string) error {
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("sweeper: %w", err)
	}
	if len(b) > 0 && b[len(b)-1] != '\n' {
		if err := os.Truncate(path, int64(bytes.LastIndexByte(b, '\n')+1)); err != nil {
			return fmt.Errorf("sweeper: %w", err)
		}
	}
	return nil
}

// appendLine writes one result as a JSON line and syncs it, so that a finished run survives
// a kill.
func appendLine(f *os.File, r sweep.Result) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	w.Write(b)
	w.WriteByte('\n')
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Sync()
}
