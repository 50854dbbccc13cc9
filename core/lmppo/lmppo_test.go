package lmppo

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/prefer-rlhf/prefer/core/lm"
)

// tiny is a small reference model and prompts: a 1-layer model of 11 tokens, initialised at
// random, so its next-token distribution is near uniform.
func tiny(t *testing.T) (*lm.Model, [][]int) {
	t.Helper()
	c := lm.DefaultConfig()
	c.Vocab, c.Ctx, c.Dim, c.Layers, c.Heads = 11, 12, 16, 1, 2
	m, err := lm.New(c, 5)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	for i := range m.Params {
		m.Params[i] += rng.NormFloat64() * 0.05 // a reference that is not exactly uniform
	}
	return m, [][]int{{1, 2}, {4, 5}, {6, 7}, {8, 9}}
}

// countThree is the tiny task's reward: how many times token 3 occurs in the continuation.
func countThree(_, cont []int) float64 {
	n := 0.0
	for _, id := range cont {
		if id == 3 {
			n++
		}
	}
	return n
}

func tinyConfig() Config {
	c := Defaults()
	c.Batch, c.Length, c.Minibatch, c.LR, c.KLTarget = 32, 6, 8, 3e-3, 0
	return c
}

// TestRatioIsOneBeforeTheFirstUpdate: the rollout's log-probabilities and the first
// minibatch's are the same computation on the same parameters, so π/π_old is exactly 1.
func TestRatioIsOneBeforeTheFirstUpdate(t *testing.T) {
	ref, prompts := tiny(t)
	tr, err := New(tinyConfig(), ref, prompts, countThree)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		st, err := tr.Step()
		if err != nil {
			t.Fatal(err)
		}
		if st.StartRatio != 0 {
			t.Fatalf("ratio before the first update differs from 1 by %g", st.StartRatio)
		}
		if st.ClipFrac == 0 && st.PolicyLoss == 0 {
			t.Fatal("no update happened")
		}
	}
}

// TestTemperedReference: a reference tempered at 0.7 (lm.Model.Temper, the default model's
// temperature) is sampled and scored through the one softmax, so the ratio is exactly 1
// before the first update and the first rollout's KL, the policy still equal to the
// reference, is exactly 0.
func TestTemperedReference(t *testing.T) {
	ref, prompts := tiny(t)
	if err := ref.Temper(0.7); err != nil {
		t.Fatal(err)
	}
	tr, err := New(tinyConfig(), ref, prompts, countThree)
	if err != nil {
		t.Fatal(err)
	}
	st, err := tr.Step()
	if err != nil {
		t.Fatal(err)
	}
	if st.StartRatio != 0 || st.KL != 0 {
		t.Fatalf("ratio off 1 by %g, KL %g nats before the first update", st.StartRatio, st.KL)
	}
	if st, err = tr.Step(); err != nil {
		t.Fatal(err)
	}
	if st.StartRatio != 0 || st.KL == 0 {
		t.Fatalf("second rollout: ratio off 1 by %g, KL %g after an update", st.StartRatio, st.KL)
	}
}

func run(t *testing.T, c Config, iters int) (first, last Stats, tr *Trainer) {
	t.Helper()
	ref, prompts := tiny(t)
	tr, err := New(c, ref, prompts, countThree)
	if err != nil {
		t.Fatal(err)
	}
	first, last = steps(t, tr, iters)
	return first, last, tr
}

// steps runs iters Steps of tr, returning the first's and the last's stats.
func steps(t *testing.T, tr *Trainer, iters int) (first, last Stats) {
	t.Helper()
	for i := range iters {
		st, err := tr.Step()
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = st
		}
		last = st
	}
	return first, last
}

// TestLearnsToCountTokens: the score (count of token 3 in 6 tokens, about 6/11 under the
// reference) rises severalfold while the KL penalty keeps the policy short of the
// deterministic "3 3 3 3 3 3", whose KL is about 6·log 11 ≈ 14 nats.
func TestLearnsToCountTokens(t *testing.T) {
	c := tinyConfig()
	c.Beta = 0.7
	first, last, _ := run(t, c, 25)
	t.Logf("score %.2f -> %.2f, KL %.2f -> %.2f", first.Score, last.Score, first.KL, last.KL)
	if last.Score < 1.5 || last.Score < 3*first.Score {
		t.Errorf("score %.2f -> %.2f: PPO did not learn", first.Score, last.Score)
	}
	if last.KL > 6 {
		t.Errorf("KL %.2f nats: the policy ran away from the reference", last.KL)
	}
}

