package textrl

// mergeReplicas sets every replica's policy to the mean of their weights (Config.DPOReplicas;
// WARP's merge, Ramé et al. 2024, §3.2, with equal weights) and returns the merged policy's
// KL on the first replica's check continuations of training prompts (0 without a check).
// Each replica keeps its own Adam state.
func mergeReplicas(ts []*dpoTuner) (float64, error) {
	mean := ts[0].policy.Params
	for _, t := range ts[1:] {
		for i, v := range t.policy.Params {
			mean[i] += v
		}
	}
	for i := range mean {
		mean[i] /= float64(len(ts))
	}
	for _, t := range ts[1:] {
		copy(t.policy.Params, mean)
	}
	if len(ts[0].klc.prompts) == 0 {
		return 0, nil
	}
	kl, _, err := ts[0].kl()
	return kl, err
}
