package sweep

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestGridOrderAndKeys(t *testing.T) {
	runs := Grid("CartPole-v1", []string{"oracle", "mistake"}, []string{"uniform", "entropy"}, 200, 3, "", "mean")
	if len(runs) != 12 {
		t.Fatalf("%d runs, want 12", len(runs))
	}
	if r := runs[4]; r.Teacher != "oracle" || r.Query != "entropy" || r.Seed != 2 {
		t.Errorf("run 4 is %+v, want oracle/entropy seed 2", r)
	}
	keys := map[string]bool{}
	for _, r := range runs {
		keys[r.Key()] = true
	}
	if len(keys) != len(runs) {
		t.Errorf("%d distinct keys for %d runs", len(keys), len(runs))
	}
	a, b := runs[0], runs[0]
	b.Robust = true
	if a.Key() == b.Key() {
		t.Error("robust and plain runs share a key")
	}
	// R3M's runs keep the keys of the runs before the modes, so old directories resume; a
	// learned-ε run has its own.
	plain := Grid("E", []string{"t"}, []string{"q"}, 10, 1, "", "mean")[0]
	r3m := Grid("E", []string{"t"}, []string{"q"}, 10, 1, "r3m", "mean")[0]
	eps := Grid("E", []string{"t"}, []string{"q"}, 10, 1, "epsilon", "mean")[0]
	if r3m.Key() != "E|t|q|10|true|mean|1" || plain.Key() != "E|t|q|10|false|mean|1" {
		t.Errorf("keys %q and %q changed", r3m.Key(), plain.Key())
	}
	if !eps.Robust || eps.RobustMode != "epsilon" || eps.Key() == r3m.Key() || eps.Cell.Key() == r3m.Cell.Key() {
		t.Errorf("learned-ε run %+v, key %q", eps, eps.Key())
	}
	// A run with a fresh final policy has its own key and cell; without one the key is as before.
	fresh := eps
	fresh.FinalFresh = 150000
	if fresh.Key() == eps.Key() || fresh.Cell.Key() == eps.Cell.Key() || fresh.Key() != "E|t|q|10|true-epsilon|mean|fresh150000|1" {
		t.Errorf("fresh run's key %q, cell %q", fresh.Key(), fresh.Cell.Key())
	}
}

func TestNormalize(t *testing.T) {
	if v := Normalize(500, 20, 500); v != 1 {
		t.Errorf("expert return normalises to %v", v)
	}
	if v := Normalize(20, 20, 500); v != 0 {
		t.Errorf("random return normalises to %v", v)
	}
	if v := Normalize(-600, -1200, -150); math.Abs(v-600.0/1050) > 1e-12 {
		t.Errorf("Pendulum halfway-ish: %v", v)
	}
}

func TestBootstrapCI(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	// Constant values: a zero-width interval.
	if lo, hi := BootstrapCI(rng, []float64{0.7, 0.7, 0.7}, 1000, 0.95); math.Abs(lo-0.7) > 1e-12 || math.Abs(hi-0.7) > 1e-12 {
		t.Errorf("constant: [%v, %v]", lo, hi)
	}
	// Normal samples: the interval is close to mean ± 1.96·s/√n and covers the true mean in
	// about 95% of repeats.
	cover, trials := 0, 300
	for k := 0; k < trials; k++ {
		xs := make([]float64, 20)
		for i := range xs {
			xs[i] = 1 + 0.5*rng.NormFloat64()
		}
		lo, hi := BootstrapCI(rng, xs, 2000, 0.95)
		if lo <= 1 && 1 <= hi {
			cover++
		}
		if k == 0 {
			m, s := mean(xs), 0.0
			for _, x := range xs {
				s += (x - m) * (x - m)
			}
			half := 1.96 * math.Sqrt(s/float64(len(xs))) / math.Sqrt(float64(len(xs)))
			if math.Abs((hi-lo)/2-half) > 0.25*half {
				t.Errorf("half-width %v, normal theory %v", (hi-lo)/2, half)
			}
		}
	}
	// The percentile bootstrap undercovers a little at n = 20: 0.90-0.97.
	if c := float64(cover) / float64(trials); c < 0.88 || c > 0.98 {
		t.Errorf("coverage %.3f, want about 0.95", c)
	}
	if lo, hi := BootstrapCI(rng, nil, 10, 0.95); !math.IsNaN(lo) || !math.IsNaN(hi) {
		t.Error("empty: want NaN")
	}
}

func TestSummarize(t *testing.T) {
	var rs []Result
	for _, r := range Grid("E", []string{"a", "b"}, []string{"q"}, 10, 4, "", "mean") {
		v := 0.5
		if r.Teacher == "b" {
			v = float64(r.Seed) / 4 // 0.25 .. 1
		}
		rs = append(rs, Result{Run: r, Normalized: v})
	}
	s := Summarize(rand.New(rand.NewPCG(2, 2)), rs)
	if len(s) != 2 || s[0].Teacher != "a" || s[1].Teacher != "b" {
		t.Fatalf("summaries %+v", s)
	}
	if s[0].Runs != 4 || s[0].NormalizedMean != 0.5 || math.Abs(s[0].CILow-0.5) > 1e-12 || math.Abs(s[0].CIHigh-0.5) > 1e-12 {
		t.Errorf("constant cell %+v", s[0])
	}
	b := s[1]
	if math.Abs(b.NormalizedMean-0.625) > 1e-12 || !(b.CILow < 0.625 && b.CIHigh > 0.625) || b.CILow < 0.25 || b.CIHigh > 1 {
		t.Errorf("varied cell %+v", b)
	}
}

func TestFitGao(t *testing.T) {
	// Exact points of a known curve are fitted exactly, and its peak is where R is largest.
	want := Gao{Alpha: 1.2, Beta: 0.6}
	var d, r []float64
	for x := 0.1; x < 12; x += 0.1 {
		d = append(d, x)
		r = append(r, want.At(x))
	}
	g, err := FitGao(d, r)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(g.Alpha-want.Alpha) > 1e-9 || math.Abs(g.Beta-want.Beta) > 1e-9 {
		t.Errorf("fit %+v, want %+v", g, want)
	}
	ds, rs, ok := g.Peak()
	if !ok || math.Abs(ds-math.Exp(1)) > 1e-6 || math.Abs(rs-0.6*math.E) > 1e-6 {
		t.Errorf("peak (%v, %v), want (e, 0.6e)", ds, rs)
	}
	for _, x := range []float64{ds * 0.9, ds * 1.1} {
		if g.At(x) >= rs {
			t.Errorf("R(%v) = %v is not below the peak %v", x, g.At(x), rs)
		}
	}
	// Noisy points: the fit is close.
	rng := rand.New(rand.NewPCG(3, 3))
	for i := range r {
		r[i] += 0.05 * rng.NormFloat64()
	}
	if g, _ := FitGao(d, r); math.Abs(g.Alpha-1.2) > 0.05 || math.Abs(g.Beta-0.6) > 0.03 {
		t.Errorf("noisy fit %+v", g)
	}
	if _, err := FitGao([]float64{1, 1}, []float64{1, 1}); err == nil {
		t.Error("one distinct distance accepted")
	}
	if _, _, ok := (Gao{Alpha: 1, Beta: -0.1}).Peak(); ok {
		t.Error("a curve that never turns down has a peak")
	}
}
