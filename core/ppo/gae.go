package ppo

// GAE computes generalised advantage estimates (Schulman et al. 2016, "High-Dimensional
// Continuous Control Using Generalized Advantage Estimation", eq. 11-16) for a rollout of T
// steps of E environments, every slice row-major [t][e]:
//
//	δ_t = r_t + γ·V(s_{t+1})·(1 − done_t) − V(s_t)                     (eq. 12)
//	Â_t = δ_t + γλ·(1 − done_t)·Â_{t+1}                                (eq. 16, cut at episode ends)
//
// rewards[t*E+e] is r_t, values[t*E+e] is V(s_t) and done[t*E+e] says that env e's episode
// ended with step t, so nothing is bootstrapped from s_{t+1}. lastValues[e] is V(s_T), the
// value of the observation after the rollout's last step. GAE writes the advantages to adv and
// the value targets Â_t + V(s_t) (the λ-returns) to ret; both have length T*E.
func GAE(rewards, values []float64, done []bool, lastValues []float64, T, E int, gamma, lambda float64, adv, ret []float64) {
	n := T * E
	if len(rewards) != n || len(values) != n || len(done) != n || len(lastValues) != E || len(adv) != n || len(ret) != n {
		panic("ppo: GAE got slices of inconsistent lengths")
	}
	for e := 0; e < E; e++ {
		next, last := lastValues[e], 0.0
		for t := T - 1; t >= 0; t-- {
			i := t*E + e
			notDone := 1.0
			if done[i] {
				notDone = 0
			}
			delta := rewards[i] + gamma*next*notDone - values[i]
			last = delta + gamma*lambda*notDone*last
			adv[i] = last
			ret[i] = last + values[i]
			next = values[i]
		}
	}
}
