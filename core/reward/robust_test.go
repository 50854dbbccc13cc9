package reward

import (
	"math"
	"math/rand/v2"
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

// TestRobustFitWithFlippedLabels fits the same noisy comparisons with and without each robust
// fit. A rater that answers at random half of the time is wrong on a quarter of the labels;
// the robust fit must rank fresh, correctly labelled pairs better, on average over seeds and on
// most of them.
// Members are wide and fitted long, so that the plain fit can memorise the wrong labels.
func TestRobustFitWithFlippedLabels(t *testing.T) {
	if testing.Short() {
		t.Skip("fits 9 ensembles")
	}
	seeds := []uint64{1, 2, 3}
	modes := []RobustMode{RobustR3M, RobustEpsilon}
	plain := 0.0
	robust := make([]float64, len(modes))
	wins := make([]int, len(modes))
	for _, seed := range seeds {
		d, test := cartData(seed, 400, 25, oracle.Rater{ErrorRate: 0.5})
		acc := func(r bool, mode RobustMode) float64 {
			c := smallConfig(seed)
			c.Robust, c.RobustMode = r, mode
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
		p := acc(false, "")
		plain += p / float64(len(seeds))
		for i, mode := range modes {
			r := acc(true, mode)
			t.Logf("seed %d: held-out accuracy plain %.3f, %s %.3f", seed, p, mode, r)
			robust[i] += r / float64(len(seeds))
			if r > p {
				wins[i]++
			}
		}
	}
	for i, mode := range modes {
		if !(robust[i] > plain) || wins[i] < 2 {
			t.Errorf("%s: mean accuracy %.3f vs plain %.3f, better on %d of %d seeds", mode, robust[i], plain, wins[i], len(seeds))
		}
	}
}

func TestFitEpsilonIsTheMaximumLikelihood(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	for _, wrong := range []float64{0, 0.05, 0.1, 0.2} {
		// Labels of a model that is sure and right, except on a share of wrong labels.
		var deltas []float64
		var cs []Comparison
		for range 400 {
			d := 8 + 4*rng.Float64()
			mu := 1.0
			if rng.Float64() < wrong {
				mu = 0
			}
			if rng.IntN(2) == 0 {
				d, mu = -d, 1-mu
			}
			deltas = append(deltas, d)
			cs = append(cs, Comparison{Mu: mu})
		}
		loglik := func(eps float64) float64 {
			l := 0.0
			for i, c := range cs {
				x, _ := btLoss(deltas[i], c.Mu, eps)
				l -= x
			}
			return l
		}
		got := fitEpsilon(deltas, cs)
		best := epsMin
		for e := epsMin; e <= epsMax; e += 1e-4 {
			if loglik(e) > loglik(best) {
				best = e
			}
		}
		if math.Abs(got-best) > 2e-4 {
			t.Errorf("%.0f%% wrong: ε = %.4f, the grid's best %.4f", 100*wrong, got, best)
		}
		// A rater wrong on a share w of the labels answers at random with chance about 2w.
		if wrong > 0 && math.Abs(got-2*wrong) > 0.06 {
			t.Errorf("%.0f%% wrong: ε = %.3f, want about %.2f", 100*wrong, got, 2*wrong)
		}
		if wrong == 0 && got != epsMin {
			t.Errorf("no wrong labels: ε = %v, want the floor %v", got, epsMin)
		}
	}
}

func TestPlainFitIgnoresTheLearnedEpsilon(t *testing.T) {
	// Without the robust setting, a mode and the members' ε must not touch the fit: runs
	// without --robust stay as they were. Update warm-starts, so the ε poked in stays.
	d, _ := cartData(5, 60, 10, oracle.Rater{ErrorRate: 0.2})
	more, _ := cartData(6, 20, 10, oracle.Rater{ErrorRate: 0.2})
	fit := func(mode RobustMode, poke bool) []float64 {
		c := smallConfig(5)
		c.Epochs = 3
		c.RobustMode = mode
		m, err := New(c, cartShape)
		if err != nil {
			t.Fatal(err)
		}
		grown := &Dataset{Train: d.Train, Val: d.Val}
		if _, err := m.Fit(grown); err != nil {
			t.Fatal(err)
		}
		if poke {
			m.members[0].eps = 0.4
		}
		grown.Train = append(append([]Comparison(nil), d.Train...), more.Train...)
		if _, err := m.Update(grown); err != nil {
			t.Fatal(err)
		}
		return append([]float64(nil), m.members[0].net.Params...)
	}
	a, b := fit("", false), fit(RobustEpsilon, true)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("parameter %d: %v as before, %v with RobustEpsilon's ε set but the setting off", i, a[i], b[i])
		}
	}
}