// TestKLPenaltyHoldsToReference: the same run with a large β ends much nearer the reference.
func TestKLPenaltyHoldsToReference(t *testing.T) {
	lo, hi := tinyConfig(), tinyConfig()
	lo.Beta, hi.Beta = 0.05, 2
	_, a, _ := run(t, lo, 15)
	_, b, _ := run(t, hi, 15)
	t.Logf("β %.2f: KL %.2f score %.2f; β %.2f: KL %.2f score %.2f", lo.Beta, a.KL, a.Score, hi.Beta, b.KL, b.Score)
	if !(b.KL < a.KL/3) {
		t.Errorf("KL %.2f with β = %v, %.2f with β = %v: the penalty did not hold the policy", b.KL, hi.Beta, a.KL, lo.Beta)
	}
}

// TestAdaptiveBetaMovesTowardTarget: with a KL target far below what the reward pulls to, β
// grows.
func TestAdaptiveBetaMovesTowardTarget(t *testing.T) {
	c := tinyConfig()
	c.Beta, c.KLTarget = 0.05, 0.01
	_, last, tr := run(t, c, 8)
	if !(tr.KL.Beta > c.Beta) || last.Beta <= c.Beta {
		t.Errorf("β %v -> %v with KL %.3f above the target %v", c.Beta, tr.KL.Beta, last.KL, c.KLTarget)
	}
}

func TestNewRejects(t *testing.T) {
	ref, prompts := tiny(t)
	bad := tinyConfig()
	bad.Length = 20
	if _, err := New(bad, ref, prompts, countThree); err == nil {
		t.Error("a continuation past the context was accepted")
	}
	if _, err := New(tinyConfig(), ref, [][]int{{1, 2}, {3}}, countThree); err == nil {
		t.Error("prompts of different lengths were accepted")
	}
	bad = tinyConfig()
	bad.ClipEps = 0
	if _, err := New(bad, ref, prompts, countThree); err == nil {
		t.Error("ε = 0 was accepted")
	}
}

// TestLossGradient checks lossGrad's gradient (through the policy's log-probabilities, the
// value head and the trunk under it) against central differences of its loss, with the policy
// moved off the rollout's so that ratios differ from 1 but stay inside the clip range.
func TestLossGradient(t *testing.T) { checkLossGradient(t, false, false) }

// TestLossGradientExactKL checks Config.ExactKL's loss term (the exact per-state KL to the
// reference) against central differences, beside the surrogate and the value loss.
func TestLossGradientExactKL(t *testing.T) { checkLossGradient(t, true, false) }

// TestLossGradientEntropy checks Config.EntCoef's entropy bonus against central differences,
// alone and beside the exact KL term, which shares its pass over the vocabulary.
func TestLossGradientEntropy(t *testing.T) {
	checkLossGradient(t, false, true)
	checkLossGradient(t, true, true)
}

