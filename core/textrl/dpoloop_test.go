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
