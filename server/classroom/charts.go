package classroom

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"github.com/prefer-rlhf/prefer/core/plot"
)

// PolicyPoint is one published policy, for the reward-hacking view.
type PolicyPoint struct {
	Version  int     `json:"version"`
	EnvSteps int64   `json:"env_steps"`
	Learned  float64 `json:"learned_return"` // mean return under the learned reward
	True     float64 `json:"true_return"`    // under the true reward or the checker; NaN if none
	KL       float64 `json:"kl"`             // KL from the initial policy per step (text: from the reference per continuation); NaN if unknown
}

// Axes says what the reward-hacking view measures for a task.
type Axes struct {
	// True names the true score: "true reward", "checker", or "gold score" for a text task.
	True string
	// Text is a text task's view. Its policies' scores are means over continuations of
	// held-out prompts and their KL is from the reference language model in nats per
	// continuation (summed over its tokens; server/trainer's text rounds), so the scores are
	// drawn against that KL, and the KL against the policy version: DPO takes no env steps.
	Text bool
}

// ModelPoint is one published reward model, for the accuracy chart.
type ModelPoint struct {
	Version     int     `json:"version"`
	Labels      int     `json:"labels"`
	ValAccuracy float64 `json:"val_accuracy"` // NaN before there is a validation set
}

// The projector palette: learned reward blue, true score vermilion, KL green (Okabe & Ito).
const (
	colLearned = "#0072B2"
	colTrue    = "#D55E00"
	colKL      = "#009E73"
)

// rescale maps ys linearly onto [0, 1] over their own finite range: two returns on different
// scales (the learned reward is normalised, a checker counts turns or steps) can then share one
// chart, where what matters is whether they rise and fall together.
func rescale(ys []float64) []float64 {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, y := range ys {
		if !math.IsNaN(y) && !math.IsInf(y, 0) {
			lo, hi = math.Min(lo, y), math.Max(hi, y)
		}
	}
	out := make([]float64, len(ys))
	for i, y := range ys {
		switch {
		case math.IsNaN(y) || math.IsInf(y, 0) || lo > hi:
			out[i] = math.NaN()
		case hi == lo:
			out[i] = 0.5
		default:
			out[i] = (y - lo) / (hi - lo)
		}
	}
	return out
}

// last returns the last finite value of ys, or NaN.
func last(ys []float64) float64 {
	for i := len(ys) - 1; i >= 0; i-- {
		if !math.IsNaN(ys[i]) && !math.IsInf(ys[i], 0) {
			return ys[i]
		}
	}
	return math.NaN()
}

