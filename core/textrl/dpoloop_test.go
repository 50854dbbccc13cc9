package textrl

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/prefer-rlhf/prefer/core/dpo"
)

// TestDPORoundRef: with each round anchored on the policy it starts from (Config.DPORoundRef)
// a later round's pairs start at the DPO loss of log 2, as the first round's do; anchored on
// the reference they start where the earlier rounds left the policy. One epoch of one batch
// makes the epoch's stats those of the policy before its step.
func TestDPORoundRef(t *testing.T) {
	w, m := world(t)
	train, _ := splitPrompts(w, false)
	rng := rand.New(rand.NewPCG(1, 2))
	prompts := make([][]int, 0, 48)
	for range 24 {
		p := train[rng.IntN(len(train))]
		prompts = append(prompts, p, p)
	}
	conts, err := sample(m, rng, prompts, task.Length)
	if err != nil {
		t.Fatal(err)
	}
	var pairs []dpo.Pair
	for k := 0; k < len(prompts); k += 2 {
		pairs = append(pairs, dpo.Pair{Prompt: prompts[k], Left: conts[k], Right: conts[k+1], Mu: float64(k / 2 % 2)})
	}
	losses := func(roundRef bool) []float64 {
		c := tinyConfig(DPO)
		c.DPOEpochs, c.DPO.Batch, c.DPORoundRef = 1, len(pairs), roundRef
		tu := newDPOTuner(c, m, nil, task.Length)
		var out []float64
		for range 3 {
			st, _, err := tu.train(pairs, nil)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, st.Loss)
		}
		return out
	}
	fixed, moving := losses(false), losses(true)
	t.Logf("round losses anchored on the reference %.4f, on the round's start %.4f", fixed, moving)
	for r := range 3 {
		if math.Abs(moving[r]-math.Ln2) > 1e-9 {
			t.Errorf("round %d with a moving anchor starts at loss %v, want log 2", r, moving[r])
		}
	}
	if math.Abs(fixed[0]-math.Ln2) > 1e-9 || !(fixed[2] < math.Ln2-1e-3) {
		t.Errorf("anchored on the reference the rounds start at %v, want log 2 then lower", fixed)
	}
}

// TestDPOOutBias: the DPO policy with an output bias (Config.DPOOutBias) starts as the
// reference, to the log-probability and at KL 0; DPO then moves the bias, by Adam's step
// size per step, so a bias step size ten times the rest's moves it further.
func TestDPOOutBias(t *testing.T) {
	w, m := world(t)
	train, _ := splitPrompts(w, false)
	pairs := strictPairs(t, m, train, rand.New(rand.NewPCG(3, 4)), 32)
	moved := func(biasLR float64) float64 {
		c := tinyConfig(DPO)
		c.DPOEpochs, c.DPOLR, c.DPOOutBias, c.DPOBiasLR, c.DPOKLBudget, c.DPOKLSamples = 1, 1e-4, true, biasLR, 100, 64
		tu := newDPOTuner(c, m, train, task.Length)
		if !tu.policy.Config.OutBias || len(tu.policy.Params) != len(m.Params)+m.Config.Vocab {
			t.Fatalf("policy OutBias %v with %d parameters, the reference %d", tu.policy.Config.OutBias, len(tu.policy.Params), len(m.Params))
		}
		ref := &dpoModel{m: m}
		for _, p := range pairs {
			if a, b := tu.dm.LogProb(p.Prompt, p.Left), ref.LogProb(p.Prompt, p.Left); a != b {
				t.Fatalf("at zero bias log π %v, log π_ref %v", a, b)
			}
		}
		if kl, _, err := tu.kl(); err != nil || kl != 0 {
			t.Fatalf("at zero bias KL %v (%v)", kl, err)
		}
		if _, _, err := tu.train(pairs, nil); err != nil {
			t.Fatal(err)
		}
		biggest := 0.0
		for _, v := range tu.policy.Params[len(m.Params):] {
			biggest = max(biggest, math.Abs(v))
		}
		return biggest
	}
	shared, own := moved(0), moved(1e-3)
	t.Logf("largest bias after one epoch: %.2e at the trunk's step size, %.2e at ten times it", shared, own)
	if !(shared > 0) || !(own > 3*shared) {
		t.Errorf("the bias moved by %v stepped with the rest, %v at its own step size ten times larger", shared, own)
	}
}
