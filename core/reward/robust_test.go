package reward

import (
	"math"
	"testing"

	"github.com/prefer-rlhf/prefer/core/oracle"
)

func TestR3MDeltaIsTheProximalMinimiser(t *testing.T) {
	// δ minimises L(Δ + δ; μ) + λ|δ|: check against a fine grid.
	for _, lambda := range []float64{0.05, 0.1, 0.3} {
		for _, mu := range []float64{0, 0.5, 1} {
			for _, d := range []float64{-6, -1, -0.1, 0, 0.3, 2, 7} {
				f := func(x float64) float64 {
					l, _ := btLoss(d+x, mu, 0)
					return l + lambda*math.Abs(x)
				}
				got := r3mDelta(d, mu, lambda)
				best := 0.0
				for x := -15.0; x <= 15; x += 1e-3 {
					if f(x) < f(best) {
						best = x
					}
				}
				if f(got) > f(best)+1e-6 {
					t.Errorf("λ=%v μ=%v Δ=%v: δ=%v scores %v, grid %v scores %v", lambda, mu, d, got, f(got), best, f(best))
				}
			}
		}
	}
	// A label the model agrees with gets no perturbation; one it contradicts pulls with λ.
	if r3mDelta(3, 1, 0.1) != 0 {
		t.Error("an explained label was perturbed")
	}
	if g := robustGrad(-5, 1, 0.1); math.Abs(g+0.1) > 1e-12 {
		t.Errorf("contradicted label pulls with %v, want -λ = -0.1", g)
	}
}

// TestRobustFitWithFlippedLabels fits the same noisy comparisons with and without R3M. A
// rater that answers at random half of the time is wrong on a quarter of the labels; the
// robust fit must rank fresh, correctly labelled pairs better, on average over seeds and on
// most of them.
// Members are wide and fitted long, so that the plain fit can memorise the wrong labels.
func TestRobustFitWithFlippedLabels(t *testing.T) {
	if testing.Short() {
		t.Skip("fits 6 ensembles")
	}
	var plain, robust float64
	wins := 0
	seeds := []uint64{1, 2, 3}
	for _, seed := range seeds {
		d, test := cartData(seed, 400, 25, oracle.Rater{ErrorRate: 0.5})
		acc := func(r bool) float64 {
			c := smallConfig(seed)
			c.Robust = r
			c.Hidden = []int{64, 64}
			c.Epochs = 60
			m, err := New(c, cartShape)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := m.Fit(d); err != nil {
				t.Fatal(err)
			}
			return Accuracy(m, test)
		}
		p, r := acc(false), acc(true)
		t.Logf("seed %d: held-out accuracy plain %.3f, R3M %.3f", seed, p, r)
		plain += p / float64(len(seeds))
		robust += r / float64(len(seeds))
		if r > p {
			wins++
		}
	}
	if !(robust > plain) || wins < 2 {
		t.Errorf("R3M mean accuracy %.3f vs plain %.3f, better on %d of %d seeds", robust, plain, wins, len(seeds))
	}
}
