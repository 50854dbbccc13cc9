package ppo

// KLController holds β, the coefficient of the KL penalty to a reference policy ρ that
// Ziegler et al. 2019 ("Fine-Tuning Language Models from Human Preferences") subtract from the
// reward, eq. 1:
//
//	R(s, a) = r(s, a) − β·log(π(a|s)/ρ(a|s))
//
// With Target > 0, β adapts after each rollout towards a target KL, eq. 2:
//
//	e_t = clip((KL_t − Target)/Target, −0.2, 0.2),   β_{t+1} = β_t·(1 + K_β·e_t)
//
// With Target == 0, β stays fixed.
type KLController struct {
	Beta   float64 // current β ≥ 0
	Target float64 // target KL per step; 0: fixed β
	Rate   float64 // K_β (0.1 in Ziegler et al.)
}

// Update adapts β given the mean per-step KL of the last rollout, and returns the new β.
func (k *KLController) Update(kl float64) float64 {
	if k.Target <= 0 {
		return k.Beta
	}
	e := max(-0.2, min(0.2, (kl-k.Target)/k.Target))
	k.Beta *= 1 + k.Rate*e
	return k.Beta
}
