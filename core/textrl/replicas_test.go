package textrl

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/prefer-rlhf/prefer/core/dpo"
	"github.com/prefer-rlhf/prefer/core/lm"
)

// TestMergeReplicas: replicas trained on the same pairs in their own orders end apart, and
// merging leaves each holding the mean of their weights, whose KL it reports.
func TestMergeReplicas(t *testing.T) {
	w, m := world(t)
	train, _ := splitPrompts(w, false)
	pairs := strictPairs(t, m, train, rand.New(rand.NewPCG(5, 6)), 32)
	c := tinyConfig(DPO)
	c.DPOEpochs, c.DPOLR, c.DPO.Batch, c.DPOKLBudget, c.DPOKLSamples = 1, 1e-3, 8, 100, 64
	var ts []*dpoTuner
	for k := range 3 {
		tu := newDPOTuner(c, m, train, task.Length)
		tu.replica = uint64(k)
		if _, _, err := tu.train(pairs, nil); err != nil {
			t.Fatal(err)
		}
		ts = append(ts, tu)
	}
	if slices.Equal(ts[0].policy.Params, ts[1].policy.Params) || slices.Equal(ts[1].policy.Params, ts[2].policy.Params) {
		t.Fatal("replicas in their own orders of the pairs ended at the same weights")
	}
	want := make([]float64, len(m.Params))
	for _, tu := range ts {
		for i, v := range tu.policy.Params {
			want[i] += v / 3
		}
	}
	kl, err := mergeReplicas(ts)
	if err != nil {
		t.Fatal(err)
	}
	for k, tu := range ts {
		for i, v := range tu.policy.Params {
			if d := v - want[i]; d > 1e-12 || d < -1e-12 {
				t.Fatalf("replica %d parameter %d: %v after the merge, the mean is %v", k, i, v, want[i])
			}
		}
	}
	own, _, err := ts[0].kl()
	if err != nil {
		t.Fatal(err)
	}
	if !(kl > 0) || kl != own {
		t.Errorf("merged KL %v reported, %v measured", kl, own)
	}
}

// TestDPOReplicasRun: a DPO run with replicas reports them, stays within its KL budget and
// learns; its gold differs from one policy's, so the replicas took part.
func TestDPOReplicasRun(t *testing.T) {
	w, m := world(t)
	c := tinyConfig(DPO)
	c.DPORounds, c.DPOKLBudget = 3, 1
	one, err := Run(c, w, task, m, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.DPOReplicas = 3
	three, err := Run(c, w, task, m, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("one policy: gold %.3f -> %.3f at KL %.2f; 3 replicas: gold %.3f at KL %.2f", one.GoldBefore, one.GoldAfter, one.KL, three.GoldAfter, three.KL)
	if one.Replicas != 0 || three.Replicas != 3 {
		t.Errorf("replicas reported %d and %d, want 0 and 3", one.Replicas, three.Replicas)
	}
	if three.GoldAfter == one.GoldAfter || !(three.GoldAfter > three.GoldBefore) || !(three.KL < 1.6) {
		t.Errorf("3 replicas: gold %.4f -> %.4f (one policy %.4f) at KL %.2f", three.GoldBefore, three.GoldAfter, one.GoldAfter, three.KL)
	}
	c.DPOReplicas = -1
	if err := c.Validate(); err == nil {
		t.Error("-1 replicas passed Validate")
	}
}

// strictPairs is n pairs of two continuations by m of a training prompt drawn by rng, the
// left preferred.
func strictPairs(t *testing.T, m *lm.Model, train [][]int, rng *rand.Rand, n int) []dpo.Pair {
	t.Helper()
	var pairs []dpo.Pair
	for range n {
		p := train[rng.IntN(len(train))]
		c, err := sample(m, rng, [][]int{p, p}, task.Length)
		if err != nil {
			t.Fatal(err)
		}
		pairs = append(pairs, dpo.Pair{Prompt: p, Left: c[0], Right: c[1], Mu: 1})
	}
	return pairs
}
