package textrl

import "fmt"

// expoStep is the step of η in DPO's extrapolation (Config.DPOExtrapolate), and expoMax its
// end: the line is walked at most to 3× the distance DPO went.
const (
	expoStep = 0.05
	expoMax  = 3.0
)

// extrapolate moves the tuner's policy θ to θ_ref + η·(θ − θ_ref) for the largest η on the
// grid 1, 1 + expoStep, ... whose KL on the check's continuations of training prompts is
// within budget (ExPO, Zheng et al. 2024, eq. 2, with α = η − 1), and returns η. The KL grows
// with η along the line, so the walk stops at the first η past the budget. η is 1 (θ
// unchanged) when even the first step is over it.
func (t *dpoTuner) extrapolate(budget float64, logf func(string)) (float64, error) {
	base, best, eta := t.policy, t.policy, 1.0
	for k := 1; 1+expoStep*float64(k) <= expoMax+1e-9; k++ {
		e := 1 + expoStep*float64(k)
		t.policy = interpolate(t.ref, base, e)
		kl, _, err := t.kl()
		if err != nil {
			return 0, err
		}
		logf(fmt.Sprintf("dpo extrapolation η %.2f: kl on training prompts %.2f (budget %.2f)", e, kl, budget))
		if kl > budget {
			break
		}
		best, eta = t.policy, e
	}
	t.policy = best
	return eta, nil
}
