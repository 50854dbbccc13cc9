package textrl

import (
	"fmt"

	"github.com/prefer-rlhf/prefer/core/lm"
	"github.com/prefer-rlhf/prefer/core/text"
)

// The frontier sweep's settings: each method at a few strengths of its tie to the reference.
var (
	sweepKLTargets = []float64{2, 6, 12}       // PPO's adaptive KL targets, nats
	sweepDPOBetas  = []float64{0.5, 0.1, 0.03} // DPO's β
	sweepN         = []int{2, 4, 16, 64}       // best-of-n's n
)

// Sweep runs the three methods at several KL budgets on the same labels (Run draws them from
// the same seed) and returns every report, for Frontier.
func Sweep(cfg Config, w *text.World, t text.Task, ref *lm.Model, log func(string)) ([]*Report, error) {
	var cfgs []Config
	for _, k := range sweepKLTargets {
		c := cfg
		c.Method, c.PPO.KLTarget = PPO, k
		cfgs = append(cfgs, c)
	}
	for _, b := range sweepDPOBetas {
		c := cfg
		c.Method, c.DPO.Beta = DPO, b
		cfgs = append(cfgs, c)
	}
	for _, n := range sweepN {
		c := cfg
		c.Method, c.N = BoN, n
		cfgs = append(cfgs, c)
	}
	var out []*Report
	for i, c := range cfgs {
		if log != nil {
			log(fmt.Sprintf("frontier run %d/%d: %s (KL target %g, DPO β %g, n %d)", i+1, len(cfgs), c.Method, c.PPO.KLTarget, c.DPO.Beta, c.N))
		}
		r, err := Run(c, w, t, ref, log)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}
