package textrl

// expoMax is the end of DPO's extrapolation (Config.DPOExtrapolate): the line is walked at
// most to 3× the distance DPO went.
const expoMax = 3.0

// extrapolate moves the tuner's policy θ to θ_ref + η·(θ − θ_ref) for the largest η on the
// grid 1, 1 + step, ... whose KL on the check's continuations of training prompts is
// within budget (ExPO, Zheng et al. 2024, eq. 2, with α = η − 1; withinBudget's walk, never
// below η 1), and returns η. η is 1 (θ unchanged) when even the first step is over it.
func (t *dpoTuner) extrapolate(budget, step float64, logf func(string)) (float64, error) {
	p, r, err := withinBudget(t.ref, t.policy, t.klc, budget, line{step: step, min: 1, max: expoMax}, logf)
	if err != nil {
		return 0, err
	}
	t.policy = p
	return r.Eta, nil
}
