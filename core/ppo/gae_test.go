package ppo

import (
	"math"
	"testing"
)

// TestGAEHandComputed checks GAE against values worked out by hand for two envs, one of which
// ends an episode in the middle of the rollout.
func TestGAEHandComputed(t *testing.T) {
	const gamma, lambda = 0.9, 0.5
	// Env 0: rewards 1, 2, 3; values 0.5, 1, 1.5; V(s_3) = 2; no episode end.
	// Env 1: rewards 1, 0, 1; values 1, 1, 1; the episode ends with step 1; V(s_3) = 4.
	rewards := []float64{1, 1, 2, 0, 3, 1}
	values := []float64{0.5, 1, 1, 1, 1.5, 1}
	done := []bool{false, false, false, true, false, false}
	last := []float64{2, 4}
	adv, ret := make([]float64, 6), make([]float64, 6)
	GAE(rewards, values, done, last, 3, 2, gamma, lambda, adv, ret)

	// Env 0: δ2 = 3 + .9·2 − 1.5 = 3.3; δ1 = 2 + .9·1.5 − 1 = 2.35; δ0 = 1 + .9·1 − .5 = 1.4.
	// A2 = 3.3; A1 = 2.35 + .45·3.3 = 3.835; A0 = 1.4 + .45·3.835 = 3.12575.
	// Env 1: δ2 = 1 + .9·4 − 1 = 3.6; δ1 = 0 − 1 = −1 (episode ends); δ0 = 1 + .9·1 − 1 = .9.
	// A2 = 3.6; A1 = −1; A0 = .9 + .45·(−1) = .45.
	want := []float64{3.12575, 0.45, 3.835, -1, 3.3, 3.6}
	for i := range want {
		if math.Abs(adv[i]-want[i]) > 1e-12 {
			t.Errorf("adv[%d] = %v, want %v", i, adv[i], want[i])
		}
		if math.Abs(ret[i]-(want[i]+values[i])) > 1e-12 {
			t.Errorf("ret[%d] = %v, want %v", i, ret[i], want[i]+values[i])
		}
	}
}

// TestGAELambdaOneIsDiscountedReturn checks that λ = 1 gives the Monte Carlo return minus V.
func TestGAELambdaOneIsDiscountedReturn(t *testing.T) {
	rewards := []float64{1, -2, 0.5, 4}
	values := []float64{3, -1, 2, 0.25}
	done := []bool{false, false, false, false}
	adv, ret := make([]float64, 4), make([]float64, 4)
	GAE(rewards, values, done, []float64{10}, 4, 1, 0.95, 1, adv, ret)
	g := 10.0
	for t0 := 3; t0 >= 0; t0-- {
		g = rewards[t0] + 0.95*g
		if math.Abs(ret[t0]-g) > 1e-12 {
			t.Errorf("ret[%d] = %v, want the discounted return %v", t0, ret[t0], g)
		}
	}
}