// RewardHackingSVG draws the reward-hacking view: the policy's return under the learned reward
// and under the true reward (ax.True), each scaled to its own range, against env steps; below
// it, the KL from the initial policy and, beside that, the true return against d = √KL with
// Gao et al. 2022's fitted curve, its peak and the drop after it (FitGaoView). When the
// learned curve keeps rising and the true one falls, the policy has found where the reward
// model is wrong (Christiano et al. 2017, §3.3; Gao et al. 2022 on reward-model
// overoptimisation). For a text task (ax.Text) the scores are drawn against the KL from the
// reference, as Gao et al. draw them, and the KL against the policy version. width and height
// are the whole picture's pixels.
func RewardHackingSVG(pts []PolicyPoint, ax Axes, width, height int) []byte {
	trueName, learnedName := ax.True, "learned reward"
	from := "the initial policy"
	gaoView := FitGaoView(pts) // in publication order
	xs := make([]float64, len(pts))
	learned := make([]float64, len(pts))
	truth := make([]float64, len(pts))
	kl := make([]float64, len(pts))
	for i, p := range pts {
		xs[i], learned[i], truth[i], kl[i] = float64(p.EnvSteps), p.Learned, p.True, p.KL
	}
	top := plot.Chart{
		Title:  "Learned reward vs " + trueName,
		XLabel: "policy training steps", YLabel: "return (each scaled to its range)",
		Width: width, Height: height / 2,
	}
	bottom := plot.Chart{
		Title:  "KL from the initial policy",
		XLabel: "policy training steps", YLabel: "KL per step (nats)",
		Width: width / 2, Height: height - height/2,
		Series: []plot.Series{{Name: "KL", X: xs, Y: kl, Color: colKL}},
	}
	learnedNow, trueNow := last(learned), last(truth)
	if ax.Text {
		from, learnedName = "the reference", "learned score"
		top.Title = "Learned score and " + trueName + " against KL"
		top.XLabel, top.YLabel = "KL from the reference (nats per continuation)", "score (each scaled to its range)"
		bottom.Title, bottom.YLabel = "KL from the reference", "KL (nats per continuation)"
		bottom.XLabel, bottom.XWhole = "policy version (1 is the reference)", true
		versions := make([]float64, len(pts))
		for i, p := range pts {
			versions[i] = float64(p.Version)
		}
		bottom.Series[0].X = versions
		// Scores against KL, in order of KL, which need not grow round on round; "now" is
		// still the latest policy's.
		byKL := slices.Clone(pts)
		slices.SortStableFunc(byKL, func(a, b PolicyPoint) int { return cmp.Compare(a.KL, b.KL) })
		xs, learned, truth = make([]float64, len(pts)), make([]float64, len(pts)), make([]float64, len(pts))
		for i, p := range byKL {
			xs[i], learned[i], truth[i] = p.KL, p.Learned, p.True
		}
	}
	top.Series = []plot.Series{
		{Name: fmt.Sprintf("%s (now %s)", learnedName, fmtNum(learnedNow)), X: xs, Y: rescale(learned), Color: colLearned},
	}
	if !math.IsNaN(trueNow) {
		top.Series = append(top.Series, plot.Series{Name: fmt.Sprintf("%s (now %s)", trueName, fmtNum(trueNow)),
			X: xs, Y: rescale(truth), Color: colTrue})
	}
	if math.IsNaN(last(kl)) {
		// No KL recorded yet: say so instead of drawing an empty chart on another scale.
		top.Height = height
		note := fmt.Sprintf(`<text x="%d" y="%d" text-anchor="end" font-family="system-ui, sans-serif" font-size="13" fill="#777">KL from %s: not recorded yet</text>`, width-24, 26, from)
		svg := top.SVG()
		return append(svg[:len(svg)-len("</svg>\n")], note+"</svg>\n"...)
	}
	gao := gaoView.SVG(trueName, from, width-width/2, height-height/2)
	if math.IsNaN(trueNow) {
		gao = nil
		bottom.Width = width
	}
	return compose(width, height, []placed{{top.SVG(), 0, 0}, {bottom.SVG(), 0, height / 2}, {gao, width / 2, height / 2}})
}

// AccuracySVG draws the reward model's validation accuracy against its version (one per
// trainer round), with chance (50%) marked. Versions, not labels, are the x axis: excluding or
// down-weighting a rater lowers the label count, which would draw the line backwards.
func AccuracySVG(pts []ModelPoint, width, height int) []byte {
	xs := make([]float64, len(pts))
	ys := make([]float64, len(pts))
	for i, p := range pts {
		xs[i], ys[i] = float64(p.Version), 100*p.ValAccuracy
	}
	c := plot.Chart{
		Title: "Reward model: held-out accuracy", XLabel: "reward model version (one per round)", YLabel: "accuracy (%)", XWhole: true,
		Width: width, Height: height,
		Series: []plot.Series{{Name: "validation accuracy", X: xs, Y: ys, Color: colLearned}},
		HLines: []plot.HLine{{Name: "chance", Y: 50}, {Name: "", Y: 100}},
	}
	return c.SVG()
}

// MinutesSVG draws labels per minute.
func MinutesSVG(ms []Minute, width, height int) []byte {
	xs := make([]float64, len(ms))
	ys := make([]float64, len(ms))
	for i, m := range ms {
		xs[i], ys[i] = float64(i-len(ms)+1), float64(m.Labels)
	}
	c := plot.Chart{
		Title: "Labels per minute", XLabel: "minutes ago (0 = this minute)", YLabel: "labels",
		Width: width, Height: height,
		Series: []plot.Series{{Name: "labels", X: xs, Y: ys, Color: colTrue}},
		HLines: []plot.HLine{{Name: "", Y: 0}},
	}
	return c.SVG()
}

// placed is an SVG document at (x, y) of a composed picture; a nil one is left out.
type placed struct {
	svg  []byte
	x, y int
}

// compose puts SVG documents at their places in one SVG of width×height.
func compose(width, height int, parts []placed) []byte {
	out := fmt.Appendf(nil, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d">`, width, height, width, height)
	for _, p := range parts {
		if p.svg != nil {
			out = fmt.Appendf(out, `<g transform="translate(%d %d)">`, p.x, p.y)
			out = append(out, p.svg...)
			out = append(out, "</g>"...)
		}
	}
	return append(out, "</svg>\n"...)
}

// fmtNum formats a figure for a legend: "–" when unknown.
func fmtNum(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "–"
	}
	return fmt.Sprintf("%.3g", v)
}
