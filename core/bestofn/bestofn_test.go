package bestofn

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestKLMatchesExact computes the exact KL of best-of-n over a uniform reference on M items
// with distinct scores, where the best of n is item i (by rank) with probability
// (i/M)ⁿ − ((i−1)/M)ⁿ, and checks the closed form, which is its limit as M grows.
func TestKLMatchesExact(t *testing.T) {
	const M = 200000
	for _, n := range []int{1, 2, 4, 16, 64} {
		kl := 0.0
		for i := 1; i <= M; i++ {
			p := math.Pow(float64(i)/M, float64(n)) - math.Pow(float64(i-1)/M, float64(n))
			if p > 0 {
				kl += p * math.Log(p*M)
			}
		}
		if math.Abs(kl-KL(n)) > 1e-3 {
			t.Errorf("n = %d: exact KL %.5f, closed form %.5f", n, kl, KL(n))
		}
	}
	if KL(1) != 0 || !math.IsNaN(KL(0)) {
		t.Error("KL(1) must be 0 and KL(0) NaN")
	}
}

func TestBestPicksTheHighestScore(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	var drawn []float64
	best, s := Best(8, func() float64 { x := rng.Float64(); drawn = append(drawn, x); return x }, func(x float64) float64 { return -math.Abs(x - 0.5) })
	if len(drawn) != 8 {
		t.Fatalf("drew %d samples, want 8", len(drawn))
	}
	for _, x := range drawn {
		if math.Abs(x-0.5) < math.Abs(best-0.5) {
			t.Fatalf("best %v, but %v is closer to 0.5", best, x)
		}
	}
	if s != -math.Abs(best-0.5) {
		t.Errorf("score %v of best %v", s, best)
	}
}
