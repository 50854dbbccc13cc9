package failure

import (
	"math"
	"testing"
)

func TestClopperPearson(t *testing.T) {
	// Values from R's binom.test (exact), to the digits it prints.
	for _, c := range []struct {
		k, n   int
		lo, hi float64
	}{
		{5, 100, 0.01643, 0.11284},
		{10, 10, 0.69150, 1},
		{1, 1000, 0.0000253, 0.005558},
	} {
		lo, hi := ClopperPearson(c.k, c.n, 0.05)
		if math.Abs(lo-c.lo) > 1e-3*c.lo+1e-9 || math.Abs(hi-c.hi) > 1e-3*c.hi+1e-9 {
			t.Errorf("k=%d n=%d: [%.6g, %.6g], want [%.6g, %.6g]", c.k, c.n, lo, hi, c.lo, c.hi)
		}
	}
	// Zero failures: the rule of three.
	if lo, hi := ClopperPearson(0, 1000, 0.05); lo != 0 || math.Abs(hi*1000-3) > 0.01 {
		t.Errorf("0 of 1000: [%g, %g], want [0, ~3/1000]", lo, hi)
	}
}

// threshold is a problem whose failure probability is known: x has d standard normal
// components and fails when x[0] > c, so p = 1 - Φ(c).
func threshold(d int, c float64) Problem {
	return Problem{Dim: d, NewTrial: func() (Trial, error) {
		return func(x []float64) bool { return x[0] > c }, nil
	}}
}

func TestEstimatorsCoverAKnownProbability(t *testing.T) {
	const c = 3.09 // p = 1.0e-3
	truth := 1 - normCDF(c)
	target := threshold(5, c)
	mc, err := MonteCarlo(target, 20000, 1)
	if err != nil {
		t.Fatal(err)
	}
	if !(mc.Lo <= truth && truth <= mc.Hi) {
		t.Errorf("Monte Carlo %g [%g, %g] misses %g", mc.P, mc.Lo, mc.Hi, truth)
	}
	// A weaker policy fails on the same side far more often: its failures teach the
	// predictor where to look.
	cfg := DefaultISConfig()
	cfg.Episodes, cfg.TrainEpisodes, cfg.Pool = 2000, 3000, 400_000
	is, err := ImportanceSampling(target, []Problem{threshold(5, 1.5)}, cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	if !(is.Lo <= truth && truth <= is.Hi) {
		t.Errorf("importance sampling %g [%g, %g] misses %g", is.P, is.Lo, is.Hi, truth)
	}
	if r := is.P / truth; r < 0.5 || r > 2 {
		t.Errorf("importance sampling %g is not within a factor 2 of %g", is.P, truth)
	}
	// At the same number of episodes plain Monte Carlo sees about 2 failures; importance
	// sampling's interval must be much narrower.
	mcSmall, err := MonteCarlo(target, cfg.Episodes, 2)
	if err != nil {
		t.Fatal(err)
	}
	if w, wmc := is.Hi-is.Lo, mcSmall.Hi-mcSmall.Lo; !(w < wmc/3) {
		t.Errorf("importance sampling's interval %g is not a third of Monte Carlo's %g at %d episodes", w, wmc, cfg.Episodes)
	}
	if float64(is.Failures) < 5*truth*float64(cfg.Episodes) { // Monte Carlo expects about 2
		t.Errorf("the proposal found %d failures in %d episodes; the predictor did not guide it", is.Failures, cfg.Episodes)
	}
}

func TestISWithAUselessPredictorStaysUnbiased(t *testing.T) {
	// A weaker policy that never fails gives no predictor: the proposal is uniform over the
	// pool and the estimate is plain Monte Carlo on it.
	const c = 2.0
	truth := 1 - normCDF(c)
	cfg := DefaultISConfig()
	cfg.Episodes, cfg.TrainEpisodes, cfg.Pool = 4000, 500, 100_000
	is, err := ImportanceSampling(threshold(3, c), []Problem{threshold(3, 50)}, cfg, 3)
	if err != nil {
		t.Fatal(err)
	}
	if !(is.Lo <= truth && truth <= is.Hi) {
		t.Errorf("%g [%g, %g] misses %g", is.P, is.Lo, is.Hi, truth)
	}
}

func TestCartPoleEvent(t *testing.T) {
	ev, err := EventFor("CartPole-v1", 0)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Dim() != 4+19 {
		t.Fatalf("dim %d, want 23 (4 start + 19 pushes)", ev.Dim())
	}
	right := Policy(func([]float64) []float64 { return []float64{1} })
	// A PD controller on the pole (angle and angular velocity) balances it.
	pd := Policy(func(o []float64) []float64 {
		if o[2]+0.3*o[3]+0.01*o[0]+0.05*o[1] > 0 {
			return []float64{1}
		}
		return []float64{0}
	})
	pr := func(p Policy) Problem { return EnvProblem(ev, p) }
	always, err := MonteCarlo(pr(right), 50, 1)
	if err != nil {
		t.Fatal(err)
	}
	if always.Failures != 50 {
		t.Errorf("pushing right always: %d of 50 episodes failed, want all", always.Failures)
	}
	good, err := MonteCarlo(pr(pd), 200, 1)
	if err != nil {
		t.Fatal(err)
	}
	if good.P > 0.05 {
		t.Errorf("a PD controller failed %d of 200 episodes under small pushes", good.Failures)
	}
	// Larger pushes make it fail more.
	hard, _ := EventFor("CartPole-v1", 3)
	ev = hard
	bad, err := MonteCarlo(pr(pd), 200, 1)
	if err != nil {
		t.Fatal(err)
	}
	if !(bad.P > good.P) {
		t.Errorf("pushes of std 3 rad/s: %g failed, no more than %g at the default", bad.P, good.P)
	}
	if _, err := EventFor("NoSuchEnv-v0", 0); err == nil {
		t.Error("an env without an event was accepted")
	}
}

// TestProgress checks that a run reports its progress in hundredths, ending with every
// episode and the failures the estimate counts.
func TestProgress(t *testing.T) {
	pr := threshold(2, 1) // p ≈ 0.16
	var calls, lastDone, lastFails int
	pr.Progress = func(done, total, failures int) {
		if total != 1000 || done <= lastDone || failures < lastFails {
			t.Errorf("progress (%d, %d, %d) after (%d, %d)", done, total, failures, lastDone, lastFails)
		}
		calls++
		lastDone, lastFails = done, failures
	}
	mc, err := MonteCarlo(pr, 1000, 4)
	if err != nil {
		t.Fatal(err)
	}
	if calls != 100 || lastDone != 1000 || lastFails != mc.Failures {
		t.Errorf("%d calls ending at (%d, %d), want 100 ending at (1000, %d)", calls, lastDone, lastFails, mc.Failures)
	}
}
