package overopt

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/prefer-rlhf/prefer/core/sweep"
)

// Window is the number of adjacent points that the peak and the final true return are each
// averaged over: single evaluations of a policy still moving under PPO jump by tens of percent
// from one point to the next, and a drop read off two single points measures that noise.
const Window = 3

// Summary is one objective's runs over several seeds.
type Summary struct {
	// Mean is the runs' curves averaged point by point (every run measures at the same env
	// steps).
	Mean []Point `json:"mean"`
	// PeakTrue is the peak of Mean's true return: the initial policy's, or, if larger, the
	// largest mean over Window adjacent points after it. PeakIndex is the point (0, or the
	// middle of that window) and PeakD its d.
	PeakTrue  float64 `json:"peak_true"`
	PeakIndex int     `json:"peak_index"`
	PeakD     float64 `json:"peak_d"`
	// FinalTrue is the mean of Mean's true return over the last Window points.
	FinalTrue float64 `json:"final_true"`
	// Drop is the drop from the peak true return: PeakTrue - FinalTrue, >= 0, and 0 when the
	// curve ends at its peak. It is what optimising the learned reward further lost.
	Drop float64 `json:"drop"`
	// SeedDrops is the drop of each run on its own, in order, by the same rule.
	SeedDrops []float64 `json:"seed_drops"`
	// Fit is Gao et al.'s R(d) fitted to every run's points (all seeds pooled), the true
	// return measured from each run's initial return; FitOK is false if it could not be
	// fitted. FitPeakD and FitPeakTrue are its peak (initial return added back as Mean's);
	// NaN if the fitted curve never turns down.
	Fit         sweep.Gao `json:"fit"`
	FitOK       bool      `json:"fit_ok"`
	FitPeakD    float64   `json:"fit_peak_d"`
	FitPeakTrue float64   `json:"fit_peak_true"`
}

// Summarize averages runs (each Run's points, all of the same length > Window) and measures
// the peak, the drop and Gao's fit.
func Summarize(runs [][]Point) (*Summary, error) {
	if len(runs) == 0 {
		return nil, fmt.Errorf("overopt: no runs to summarize")
	}
	k := len(runs[0])
	for _, r := range runs {
		if len(r) != k || k <= Window {
			return nil, fmt.Errorf("overopt: runs of %d and %d points (want equal and > %d)", k, len(r), Window)
		}
	}
	s := &Summary{Mean: average(runs)}
	s.PeakTrue, s.PeakIndex, s.FinalTrue, s.Drop = peakAndDrop(s.Mean)
	s.PeakD = s.Mean[s.PeakIndex].D
	var d, gain []float64
	for _, r := range runs {
		_, _, _, drop := peakAndDrop(r)
		s.SeedDrops = append(s.SeedDrops, drop)
		for _, p := range r[1:] {
			d = append(d, p.D)
			gain = append(gain, p.TrueReturn-r[0].TrueReturn)
		}
	}
	s.FitPeakD, s.FitPeakTrue = math.NaN(), math.NaN()
	if g, err := sweep.FitGao(d, gain); err == nil {
		s.Fit, s.FitOK = g, true
		if pd, pr, ok := g.Peak(); ok {
			s.FitPeakD, s.FitPeakTrue = pd, s.Mean[0].TrueReturn+pr
		}
	}
	return s, nil
}

// average returns runs (of equal length) averaged point by point, d from the mean KL.
func average(runs [][]Point) []Point {
	mean := make([]Point, len(runs[0]))
	for i := range mean {
		m := &mean[i]
		for _, r := range runs {
			p := r[i]
			m.EnvSteps += p.EnvSteps
			m.KL += p.KL
			m.TrueReturn += p.TrueReturn
			m.LearnedReturn += p.LearnedReturn
			m.ProxyReturn += p.ProxyReturn
		}
		n := float64(len(runs))
		m.EnvSteps /= len(runs)
		m.KL /= n
		m.TrueReturn /= n
		m.LearnedReturn /= n
		m.ProxyReturn /= n
		m.D = math.Sqrt(m.KL)
	}
	return mean
}

