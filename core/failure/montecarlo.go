package failure

import (
	"math/rand/v2"
	"runtime"
	"sync"
)

// Trial decides one episode from its random vector x: true for a failure.
type Trial func(x []float64) bool

// Problem is what an estimator needs: the length of x, and a maker of Trials (one per
// goroutine, since envs are not safe for concurrent use).
type Problem struct {
	Dim      int
	NewTrial func() (Trial, error)
	// Progress, if not nil, is called after every hundredth of a run's episodes (and after
	// the last) with the episodes done, the run's total and the failures so far; calls do not
	// overlap. Long runs (a million episodes) use it for a progress line.
	Progress func(done, total, failures int)
}

// Estimate is a failure probability with its 95% confidence interval and the episodes run.
type Estimate struct {
	P        float64
	Lo, Hi   float64
	Episodes int
	Failures int
}

// MonteCarlo runs n episodes drawn from the nominal distribution on all cores and returns the
// share that failed with its exact (Clopper-Pearson) 95% interval. Episode i's x comes from
// its own stream of seed, so the result does not depend on the number of cores.
func MonteCarlo(pr Problem, n int, seed uint64) (Estimate, error) {
	fails, err := parallel(pr, n, func(i int, x []float64) { Draw(episodeRand(seed, i), x) })
	if err != nil {
		return Estimate{}, err
	}
	k := 0
	for _, f := range fails {
		if f {
			k++
		}
	}
	lo, hi := ClopperPearson(k, n, 0.05)
	return Estimate{P: float64(k) / float64(n), Lo: lo, Hi: hi, Episodes: n, Failures: k}, nil
}

// episodeRand is the random stream of episode i of a run with seed.
func episodeRand(seed uint64, i int) *rand.Rand {
	return rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15^uint64(i)))
}

// parallel runs n episodes, the i-th with the x that fill(i, x) writes, on all cores.
func parallel(pr Problem, n int, fill func(i int, x []float64)) ([]bool, error) {
	out := make([]bool, n)
	w := max(1, min(runtime.GOMAXPROCS(0), n))
	errs := make([]error, w)
	var (
		mu             sync.Mutex
		done, failures int
		step           = max(1, n/100)
	)
	report := func(failed bool) {
		if pr.Progress == nil {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		done++
		if failed {
			failures++
		}
		if done%step == 0 || done == n {
			pr.Progress(done, n, failures)
		}
	}
	var wg sync.WaitGroup
	for k := 0; k < w; k++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			trial, err := pr.NewTrial()
			if err != nil {
				errs[k] = err
				return
			}
			x := make([]float64, pr.Dim)
			for i := k; i < n; i += w {
				fill(i, x)
				out[i] = trial(x)
				report(out[i])
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}
