package textrl

import (
	"strings"
	"testing"

	"github.com/prefer-rlhf/prefer/core/text"
)

// TestPPOKLBudget: the same PPO run (training is deterministic for a seed), held to a KL
// budget under what it spent on the validation prompts, ends back along the line toward the
// reference, within the budget there, with a lower KL on the held-out prompts too; a budget it
// has not spent leaves the policy where PPO left it.
func TestPPOKLBudget(t *testing.T) {
	w0, m := world(t)
	w := *w0
	// Validation prompts: never trained on without TrainPrompts, and unlike the tiny world's
	// three prompts, none of them a measured one.
	w.TrainPrompts = text.Prompts(w.Tok, []string{"Their film was long.", "This plot is thin.", "My film was fine.", "Her plot was slow.", "A film we saw.", "That plot was odd."}, 2)
	if len(w.TrainPrompts) < 3 || len(valPrompts(w.TrainPrompts, w.Prompts)) != len(w.TrainPrompts) {
		t.Fatalf("%d validation prompts, %d not measured", len(w.TrainPrompts), len(valPrompts(w.TrainPrompts, w.Prompts)))
	}
	c := tinyConfig(PPO)
	base, err := Run(c, &w, task, m, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.PPOKLBudget, c.PPOKLSamples = base.KL/2, 256
	held, err := Run(c, &w, task, m, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("PPO: gold %.3f at KL %.2f; at a budget of %.2f: η %.2f, validation KL %.2f -> %.2f, gold %.3f at KL %.2f",
		base.GoldAfter, base.KL, held.PPOKLBudget, held.BudgetEta, held.ValKLBefore, held.ValKL, held.GoldAfter, held.KL)
	if base.BudgetEta != 0 || held.PPOKLBudget != c.PPOKLBudget || !(held.BudgetEta < 1) || !(held.BudgetEta > 0) {
		t.Fatalf("η %v without a budget, %v with a budget of %v", base.BudgetEta, held.BudgetEta, held.PPOKLBudget)
	}
	if !(held.ValKL <= c.PPOKLBudget) || !(held.ValKLBefore > c.PPOKLBudget) {
		t.Errorf("validation KL %.3f -> %.3f, budget %.3f", held.ValKLBefore, held.ValKL, c.PPOKLBudget)
	}
	if !(held.KL < 0.75*base.KL) || !(held.GoldAfter < base.GoldAfter) {
		t.Errorf("held-out KL %.2f -> %.2f, gold %.3f -> %.3f: the budget did not pull the policy back", base.KL, held.KL, base.GoldAfter, held.GoldAfter)
	}
	c.PPOKLBudget = 10 * base.KL // not spent
	same, err := Run(c, &w, task, m, nil)
	if err != nil {
		t.Fatal(err)
	}
	if same.BudgetEta != 1 || same.KL != base.KL || same.GoldAfter != base.GoldAfter || same.ValKL != same.ValKLBefore {
		t.Errorf("an unspent budget: η %v, KL %.4f (PPO's %.4f), gold %.4f (%.4f)", same.BudgetEta, same.KL, base.KL, same.GoldAfter, base.GoldAfter)
	}

	c.TrainPrompts = true
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "TrainPrompts") {
		t.Errorf("a budget on prompts TrainPrompts trains on: %v", err)
	}
	c.TrainPrompts, c.PPOKLBudget = false, -1
	if err := c.Validate(); err == nil {
		t.Error("a negative budget passed Validate")
	}
	c.PPOKLBudget = 1
	if _, err := Run(c, w0, task, m, nil); err == nil || !strings.Contains(err.Error(), "validation prompts") {
		t.Errorf("a budget in a world without training prompts: %v", err)
	}
}
