package ppo

import (
	"math"
	"testing"
)

// TestPolicyKL checks PolicyKL against the closed forms on hand-built distributions, that it
// is 0 for a policy and its clone, grows after training moves the policy, and that bad input
// is an error.
func TestPolicyKL(t *testing.T) {
	// Closed forms: KL([½, ½] ‖ [¾, ¼]) and KL(N(1, 1) ‖ N(0, e^2)).
	want := 0.5*math.Log(0.5/0.75) + 0.5*math.Log(0.5/0.25)
	if got := categoricalKL([]float64{0, 0}, []float64{math.Log(3), 0}); math.Abs(got-want) > 1e-12 {
		t.Errorf("categorical KL %v, want %v", got, want)
	}
	want = 1 + (1+1)/(2*math.Exp(2)) - 0.5
	if got := gaussianKL([]float64{1}, []float64{0}, []float64{0}, []float64{1}); math.Abs(got-want) > 1e-12 {
		t.Errorf("Gaussian KL %v, want %v", got, want)
	}

	for _, name := range []string{"CartPole-v1", "Pendulum-v1"} {
		c := smallConfig(name)
		tr := mustTrainer(t, c, 11)
		initial := tr.Policy().Clone()
		// A reward for large actions (pushing right, or torque +) moves π away from its start.
		tr.SetReward(RewardFunc(func(_, act, _ []float64, n int, out []float64) {
			d := len(act) / n
			for i := range out {
				out[i] = act[i*d]
			}
		}))
		if err := tr.Train(c.BatchSize(), nil); err != nil {
			t.Fatal(err)
		}
		obs := tr.Rollout().Obs
		if kl, err := PolicyKL(initial, initial.Clone(), obs); err != nil || kl != 0 {
			t.Errorf("%s: KL of a policy from its clone %v, %v; want 0", name, kl, err)
		}
		first, err := PolicyKL(tr.Policy(), initial, obs)
		if err != nil {
			t.Fatal(err)
		}
		if err := tr.Train(4*c.BatchSize(), nil); err != nil {
			t.Fatal(err)
		}
		later, err := PolicyKL(tr.Policy(), initial, tr.Rollout().Obs)
		if err != nil {
			t.Fatal(err)
		}
		if !(first > 0) || !(later > first) {
			t.Errorf("%s: KL from the initial policy %v after 1 iteration, %v after 5; want > 0 and growing", name, first, later)
		}
	}

	cart := mustTrainer(t, smallConfig("CartPole-v1"), 1).Policy()
	pend := mustTrainer(t, smallConfig("Pendulum-v1"), 1).Policy()
	for _, tc := range []struct {
		p, q *Policy
		obs  []float64
	}{
		{cart, pend, make([]float64, 12)},
		{cart, nil, make([]float64, 4)},
		{cart, cart, nil},
		{cart, cart, make([]float64, 5)},
	} {
		if _, err := PolicyKL(tc.p, tc.q, tc.obs); err == nil {
			t.Errorf("PolicyKL(%v obs) accepted bad input", len(tc.obs))
		}
	}
}
