package textrl

import (
	"fmt"

	"github.com/prefer-rlhf/prefer/core/plot"
)

// Chart draws a run: for PPO the reward-model score and the gold score of each rollout against
// the iteration, with the reference's gold as a reference line; for DPO and best-of-n, which
// have no iterations, the gold and reward-model scores before and after as reference lines.
func (r *Report) Chart() *plot.Chart {
	c := &plot.Chart{
		Title:  fmt.Sprintf("%s: %s with %d labels (seed %d): KL %.2f nats", r.Env, r.Method, r.LabelsUsed, r.Seed, r.KL),
		XLabel: "PPO iteration", YLabel: "mean score of the continuations",
		XWhole: true,
		HLines: []plot.HLine{{Name: "reference gold", Y: r.GoldBefore}, {Name: "tuned gold", Y: r.GoldAfter}},
	}
	if len(r.Curve) == 0 {
		c.XLabel = "(no iterations)"
		c.HLines = append(c.HLines, plot.HLine{Name: "reference reward model", Y: r.RewardBefore}, plot.HLine{Name: "tuned reward model", Y: r.RewardAfter})
		return c
	}
	var x, rm, gold []float64
	for _, p := range r.Curve {
		x = append(x, float64(p.Iter))
		rm = append(rm, p.Reward)
		gold = append(gold, p.Gold)
	}
	c.Series = []plot.Series{{Name: "reward model (what PPO maximises)", X: x, Y: rm}, {Name: "gold score", X: x, Y: gold}}
	if r.Method == DPO { // the KL budget's checks, on training prompts
		c.XLabel = "DPO step"
		c.Series[0].Name = "reward model (DPO does not read it)"
	}
	return c
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
