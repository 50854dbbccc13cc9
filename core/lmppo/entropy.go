package lmppo

// EntController holds the entropy bonus's coefficient (Config.EntCoef) and, with Target > 0,
// raises it while the policy's mean entropy per state is below Target: the automatic entropy
// adjustment of Haarnoja et al. 2018 ("Soft Actor-Critic Algorithms and Applications", §5: the
// temperature's own loss J(α)), which holds a policy's entropy to a target rather than its
// coefficient fixed, here with the proportional rule Ziegler et al. 2019 (§2.2, eq. 2) use for
// β rather than a gradient step on α:
//
//	e_t = clip((Target − H_t)/Target, −0.2, 0.2),   c_{t+1} = max(Floor, c_t·(1 + Rate·e_t))
//
// The floor is Config.EntCoef, so the bonus is never below the fixed one: it grows only on a
// policy crowding onto a few phrases (the seeds whose distinct-2 falls), and falls back to the
// floor once the entropy is over the target again. With Target == 0, Coef stays fixed.
type EntController struct {
	Coef   float64 // current coefficient ≥ Floor
	Floor  float64 // Config.EntCoef
	Target float64 // target mean entropy per continuation state, nats; 0: fixed Coef
	Rate   float64 // how fast Coef adapts (Config.EntRate)
}

// Update adapts Coef given the mean entropy per state of the last rollout's updates, and
// returns the new coefficient.
func (c *EntController) Update(h float64) float64 {
	if c.Target <= 0 {
		return c.Coef
	}
	e := max(-0.2, min(0.2, (c.Target-h)/c.Target))
	c.Coef = max(c.Floor, c.Coef*(1+c.Rate*e))
	return c.Coef
}