// DropRatioCI is the percentile bootstrap interval, at level (0.95 for 95%), of the ratio of
// other's drop to base's over seeds. base[i] and other[i] are the runs of seed i (one reward
// model, two objectives), so each resample draws seeds with replacement for both, averages
// their curves and takes the ratio of the drops. Resamples in which base has no drop are
// left out; ok is false if fewer than half remain. Runs must be as Summarize takes them.
func DropRatioCI(rng *rand.Rand, base, other [][]Point, resamples int, level float64) (lo, hi float64, ok bool) {
	n := len(base)
	if n == 0 || len(other) != n || resamples < 1 {
		return math.NaN(), math.NaN(), false
	}
	var ratios []float64
	b, o := make([][]Point, n), make([][]Point, n)
	for range resamples {
		for j := range b {
			k := rng.IntN(n)
			b[j], o[j] = base[k], other[k]
		}
		_, _, _, db := peakAndDrop(average(b))
		_, _, _, do := peakAndDrop(average(o))
		if db > 0 {
			ratios = append(ratios, do/db)
		}
	}
	return interval(ratios, resamples, level)
}

// interval is the percentile interval at level of the resampled ratios, of resamples drawn
// (those with no base drop were left out); ok is false if fewer than half remain.
func interval(ratios []float64, resamples int, level float64) (lo, hi float64, ok bool) {
	if 2*len(ratios) < resamples {
		return math.NaN(), math.NaN(), false
	}
	slices.Sort(ratios)
	at := func(q float64) float64 { return ratios[min(int(q*float64(len(ratios))), len(ratios)-1)] }
	return at((1 - level) / 2), at((1 + level) / 2), true
}

// peakAndDrop returns the peak of pts' true return, the index it is at, the final true return
// and their difference. The peak is the larger of the initial policy's return (pts[0], the
// same policy for every objective of a seed, before PPO moved it) and the largest mean over
// Window adjacent points of the rest, at the window's middle; the final return is the mean of
// the last Window points.
func peakAndDrop(pts []Point) (peak float64, at int, final, drop float64) {
	peak, at = pts[0].TrueReturn, 0
	for i := 1; i+Window <= len(pts); i++ {
		s := 0.0
		for _, p := range pts[i : i+Window] {
			s += p.TrueReturn
		}
		s /= Window
		if s > peak {
			peak, at = s, i+Window/2
		}
		final = s
	}
	return peak, at, final, peak - final
}

// SeedDropRatio is the ratio of the mean of other's per-seed drops to base's, with its
// percentile bootstrap interval at level over seeds (resampled in pairs, as DropRatioCI). It
// complements DropRatioCI's ratio of the seed-averaged curves' drops: when each seed either
// over-optimises badly or not at all, one seed's curve moves the averaged peak, and the mean
// of the per-seed drops says how much each seed lost. ok is false when base has no drop, or
// fewer than half the resamples have one.
func SeedDropRatio(rng *rand.Rand, base, other []float64, resamples int, level float64) (ratio, lo, hi float64, ok bool) {
	n := len(base)
	if n == 0 || len(other) != n || resamples < 1 {
		return math.NaN(), math.NaN(), math.NaN(), false
	}
	// Both means are over the same n seeds, so their ratio is the ratio of the sums.
	sb, so := 0.0, 0.0
	for i := range base {
		sb, so = sb+base[i], so+other[i]
	}
	if !(sb > 0) {
		return math.NaN(), math.NaN(), math.NaN(), false
	}
	var ratios []float64
	for range resamples {
		b, o := 0.0, 0.0
		for range n {
			k := rng.IntN(n)
			b, o = b+base[k], o+other[k]
		}
		if b > 0 {
			ratios = append(ratios, o/b)
		}
	}
	lo, hi, ok = interval(ratios, resamples, level)
	return so / sb, lo, hi, ok
}
