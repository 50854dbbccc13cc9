package reward

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/prefer-rlhf/prefer/core/oracle"
)

func TestCombine(t *testing.T) {
	r := []float64{1, 3, 5}
	if v := combine(ObjectiveMean, 0, r); v != 3 {
		t.Errorf("mean %v", v)
	}
	if v := combine(ObjectiveMin, 0, r); v != 1 {
		t.Errorf("min %v", v)
	}
	// std of {1, 3, 5} is sqrt(8/3).
	if v, want := combine(ObjectiveUWO, 0.5, r), 3-0.5*math.Sqrt(8.0/3); math.Abs(v-want) > 1e-12 {
		t.Errorf("uwo %v, want %v", v, want)
	}
	if _, err := ParseObjective("max"); err == nil {
		t.Error("unknown objective accepted")
	}
}

func TestObjectivesOnAFittedEnsemble(t *testing.T) {
	d, _ := cartData(4, 200, 10, oracle.Rater{})
	m, err := New(smallConfig(4), cartShape)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Fit(d); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	n := 50
	obs := make([]float64, 4*n)
	act := make([]float64, n)
	for i := range obs {
		obs[i] = rng.NormFloat64()
	}
	for i := range act {
		act[i] = float64(rng.IntN(2))
	}
	out := func(obj Objective, lambda float64) []float64 {
		c, err := m.WithObjective(obj, lambda)
		if err != nil {
			t.Fatal(err)
		}
		o := make([]float64, n)
		c.Rewards(obs, act, nil, n, o)
		return o
	}
	plain := make([]float64, n)
	m.Rewards(obs, act, nil, n, plain)
	mean, lo, uwo, uwo0 := out(ObjectiveMean, 0), out(ObjectiveMin, 0), out(ObjectiveUWO, 1), out(ObjectiveUWO, 0)
	spread := 0.0
	for j := 0; j < n; j++ {
		if math.Abs(mean[j]-plain[j]) > 1e-9 || math.Abs(uwo0[j]-plain[j]) > 1e-9 {
			t.Fatalf("transition %d: mean %v, uwo λ=0 %v, Model.Rewards %v", j, mean[j], uwo0[j], plain[j])
		}
		if lo[j] > mean[j]+1e-12 || uwo[j] > mean[j]+1e-12 {
			t.Fatalf("transition %d: a conservative reward above the mean: min %v uwo %v mean %v", j, lo[j], uwo[j], mean[j])
		}
		spread += mean[j] - lo[j]
	}
	if !(spread > 0) {
		t.Error("members agree exactly everywhere: the test shows nothing")
	}
	if _, err := m.WithObjective(ObjectiveUWO, -1); err == nil {
		t.Error("negative λ accepted")
	}
}