func checkLossGradient(t *testing.T, exact, ent bool) {
	ref, prompts := tiny(t)
	c := tinyConfig()
	c.Batch, c.ClipEps, c.ValueCoef, c.ExactKL = 4, 10, 0.7, exact
	if ent {
		c.EntCoef = 0.5
	}
	tr, err := New(c, ref, prompts, countThree)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(9, 9))
	for i := range tr.Head {
		tr.Head[i] = rng.NormFloat64() * 0.3
	}
	r, err := tr.rollout(tr.sampler)
	if err != nil {
		t.Fatal(err)
	}
	P, L := len(prompts[0]), c.Length
	T, n := P+L, c.Batch*L
	old, vals := make([]float64, n), make([]float64, n)
	if err := tr.scoreTokens(tr.Policy, &tr.ws, r.seqs, c.Batch, T, P, old, vals); err != nil {
		t.Fatal(err)
	}
	if exact {
		if err := tr.scoreTokens(tr.ref, &tr.wsRef, r.seqs, c.Batch, T, P, make([]float64, n), nil); err != nil {
			t.Fatal(err)
		}
		tr.exactKL(c.Batch, T, P)
		tr.klScale = 3
	}
	if ent {
		tr.entScale = 2
	}
	adv, ret := make([]float64, n), make([]float64, n)
	for k := range adv {
		adv[k], ret[k] = rng.NormFloat64(), rng.NormFloat64()
	}
	for i := range tr.Policy.Params {
		tr.Policy.Params[i] += rng.NormFloat64() * 0.02
	}
	idx := []int{2, 0, 3}
	loss := func() float64 {
		u := tr.lossGrad(r.seqs, idx, T, P, old, adv, ret, false)
		return u.policyLoss + c.ValueCoef*u.valueLoss + u.klLoss + u.entLoss
	}
	loss()
	u := tr.lossGrad(r.seqs, idx, T, P, old, adv, ret, false)
	if exact && !(u.klLoss > 1e-4) {
		t.Fatalf("exact KL term %v after the policy moved: missing", u.klLoss)
	}
	if ent != (u.entLoss < -1e-4) || ent != (u.entropy > 0.1) {
		t.Fatalf("entropy term %v (entropy %v) with EntCoef %v", u.entLoss, u.entropy, c.EntCoef)
	}
	grad := append([]float64(nil), tr.grad...)
	params := append(append([]float64(nil), tr.Policy.Params...), tr.Head...)
	set := func(i int, v float64) {
		if i < len(tr.Policy.Params) {
			tr.Policy.Params[i] = v
		} else {
			tr.Head[i-len(tr.Policy.Params)] = v
		}
	}
	const h = 1e-5
	for k := range 60 {
		i := rng.IntN(len(params))
		if k < 17 {
			i = len(tr.Policy.Params) + k // every head parameter
		}
		set(i, params[i]+h)
		up := loss()
		set(i, params[i]-h)
		down := loss()
		set(i, params[i])
		num := (up - down) / (2 * h)
		if d := math.Abs(num - grad[i]); d > 1e-6 && d > 1e-4*(math.Abs(num)+math.Abs(grad[i])) {
			t.Errorf("parameter %d: gradient %.8g, central difference %.8g", i, grad[i], num)
		}
	}
}

// TestPtxHoldsToThePretrainingText: with PPO-ptx's term (a stream without token 3, which the
// reward asks for), the policy's next-token loss on that stream ends lower than without it,
// and the policy still learns; a token outside the vocabulary and a negative γ are errors.
func TestPtxHoldsToThePretrainingText(t *testing.T) {
	stream := make([]int, 400)
	rng := rand.New(rand.NewPCG(2, 2))
	for i := range stream {
		stream[i] = []int{1, 2, 4, 5}[rng.IntN(4)]
	}
	train := func(coef float64) (float64, Stats) {
		c := tinyConfig()
		c.Beta, c.PtxCoef = 0.05, coef
		ref, prompts := tiny(t)
		tr, err := New(c, ref, prompts, countThree)
		if err != nil {
			t.Fatal(err)
		}
		if err := tr.SetPretrain(stream); err != nil {
			t.Fatal(err)
		}
		var st Stats
		for range 15 {
			if st, err = tr.Step(); err != nil {
				t.Fatal(err)
			}
		}
		nll, err := lm.HeldOutLoss(tr.Policy, stream)
		if err != nil {
			t.Fatal(err)
		}
		return nll, st
	}
	without, a := train(0)
	with, b := train(2)
	t.Logf("NLL on the pretraining stream: %.3f without ptx (score %.2f), %.3f with γ 2 (score %.2f)", without, a.Score, with, b.Score)
	if !(with < without-0.1) {
		t.Errorf("NLL %.3f with ptx, %.3f without: the term did not hold the policy to the stream", with, without)
	}
	if !(b.Score > 1) {
		t.Errorf("score %.2f with ptx: PPO did not learn", b.Score)
	}
	ref, prompts := tiny(t)
	tr, _ := New(tinyConfig(), ref, prompts, countThree)
	if err := tr.SetPretrain([]int{1, 11}); err == nil {
		t.Error("a token outside the vocabulary accepted")
	}
	bad := tinyConfig()
	bad.PtxCoef = -1
	if err := bad.Validate(); err == nil {
		t.Error("a negative ptx coefficient accepted")
	}
}
