package overopt

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/prefer-rlhf/prefer/core/sweep"
)

// gaoRun is a run whose true return follows R(d) = d(α - β log d) above base, shifted by noise
// at point i.
func gaoRun(g sweep.Gao, base float64, ds, noise []float64) []Point {
	pts := []Point{{TrueReturn: base}}
	for i, d := range ds {
		pts = append(pts, Point{EnvSteps: 10 * (i + 1), D: d, KL: d * d, TrueReturn: base + g.At(d) + noise[i]})
	}
	return pts
}

func TestSummarizeAveragesAndMeasuresTheDrop(t *testing.T) {
	g := sweep.Gao{Alpha: 2, Beta: 1} // peak at d* = e, gain e
	ds := []float64{0.5, 1, 2, 2.7, 3.5, 5, 7, 9}
	// Two seeds with opposite noise: the average is the curve itself, the pooled fit too.
	noise := []float64{0.3, -0.2, 0.1, -0.4, 0.2, 0.1, -0.3, 0.2}
	neg := make([]float64, len(noise))
	for i, v := range noise {
		neg[i] = -v
	}
	runs := [][]Point{gaoRun(g, 10, ds, noise), gaoRun(g, 10, ds, neg)}
	s, err := Summarize(runs)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Mean) != len(ds)+1 || math.Abs(s.Mean[3].TrueReturn-(10+g.At(2))) > 1e-9 || s.Mean[3].EnvSteps != 30 || math.Abs(s.Mean[3].D-2) > 1e-12 {
		t.Errorf("mean point %+v", s.Mean[3])
	}
	// The smoothed peak is the window around d = 2.7 (points 3-5); the final window points 6-8.
	mean3 := func(a, b, c float64) float64 { return (g.At(a) + g.At(b) + g.At(c)) / 3 }
	peak, final := 10+mean3(2, 2.7, 3.5), 10+mean3(5, 7, 9)
	if s.PeakIndex != 4 || math.Abs(s.PeakTrue-peak) > 1e-9 || math.Abs(s.FinalTrue-final) > 1e-9 || math.Abs(s.Drop-(peak-final)) > 1e-9 {
		t.Errorf("peak %v at %d, final %v, drop %v; want %v at 4, %v, %v", s.PeakTrue, s.PeakIndex, s.FinalTrue, s.Drop, peak, final, peak-final)
	}
	if s.PeakD != 2.7 {
		t.Errorf("peak d %v, want 2.7", s.PeakD)
	}
	if len(s.SeedDrops) != 2 || !(s.SeedDrops[0] > 0) || !(s.SeedDrops[1] > 0) {
		t.Errorf("seed drops %v", s.SeedDrops)
	}
	if !s.FitOK || math.Abs(s.Fit.Alpha-2) > 1e-9 || math.Abs(s.Fit.Beta-1) > 1e-9 ||
		math.Abs(s.FitPeakD-math.E) > 1e-6 || math.Abs(s.FitPeakTrue-(10+math.E)) > 1e-6 {
		t.Errorf("fit %+v, peak (%v, %v); want α 2, β 1, peak (e, 10+e)", s.Fit, s.FitPeakD, s.FitPeakTrue)
	}
	// A curve that only rises has no drop.
	rising := gaoRun(g, 10, []float64{0.5, 1, 1.5, 2, 2.5}, make([]float64, 5))
	if s, err := Summarize([][]Point{rising}); err != nil || s.Drop != 0 || s.PeakIndex != len(rising)-2 {
		t.Errorf("rising curve: %+v, %v", s, err)
	}
	// A policy that only loses from the start drops from its initial return, unsmoothed.
	falling := []Point{{TrueReturn: 20}, {TrueReturn: 3}, {TrueReturn: 2}, {TrueReturn: 2.5}, {TrueReturn: 2}}
	if s, err := Summarize([][]Point{falling}); err != nil || s.PeakIndex != 0 || s.PeakTrue != 20 || math.Abs(s.Drop-(20-6.5/3)) > 1e-9 {
		t.Errorf("falling curve: %+v, %v", s, err)
	}
}

func TestSummarizeRejectsUnequalRuns(t *testing.T) {
	a := make([]Point, 5)
	for i, runs := range [][][]Point{nil, {a, a[:4]}, {a[:3]}} {
		if _, err := Summarize(runs); err == nil {
			t.Errorf("case %d accepted", i)
		}
	}
}

// TestDropRatioCI resamples seeds together: an objective whose every run is a base run scaled
// by ½ drops half as far in every resample; one equal to base drops as far.
func TestDropRatioCI(t *testing.T) {
	g := sweep.Gao{Alpha: 2, Beta: 1}
	ds := []float64{0.5, 1, 2, 2.7, 3.5, 5, 7, 9}
	var base, half [][]Point
	for k := range 4 {
		noise := make([]float64, len(ds))
		for i := range noise {
			noise[i] = float64((i*7+k*3)%5) - 2
		}
		r := gaoRun(g, 10, ds, noise)
		h := make([]Point, len(r))
		for i, p := range r {
			h[i] = p
			h[i].TrueReturn = p.TrueReturn / 2
		}
		base, half = append(base, r), append(half, h)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	if lo, hi, ok := DropRatioCI(rng, base, half, 200, 0.95); !ok || math.Abs(lo-0.5) > 1e-9 || math.Abs(hi-0.5) > 1e-9 {
		t.Errorf("halved runs: [%v, %v] %v, want [0.5, 0.5]", lo, hi, ok)
	}
	if lo, hi, ok := DropRatioCI(rng, base, base, 200, 0.95); !ok || math.Abs(lo-1) > 1e-9 || math.Abs(hi-1) > 1e-9 {
		t.Errorf("same runs: [%v, %v] %v, want [1, 1]", lo, hi, ok)
	}
	// A base that never drops leaves no ratio.
	rising := [][]Point{gaoRun(g, 10, []float64{0.5, 1, 1.5, 2, 2.5}, make([]float64, 5))}
	if _, _, ok := DropRatioCI(rng, rising, rising, 50, 0.95); ok {
		t.Error("a ratio to no drop")
	}
}

func TestSeedDropRatio(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	base, other := []float64{10, 0, 20, 30}, []float64{5, 0, 0, 10}
	r, lo, hi, ok := SeedDropRatio(rng, base, other, 2000, 0.95)
	if !ok || math.Abs(r-15.0/60) > 1e-12 || !(lo <= r && r <= hi) || lo < 0 || hi > 1 {
		t.Errorf("ratio %v [%v, %v] %v, want 0.25 inside an interval within [0, 1]", r, lo, hi, ok)
	}
	if r, lo, hi, ok := SeedDropRatio(rng, base, base, 200, 0.95); !ok || r != 1 || lo != 1 || hi != 1 {
		t.Errorf("same drops: %v [%v, %v] %v, want 1 [1, 1]", r, lo, hi, ok)
	}
	if _, _, _, ok := SeedDropRatio(rng, []float64{0, 0}, []float64{1, 2}, 200, 0.95); ok {
		t.Error("a ratio to no drop")
	}
	// One seed of four over-optimising: the resamples without it have no base drop and are left
	// out; every other gives its ratio.
	_, lo, hi, ok = SeedDropRatio(rng, []float64{0, 0, 0, 100}, []float64{0, 0, 0, 50}, 2000, 0.95)
	if !ok || lo != 0.5 || hi != 0.5 {
		t.Errorf("one seed: [%v, %v] %v, want [0.5, 0.5] over the resamples that hold it", lo, hi, ok)
	}
}
