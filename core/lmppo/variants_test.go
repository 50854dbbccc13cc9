package lmppo

import (
	"math"
	"testing"

	"github.com/prefer-rlhf/prefer/core/lm"
)

// TestLeaveOneOut: each token's advantage is its return-to-go less the mean of the other
// continuations of its prompt at the same position.
func TestLeaveOneOut(t *testing.T) {
	// 4 continuations of 2 tokens, groups {0,1} and {2,3}; layout [t][e].
	rewards := []float64{
		0, 1, 0, 0, // token 0
		1, 0, 2, 4, // token 1
	}
	adv, ret := make([]float64, 8), make([]float64, 8)
	leaveOneOut(rewards, 4, 2, 2, 1, adv, ret)
	wantRet := []float64{1, 1, 2, 4, 1, 0, 2, 4}
	wantAdv := []float64{0, 0, -2, 2, 1, -1, -2, 2}
	for k := range ret {
		if ret[k] != wantRet[k] || adv[k] != wantAdv[k] {
			t.Fatalf("ret %v adv %v, want %v and %v", ret, adv, wantRet, wantAdv)
		}
	}
}

// TestGroupLearnsWithoutValueHead: with the leave-one-out baseline PPO learns the tiny task,
// its rollouts continue each prompt Group times, and the value head is never trained.
func TestGroupLearnsWithoutValueHead(t *testing.T) {
	c := tinyConfig()
	c.Beta, c.Group = 0.7, 4
	first, last, tr := run(t, c, 25)
	t.Logf("score %.2f -> %.2f, KL %.2f -> %.2f", first.Score, last.Score, first.KL, last.KL)
	if last.Score < 1.5 || last.Score < 3*first.Score {
		t.Errorf("score %.2f -> %.2f: PPO with the leave-one-out baseline did not learn", first.Score, last.Score)
	}
	for i, w := range tr.Head {
		if w != 0 {
			t.Fatalf("value head weight %d is %v: trained though Group replaces it", i, w)
		}
	}
	r, err := tr.rollout(tr.sampler)
	if err != nil {
		t.Fatal(err)
	}
	T := len(r.seqs) / c.Batch
	for i := 0; i < c.Batch; i++ {
		g := i - i%c.Group
		for p := range 2 {
			if r.seqs[i*T+p] != r.seqs[g*T+p] {
				t.Fatalf("continuation %d's prompt differs from its group's first", i)
			}
		}
	}
}

// TestExactKLHoldsToReference: with the exact penalty, as with the sampled one, a large β keeps
// the policy near the reference and a small one lets it go, and at a like β the exact penalty
// learns the task.
func TestExactKLHoldsToReference(t *testing.T) {
	lo, hi := tinyConfig(), tinyConfig()
	lo.Beta, hi.Beta, lo.ExactKL, hi.ExactKL = 0.05, 2, true, true
	_, a, _ := run(t, lo, 15)
	_, b, _ := run(t, hi, 15)
	t.Logf("exact, β %.2f: KL %.2f score %.2f; β %.2f: KL %.2f score %.2f", lo.Beta, a.KL, a.Score, hi.Beta, b.KL, b.Score)
	if !(b.KL < a.KL/3) {
		t.Errorf("KL %.2f with β = %v, %.2f with β = %v: the exact penalty did not hold the policy", b.KL, hi.Beta, a.KL, lo.Beta)
	}
	if a.Score < 1.5 {
		t.Errorf("score %.2f at β %v: PPO with the exact penalty did not learn", a.Score, lo.Beta)
	}
}

// TestDetachValueLeavesTrunk: with DetachValue the value loss moves the head but not the trunk:
// the trunk's gradient is the same whatever the value coefficient.
func TestDetachValueLeavesTrunk(t *testing.T) {
	grads := make([][]float64, 2)
	for v, coef := range []float64{0, 5} {
		ref, prompts := tiny(t)
		c := tinyConfig()
		c.Batch, c.ValueCoef, c.DetachValue = 4, coef, true
		tr, err := New(c, ref, prompts, countThree)
		if err != nil {
			t.Fatal(err)
		}
		for i := range tr.Head {
			tr.Head[i] = 0.1
		}
		r, err := tr.rollout(tr.sampler)
		if err != nil {
			t.Fatal(err)
		}
		P, L := len(prompts[0]), c.Length
		n := c.Batch * L
		old, adv, ret := make([]float64, n), make([]float64, n), make([]float64, n)
		if err := tr.scoreTokens(tr.Policy, &tr.ws, r.seqs, c.Batch, P+L, P, old, nil); err != nil {
			t.Fatal(err)
		}
		for k := range adv {
			adv[k], ret[k] = float64(k%3)-1, 2
		}
		tr.lossGrad(r.seqs, []int{0, 1, 2, 3}, P+L, P, old, adv, ret, false)
		grads[v] = append([]float64(nil), tr.grad...)
		if k := len(tr.Policy.Params); coef > 0 && grads[v][k] == 0 {
			t.Fatal("the value head got no gradient")
		}
	}
	for i := range len(grads[0]) - 17 {
		if math.Abs(grads[0][i]-grads[1][i]) > 1e-12 {
			t.Fatalf("trunk parameter %d: gradient %v with value coefficient 0, %v with 5", i, grads[0][i], grads[1][i])
		}
	}
}

