package classroom

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"github.com/prefer-rlhf/prefer/core/plot"
	"github.com/prefer-rlhf/prefer/core/sweep"
)

// GaoView is Gao et al. 2022's fit of the true return against d = √KL ("Scaling Laws for
// Reward Model Overoptimization", eq. 2, RL: R(d) = d(α - β log d); core/sweep.FitGao) on a
// project's published policies: how far optimising the learned reward helped before it hurt.
type GaoView struct {
	// D and True are the policies with both a KL and a true return, in order of d.
	D, True []float64
	// Base is the true return the fit is measured from: the earliest such policy's, the
	// nearest the initial policy (the trainer does not score the initial policy itself, so
	// Gao's R(0) = 0 is taken there).
	Base float64
	// Fit is the fit of True - Base against D; Fitted says there is one, OK that it also
	// turns down (β > 0).
	Fit        sweep.Gao
	Fitted, OK bool
	// PeakD and PeakTrue are the fit's peak d* and its true return (Base added back).
	PeakD, PeakTrue float64
	// Drop is PeakTrue minus the latest policy's true return once that policy is past the
	// peak (d > d*): what optimising further lost; 0 before the peak.
	Drop float64
}

// FitGaoView fits Gao's curve to pts (in publication order). With fewer than three policies
// carrying both a KL and a true return, or no fit that turns down, OK is false.
func FitGaoView(pts []PolicyPoint) GaoView {
	v := GaoView{PeakD: math.NaN(), PeakTrue: math.NaN(), Base: math.NaN()}
	type dr struct{ d, r float64 }
	var ps []dr
	latest := -1
	for i, p := range pts {
		if finite(p.KL) && p.KL >= 0 && finite(p.True) {
			ps = append(ps, dr{math.Sqrt(p.KL), p.True})
			latest = i
		}
	}
	if len(ps) == 0 {
		return v
	}
	v.Base = ps[0].r
	// R is a function of d, and the KL need not grow every round.
	slices.SortStableFunc(ps, func(a, b dr) int { return cmp.Compare(a.d, b.d) })
	gain := make([]float64, len(ps))
	for i, p := range ps {
		v.D, v.True = append(v.D, p.d), append(v.True, p.r)
		gain[i] = p.r - v.Base
	}
	if len(ps) < 3 {
		return v
	}
	g, err := sweep.FitGao(v.D, gain)
	if err != nil {
		return v
	}
	v.Fit, v.Fitted = g, true
	d, r, ok := g.Peak()
	if !ok || !finite(d) || !finite(r) {
		return v
	}
	v.OK, v.PeakD, v.PeakTrue = true, d, v.Base+r
	if last := pts[latest]; math.Sqrt(last.KL) > d {
		v.Drop = math.Max(v.PeakTrue-last.True, 0)
	}
	return v
}

// SVG draws the measured true returns against d = √KL from "from" (the initial policy, or a
// text task's reference), a dot per policy: the KL need not grow round on round; the fitted
// curve (dashed), and its peak and the drop after it.
func (v GaoView) SVG(trueName, from string, width, height int) []byte {
	c := plot.Chart{
		Title:  "Gao et al. 2022 fit on √KL",
		XLabel: "d = √KL from " + from, YLabel: trueName,
		Width: width, Height: height,
		Series: []plot.Series{{Name: "policies", X: v.D, Y: v.True, Color: colTrue, Dots: true}},
	}
	if !v.Fitted {
		c.Title = "Gao et al. fit: needs 3 policies"
		return c.SVG()
	}
	top := slices.Max(v.D)
	var fd, fy []float64
	for k := 0; k <= 60; k++ {
		x := top * float64(k) / 60
		fd, fy = append(fd, x), append(fy, v.Base+v.Fit.At(x))
	}
	c.Series = append(c.Series, plot.Series{Name: fmt.Sprintf("fit α %.3g, β %.3g", v.Fit.Alpha, v.Fit.Beta), X: fd, Y: fy, Color: colKL, Dash: true})
	switch {
	case !v.OK:
		c.Title = "Gao et al. fit: no peak yet"
	case v.PeakD < top:
		c.HLines = []plot.HLine{{Name: fmt.Sprintf("peak %s at d %s; drop %s", fmtNum(v.PeakTrue), fmtNum(v.PeakD), fmtNum(v.Drop)), Y: v.PeakTrue}}
	default:
		// A peak beyond the policies so far is a forecast: named, not drawn over them.
		c.Title = fmt.Sprintf("Gao et al. fit: peak ahead (d = %s)", fmtNum(v.PeakD))
	}
	return c.SVG()
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
