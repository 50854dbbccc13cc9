package reward

import (
	"math"

	"github.com/prefer-rlhf/prefer/core/nn"
)

// Each member's output is normalised to zero mean and unit standard deviation over a sample of
// transitions, and the ensemble reward is the mean of the normalised members (§2.2.3: "we
// normalized the rewards produced by r̂ to have zero mean and constant standard deviation";
// App. A: the members are normalised independently, then averaged). A shift does not change
// the Bradley-Terry probabilities (eq. 1), so fitting uses raw outputs; the policy sees
// rewards on a fixed scale however the fit drifts.

// Normalize sets each member's output mean and standard deviation from n transitions, for
// example recent rollouts of the current policy. obs, act and next are as for Rewards.
func (m *Model) Normalize(obs, act, next []float64, n int) error {
	if err := m.shape.checkParts(m.cfg.Features, obs, act, next, n); err != nil {
		return err
	}
	x := make([]float64, n*m.width)
	m.shape.features(m.cfg.Features, m.cfg.ObsScale, obs, act, next, n, x)
	m.normalizeRows(x, n)
	return nil
}

// normalizeOn sets the normalisation from up to cfg.NormSample transitions drawn uniformly
// from the segments of d (all of them if there are fewer).
func (m *Model) normalizeOn(d *Dataset) {
	var segs []*Segment
	total := 0
	for _, cs := range [][]Comparison{d.Train, d.Val} {
		for i := range cs {
			segs = append(segs, &cs[i].Left, &cs[i].Right)
			total += cs[i].Left.Len + cs[i].Right.Len
		}
	}
	n := min(total, m.cfg.NormSample)
	if n < 2 {
		return
	}
	w := m.width
	x := make([]float64, n*w)
	f, od, ad := m.cfg.Features, m.shape.ObsDim, m.shape.ActDim
	row := func(r int, s *Segment, t int) {
		var obs, act, next []float64
		if f&Obs != 0 {
			obs = s.Obs[t*od : (t+1)*od]
		}
		if f&Act != 0 {
			act = s.Act[t*ad : (t+1)*ad]
		}
		if f&Next != 0 {
			next = s.Next[t*od : (t+1)*od]
		}
		m.shape.features(f, m.cfg.ObsScale, obs, act, next, 1, x[r*w:(r+1)*w])
	}
	if n == total {
		r := 0
		for _, s := range segs {
			for t := 0; t < s.Len; t++ {
				row(r, s, t)
				r++
			}
		}
	} else {
		// Cumulative lengths let a uniform transition index find its segment by bisection.
		cum := make([]int, len(segs)+1)
		for i, s := range segs {
			cum[i+1] = cum[i] + s.Len
		}
		for r := 0; r < n; r++ {
			k := m.rng.IntN(total)
			lo, hi := 0, len(segs)
			for hi-lo > 1 {
				mid := (lo + hi) / 2
				if cum[mid] <= k {
					lo = mid
				} else {
					hi = mid
				}
			}
			row(r, segs[lo], k-cum[lo])
		}
	}
	m.normalizeRows(x, n)
}

// normalizeRows sets each member's mean and standard deviation over the feature rows x.
func (m *Model) normalizeRows(x []float64, n int) {
	if n < 2 {
		return
	}
	m.each(func(_ int, mb *member) {
		var tape, ptape nn.Tape
		mb.mean, mb.std = meanStdOf(mb.forward(&tape, &ptape, x, n))
	})
}

// meanStdOf returns the mean and standard deviation of y; a standard deviation too small to
// divide by is replaced by 1, so a constant member keeps its scale.
func meanStdOf(y []float64) (mean, std float64) {
	for _, v := range y {
		mean += v
	}
	mean /= float64(len(y))
	for _, v := range y {
		std += (v - mean) * (v - mean)
	}
	std = math.Sqrt(std / float64(len(y)))
	if !(std > 1e-8) {
		std = 1
	}
	return mean, std
}