// TestOutBiasLearns: with an output bias PPO learns the tiny task, the first ratio is still
// exactly 1, the reference keeps its shape, and the bias moves most on the rewarded token.
func TestOutBiasLearns(t *testing.T) {
	c := tinyConfig()
	c.Beta, c.OutBias, c.BiasLR = 0.7, true, 3e-2
	first, last, tr := run(t, c, 25)
	t.Logf("score %.2f -> %.2f, KL %.2f -> %.2f", first.Score, last.Score, first.KL, last.KL)
	if first.StartRatio != 0 {
		t.Errorf("first |ratio − 1| %v, want 0", first.StartRatio)
	}
	if last.Score < 1.5 || last.Score < 3*first.Score {
		t.Errorf("score %.2f -> %.2f: PPO with an output bias did not learn", first.Score, last.Score)
	}
	if tr.ref.Config.OutBias || len(tr.Policy.Params) != len(tr.ref.Params)+11 {
		t.Fatalf("reference OutBias %v, policy %d parameters for the reference's %d", tr.ref.Config.OutBias, len(tr.Policy.Params), len(tr.ref.Params))
	}
	bias := tr.Policy.Params[len(tr.ref.Params):]
	for id, b := range bias {
		if id != 3 && b >= bias[3] {
			t.Errorf("bias %v: token %d's is not below the rewarded token 3's", bias, id)
			break
		}
	}
	c.BiasLR = 0
	if err := c.Validate(); err == nil {
		t.Error("an output bias with no step size was accepted")
	}
}

// TestEntropyBonusKeepsSpread: with a small β the count-of-3 task drives the policy toward
// "3 3 3 3 3 3"; the entropy bonus (Config.EntCoef) keeps its next-token distributions
// spread, at a cost in score but still learning, and Stats.Entropy reports the spread.
func TestEntropyBonusKeepsSpread(t *testing.T) {
	lo, hi := tinyConfig(), tinyConfig()
	lo.Beta, hi.Beta, hi.EntCoef = 0.05, 0.05, 0.5
	first, a, trLo := run(t, lo, 15)
	_, b, trHi := run(t, hi, 15)
	ha, hb := firstEntropy(t, trLo), firstEntropy(t, trHi)
	t.Logf("entropy of the first token: %.3f without the bonus (score %.2f -> %.2f), %.3f with it (score %.2f, Stats.Entropy %.3f); uniform %.3f",
		ha, first.Score, a.Score, hb, b.Score, b.Entropy, math.Log(11))
	if !(hb > ha+0.3) {
		t.Errorf("first-token entropy %.3f with the bonus, %.3f without: the bonus did not keep the spread", hb, ha)
	}
	if a.Entropy != 0 || !(b.Entropy > 0.5 && b.Entropy < math.Log(11)) {
		t.Errorf("Stats.Entropy %v without the bonus, %v with it", a.Entropy, b.Entropy)
	}
	if !(b.Score > 1.5*first.Score) {
		t.Errorf("score %.2f -> %.2f with the bonus: PPO did not learn", first.Score, b.Score)
	}
}

// firstEntropy is the mean over tr's prompts of the policy's entropy at the first
// continuation token, nats.
func firstEntropy(t *testing.T, tr *Trainer) float64 {
	t.Helper()
	V := tr.Policy.Config.Vocab
	lp := make([]float64, V)
	var ws lm.Workspace
	var h float64
	for _, p := range tr.prompts {
		seq := append(append([]int(nil), p...), 0)
		if err := tr.Policy.LogProbs(&ws, seq, 1, len(seq), 1, make([]float64, len(seq)-1)); err != nil {
			t.Fatal(err)
		}
		lm.LogSoftmax(lp, ws.Logits[(len(p)-1)*V:len(p)*V], 1)
		h += entropy(lp) / float64(len(tr.prompts))
	}
	return h
}
