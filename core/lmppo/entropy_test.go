package lmppo

import "testing"

// TestEntControllerRule: below the target the coefficient rises by Rate times the clipped
// relative gap, over it it falls but never under the floor, and without a target it stays.
func TestEntControllerRule(t *testing.T) {
	c := EntController{Coef: 0.01, Floor: 0.01, Target: 1, Rate: 0.1}
	if got := c.Update(0.9); !near(got, 0.01*1.01) {
		t.Errorf("entropy 0.9 under target 1: coefficient %v, want %v", got, 0.01*1.01)
	}
	if got := c.Update(0); !near(got, 0.01*1.01*1.02) {
		t.Errorf("entropy 0: coefficient %v, want the gap clipped at 0.2 (%v)", got, 0.01*1.01*1.02)
	}
	for range 10 {
		c.Update(3)
	}
	if c.Coef != c.Floor {
		t.Errorf("ten rollouts over the target left the coefficient at %v, floor %v", c.Coef, c.Floor)
	}
	f := EntController{Coef: 0.02, Floor: 0.02}
	if got := f.Update(0); got != 0.02 {
		t.Errorf("no target: coefficient moved to %v", got)
	}
}

func near(a, b float64) bool { return a-b < 1e-12 && b-a < 1e-12 }

// TestEntTargetHoldsEntropy: with a small β the count-of-3 task crowds the policy onto "3";
// a small fixed bonus lets the entropy fall, and the same bonus with a target above where it
// falls to raises its coefficient (Stats.EntCoef) while the entropy is under the target, which
// keeps more of the spread and still learns. Measured: entropy 0.54 with the fixed bonus,
// 0.88 with the target (coefficient 0.05 -> 0.12), score 0.38 -> 5.28 and 4.72.
func TestEntTargetHoldsEntropy(t *testing.T) {
	fixed, held := tinyConfig(), tinyConfig()
	fixed.Beta, fixed.EntCoef = 0.05, 0.05
	held.Beta, held.EntCoef, held.EntTarget, held.EntRate = 0.05, 0.05, 1.6, 1 // a fast rate: the tiny run is 15 rollouts
	first, a, _ := run(t, fixed, 15)
	_, b, _ := run(t, held, 15)
	t.Logf("fixed bonus 0.05: entropy %.3f -> %.3f, score %.2f -> %.2f; target %.1f: entropy %.3f, coefficient %.3f, score %.2f",
		first.Entropy, a.Entropy, first.Score, a.Score, held.EntTarget, b.Entropy, b.EntCoef, b.Score)
	if a.EntCoef != fixed.EntCoef || !(b.EntCoef > 2*held.EntCoef) {
		t.Errorf("coefficient %v with a fixed bonus, %v with the target", a.EntCoef, b.EntCoef)
	}
	if !(b.Entropy > a.Entropy+0.1) {
		t.Errorf("entropy %.3f with the target, %.3f with the fixed bonus", b.Entropy, a.Entropy)
	}
	if !(b.Score > 1.5*first.Score) {
		t.Errorf("score %.2f -> %.2f with the target: PPO did not learn", first.Score, b.Score)
	}
	bad := held
	bad.EntCoef = 0
	if bad.Validate() == nil {
		t.Error("an entropy target with no coefficient to start from was accepted")
	}
}
