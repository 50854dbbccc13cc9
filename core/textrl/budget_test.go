package textrl

import (
	"slices"
	"strings"
	"testing"

	"github.com/prefer-rlhf/prefer/core/text"
)

// valWorld is the tiny world with validation prompts: the world's training prompts, which are
// never trained on without Config.TrainPrompts and, unlike the tiny world's three prompts,
// none of them a measured one.
func valWorld(t *testing.T) *text.World {
	w0, _ := world(t)
	w := *w0
	w.TrainPrompts = text.Prompts(w.Tok, []string{"Their film was long.", "This plot is thin.", "My film was fine.", "Her plot was slow.", "A film we saw.", "That plot was odd."}, 2)
	if _, val := valSplit(&w, nil, w.Prompts, false); len(w.TrainPrompts) < 3 || len(val) != len(w.TrainPrompts) {
		t.Fatalf("%d validation prompts, %d not measured", len(w.TrainPrompts), len(val))
	}
	return &w
}

// TestValKLBudgetPullsBack: the same PPO run (training is deterministic for a seed), held to
// a KL budget under what it spent on the validation prompts, ends back along the line toward
// the reference, within the budget there, with a lower KL on the held-out prompts too; a
// budget it has not spent leaves the policy where PPO left it.
func TestValKLBudgetPullsBack(t *testing.T) {
	_, m := world(t)
	w := valWorld(t)
	c := tinyConfig(PPO)
	base, err := Run(c, w, task, m, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.ValKLBudget, c.ValKLSamples = base.KL/2, 256
	held, err := Run(c, w, task, m, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("PPO: gold %.3f at KL %.2f; at a budget of %.2f: η %.2f, validation KL %.2f -> %.2f, gold %.3f at KL %.2f",
		base.GoldAfter, base.KL, held.ValKLBudget, held.ValEta, held.ValKLTuned, held.ValKL, held.GoldAfter, held.KL)
	if base.ValEta != 0 || held.ValKLBudget != c.ValKLBudget || held.ValPrompts != len(w.TrainPrompts) || !(held.ValEta < 1) || !(held.ValEta > 0) {
		t.Fatalf("η %v without a budget, %v with a budget of %v on %d prompts", base.ValEta, held.ValEta, held.ValKLBudget, held.ValPrompts)
	}
	if !(held.ValKL <= c.ValKLBudget) || !(held.ValKLTuned > c.ValKLBudget) {
		t.Errorf("validation KL %.3f -> %.3f, budget %.3f", held.ValKLTuned, held.ValKL, c.ValKLBudget)
	}
	if !(held.KL < 0.75*base.KL) || !(held.GoldAfter < base.GoldAfter) {
		t.Errorf("held-out KL %.2f -> %.2f, gold %.3f -> %.3f: the budget did not pull the policy back", base.KL, held.KL, base.GoldAfter, held.GoldAfter)
	}
	c.ValKLBudget = 10 * base.KL // not spent
	same, err := Run(c, w, task, m, nil)
	if err != nil {
		t.Fatal(err)
	}
	if same.ValEta != 1 || same.KL != base.KL || same.GoldAfter != base.GoldAfter || same.ValKL != same.ValKLTuned {
		t.Errorf("an unspent budget: η %v, KL %.4f (PPO's %.4f), gold %.4f (%.4f)", same.ValEta, same.KL, base.KL, same.GoldAfter, base.GoldAfter)
	}

	c.ValKLBudget = 1
	if _, err := Run(c, tiny.w, task, m, nil); err == nil || !strings.Contains(err.Error(), "validation prompts") {
		t.Errorf("a budget in a world without training prompts: %v", err)
	}
	for _, bad := range []func(*Config){
		func(c *Config) { c.ValKLBudget = -1 },
		func(c *Config) { c.ValKLSamples = 0 },
		func(c *Config) { c.ValKLBudget, c.ValExtrapolate = 0, true },
		func(c *Config) { c.Method = BoN },
	} {
		b := c
		bad(&b)
		if err := b.Validate(); err == nil {
			t.Errorf("budget %v on %d samples, extrapolate %v, method %s passed Validate", b.ValKLBudget, b.ValKLSamples, b.ValExtrapolate, b.Method)
		}
	}
}

// TestValKLBudgetExtrapolates: the same DPO run, with ValExtrapolate and a budget over what
// it spent on the validation prompts, moves on past its end along the line from the
// reference (ExPO), within the budget there, with more KL and more gold on the held-out
// prompts.
func TestValKLBudgetExtrapolates(t *testing.T) {
	_, m := world(t)
	w := valWorld(t)
	c := tinyConfig(DPO)
	c.DPORounds, c.DPOKLBudget = 3, 1
	c.ValKLBudget, c.ValKLSamples = 100, 256 // not spent: the policy as DPO left it, measured
	base, err := Run(c, w, task, m, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.ValKLBudget, c.ValExtrapolate = 2*base.ValKLTuned, true
	far, err := Run(c, w, task, m, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("DPO: gold %.3f at KL %.2f (validation %.2f); to a budget of %.2f: η %.2f, validation KL %.2f, gold %.3f at KL %.2f",
		base.GoldAfter, base.KL, base.ValKLTuned, far.ValKLBudget, far.ValEta, far.ValKL, far.GoldAfter, far.KL)
	if base.ValEta != 1 || !(far.ValEta > 1) || !(far.ValKL <= far.ValKLBudget) || far.ValKLTuned != base.ValKLTuned {
		t.Fatalf("η %v, then %v at validation KL %v within %v", base.ValEta, far.ValEta, far.ValKL, far.ValKLBudget)
	}
	if !(far.KL > base.KL) || !(far.GoldAfter > base.GoldAfter) {
		t.Errorf("held-out KL %.2f -> %.2f, gold %.3f -> %.3f: the extrapolation bought nothing", base.KL, far.KL, base.GoldAfter, far.GoldAfter)
	}
}

// TestValSplit: without TrainPrompts the validation prompts are the world's training prompts
// that are not measured, and training keeps its prompts; with it, every tenth of those, and
// training loses every prompt equal to one of them.
func TestValSplit(t *testing.T) {
	p := func(a, b int) []int { return []int{a, b} }
	w := &text.World{TrainPrompts: [][]int{p(1, 1), p(2, 2), p(3, 3), p(4, 4), p(5, 5), p(6, 6), p(7, 7), p(8, 8), p(9, 9), p(10, 10), p(11, 11), p(12, 12)}}
	eval := [][]int{p(1, 1), p(20, 20)}
	train := [][]int{p(21, 21), p(11, 11), p(2, 2)}
	rest, val := valSplit(w, train, eval, false)
	if len(val) != 11 || slices.ContainsFunc(val, func(v []int) bool { return v[0] == 1 }) || len(rest) != 3 {
		t.Errorf("without training prompts: validation %v, training %v", val, rest)
	}
	train = append(train, w.TrainPrompts[1:]...)
	rest, val = valSplit(w, train, eval, true)
	if len(val) != 1 || val[0][0] != 11 || len(rest) != len(train)-2 || slices.ContainsFunc(rest, func(r []int) bool { return r[0] == 11 }) {
		t.Errorf("with training prompts: validation %v, training %v", val, rest)
	}
}
