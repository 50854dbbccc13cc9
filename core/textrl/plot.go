package textrl

import (
	"fmt"

	"github.com/prefer-rlhf/prefer/core/plot"
)

// Chart draws a run: for PPO the reward-model score and the gold score of each rollout against
// the iteration; for DPO, the same at its KL checks; for best-of-n, which has no iterations,
// the gold and reward-model scores before and after as reference lines. The two scores have
// different units (the reward model's is a Bradley-Terry logit, in the tens after a long run;
// the gold is VADER's compound score in [-1, 1]), so each is drawn as its gain over the first
// point, as a share of its largest gain: a gold score that rises and falls while the reward
// model's keeps rising (Gao et al. 2022's over-optimisation) shows on one chart, and the
// series' names give the largest gains in the scores' own units.
func (r *Report) Chart() *plot.Chart {
	c := &plot.Chart{
		Title:  fmt.Sprintf("%s: %s with %d labels (seed %d): KL %.2f nats", r.Env, r.Method, r.LabelsUsed, r.Seed, r.KL),
		XLabel: "PPO iteration", YLabel: "gain over the first point, share of the largest",
		XWhole: true,
	}
	if len(r.Curve) == 0 {
		c.XLabel, c.YLabel = "(no iterations)", "mean score of the continuations"
		c.HLines = []plot.HLine{{Name: "reference gold", Y: r.GoldBefore}, {Name: "tuned gold", Y: r.GoldAfter},
			{Name: "reference reward model", Y: r.RewardBefore}, {Name: "tuned reward model", Y: r.RewardAfter}}
		return c
	}
	var x, rm, gold []float64
	for _, p := range r.Curve {
		x = append(x, float64(p.Iter))
		rm = append(rm, p.Reward)
		gold = append(gold, p.Gold)
	}
	rmTop, rm := shareOfGain(rm)
	goldTop, gold := shareOfGain(gold)
	c.Series = []plot.Series{
		{Name: fmt.Sprintf("reward model (what PPO maximises; largest gain %.3g)", rmTop), X: x, Y: rm},
		{Name: fmt.Sprintf("gold score (largest gain %.3g; held-out %.3f → %.3f)", goldTop, r.GoldBefore, r.GoldAfter), X: x, Y: gold},
	}
	c.HLines = []plot.HLine{{Name: "first point", Y: 0}}
	if r.Method == DPO { // the KL budget's checks, on training prompts
		c.XLabel = "DPO step"
		c.Series[0].Name = fmt.Sprintf("reward model (DPO does not read it; largest gain %.3g)", rmTop)
	}
	return c
}

// shareOfGain returns ys' largest gain over ys[0] and ys as their gains divided by it: 0 at
// the start, 1 at the largest gain. A series that never rises is divided by its largest loss
// instead (down to -1), and that loss is returned negative. A flat series stays 0.
func shareOfGain(ys []float64) (top float64, out []float64) {
	out = make([]float64, len(ys))
	if len(ys) == 0 {
		return 0, out
	}
	scale := 0.0
	for _, y := range ys {
		scale = max(scale, y-ys[0])
	}
	top = scale
	if scale == 0 { // never above the start
		for _, y := range ys {
			scale = max(scale, ys[0]-y)
		}
		top = -scale
	}
	for i, y := range ys {
		if scale > 0 {
			out[i] = (y - ys[0]) / scale
		}
	}
	return top, out
}

// Frontier draws gold score against KL from the reference for runs of the three methods, one
// series per method: the reward-against-KL chart of Gao et al. 2022 and Stiennon et al. 2020.
func Frontier(env string, runs []*Report) *plot.Chart {
	c := &plot.Chart{
		Title:  env + ": gold score against KL from the reference",
		XLabel: "KL(π ‖ π_ref), nats per continuation", YLabel: "mean gold score on held-out prompts",
	}
	for _, m := range []string{PPO, DPO, BoN} {
		s := plot.Series{Name: m, Dots: true}
		for _, r := range runs {
			if r.Method == m {
				s.X = append(s.X, r.KL)
				s.Y = append(s.Y, r.GoldAfter)
			}
		}
		if len(s.X) > 0 {
			c.Series = append(c.Series, s)
		}
	}
	if len(runs) > 0 {
		c.HLines = []plot.HLine{{Name: "reference", Y: runs[0].GoldBefore}}
	}
	return c
}
