package textrl

import "testing"

// TestDPOExtrapolate: the same DPO run (training is deterministic for a seed), extrapolated to
// a larger KL budget, ends further along DPO's line, within the new budget, with more gold; a
// budget DPO has already spent leaves the policy where DPO left it.
func TestDPOExtrapolate(t *testing.T) {
	w, m := world(t)
	c := tinyConfig(DPO)
	c.DPORounds, c.DPOKLBudget = 3, 1
	base, err := Run(c, w, task, m, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.DPOExtrapolate = 2
	far, err := Run(c, w, task, m, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("DPO: gold %.3f at KL %.2f; extrapolated to η %.2f: gold %.3f at KL %.2f", base.GoldAfter, base.KL, far.ExtrapolationEta, far.GoldAfter, far.KL)
	if base.ExtrapolationEta != 0 || far.ExtrapolationKL != 2 || !(far.ExtrapolationEta > 1) {
		t.Fatalf("η %v without extrapolation, %v with a budget of %v", base.ExtrapolationEta, far.ExtrapolationEta, far.ExtrapolationKL)
	}
	if !(far.KL > base.KL) || !(far.KL < 2.6) {
		t.Errorf("KL %.2f -> %.2f extrapolated within 2 nats on the training prompts", base.KL, far.KL)
	}
	if !(far.GoldAfter > base.GoldAfter) {
		t.Errorf("gold %.3f -> %.3f: the extrapolation bought none", base.GoldAfter, far.GoldAfter)
	}
	c.DPOExtrapolateStep = 0.01 // a finer grid ends at least as far along, still within the budget
	fine, err := Run(c, w, task, m, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("in steps of 0.01: η %.2f, gold %.3f at KL %.2f", fine.ExtrapolationEta, fine.GoldAfter, fine.KL)
	if fine.ExtrapolationStep != 0.01 || !(fine.ExtrapolationEta >= far.ExtrapolationEta) || fine.ExtrapolationEta >= far.ExtrapolationEta+0.05 || !(fine.KL < 2.6) {
		t.Errorf("step %v: η %.2f against %.2f in steps of 0.05, KL %.2f", fine.ExtrapolationStep, fine.ExtrapolationEta, far.ExtrapolationEta, fine.KL)
	}
	c.DPOExtrapolateStep = 0.05
	c.DPOExtrapolate = 0.5 // under what DPO spent
	same, err := Run(c, w, task, m, nil)
	if err != nil {
		t.Fatal(err)
	}
	if same.ExtrapolationEta != 1 || same.KL != base.KL || same.GoldAfter != base.GoldAfter {
		t.Errorf("a spent budget: η %v, KL %.4f (DPO's %.4f), gold %.4f (%.4f)", same.ExtrapolationEta, same.KL, base.KL, same.GoldAfter, base.GoldAfter)
	}
	c.DPOExtrapolate = -1
	if err := c.Validate(); err == nil {
		t.Error("a negative extrapolation budget passed Validate")
	}
	c.DPOExtrapolate = 2
	for _, step := range []float64{0, -0.05, 1.5} {
		c.DPOExtrapolateStep = step
		if err := c.Validate(); err == nil {
			t.Errorf("an extrapolation step of %v passed Validate", step)
		}
	}
}
