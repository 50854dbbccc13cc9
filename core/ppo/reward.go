package ppo

import "math"

// Reward gives the reward of transitions as a function of (observation, action, next
// observation), so that a reward model learned from preferences (Christiano et al. 2017, §2.2)
// can replace the environment's reward.
//
// Rewards writes to out[i] the reward of transition i of n. obs and next hold n rows of the
// raw observation, act n rows of the action as sent to the env (a discrete action is its
// index), all row-major. The Trainer calls it once per rollout, from one goroutine, with the
// whole rollout as the batch.
type Reward interface {
	Rewards(obs, act, next []float64, n int, out []float64)
}

// RewardFunc adapts a function to the Reward interface.
type RewardFunc func(obs, act, next []float64, n int, out []float64)

// Rewards calls f.
func (f RewardFunc) Rewards(obs, act, next []float64, n int, out []float64) {
	f(obs, act, next, n, out)
}

// rewardNorm scales rewards by a running standard deviation of the discounted return, as
// Gymnasium's NormalizeReward wrapper: the return accumulator of each env is
// G ← γ·G·(1 − done) + r, its variance is tracked, and rewards are divided by its std.
type rewardNorm struct {
	stat *RunningStat // of G, one coordinate
	g    []float64    // per env
	buf  []float64
}

func newRewardNorm(envs int) *rewardNorm {
	return &rewardNorm{stat: NewRunningStat(1), g: make([]float64, envs)}
}

// apply normalises rewards (T×E, row-major) in place, clipping to ±clip when clip > 0. done
// marks the last step of each episode.
func (r *rewardNorm) apply(rewards []float64, done []bool, T, E int, gamma, clip float64) {
	r.buf = grow(r.buf, T*E)
	for t := 0; t < T; t++ {
		for e := 0; e < E; e++ {
			i := t*E + e
			r.g[e] = r.g[e]*gamma + rewards[i]
			r.buf[i] = r.g[e]
			if done[i] {
				r.g[e] = 0
			}
		}
	}
	r.stat.Update(r.buf, T*E)
	inv := 1 / math.Sqrt(r.stat.Var[0]+1e-8)
	for i, v := range rewards {
		v *= inv
		if clip > 0 {
			v = max(-clip, min(clip, v))
		}
		rewards[i] = v
	}
}

// grow returns b resliced to n, reallocated if too small.
func grow(b []float64, n int) []float64 {
	if cap(b) < n {
		return make([]float64, n)
	}
	return b[:n]
}
