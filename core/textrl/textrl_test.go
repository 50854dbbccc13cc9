package textrl

import (
	"encoding/json"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/prefer-rlhf/prefer/core/bestofn"
	"github.com/prefer-rlhf/prefer/core/lm"
	"github.com/prefer-rlhf/prefer/core/text"
	"github.com/prefer-rlhf/prefer/core/text/texttest"
)

// world is a tiny text world: reviews from a small grammar, half praising and half panning,
// a gold score counting praise words minus blame words, and a small model pretrained on them,
// built once for all the tests (Run does not change the model: TestPPORaisesGold checks it).
func world(t *testing.T) (*text.World, *lm.Model) {
	t.Helper()
	tiny.once.Do(func() { tiny.w, tiny.m, tiny.err = newWorld() })
	if tiny.err != nil {
		t.Fatal(tiny.err)
	}
	return tiny.w, tiny.m
}

var tiny struct {
	once sync.Once
	w    *text.World
	m    *lm.Model
	err  error
}

func newWorld() (*text.World, *lm.Model, error) {
	corpus := texttest.Corpus(texttest.Reviews(1500))
	tok := text.Train([]byte(corpus), 300)
	sents := text.Sentences([]byte(corpus))
	gold := texttest.Gold
	prompts := text.Prompts(tok, sents[1200:], 2)
	w := &text.World{Tok: tok, Prompts: prompts, Sentiment: gold, Vocab: text.Vocabulary(sents), Train: sents[:1200], HeldOut: sents[1200:]}
	c := lm.DefaultConfig()
	c.Vocab, c.Ctx, c.Dim, c.Layers, c.Heads, c.Batch, c.Warmup = tok.VocabSize(), 16, 24, 1, 2, 16, 20
	m, err := lm.New(c, 1)
	if err != nil {
		return nil, nil, err
	}
	if err := lm.Pretrain(m, tok.Encode(strings.Join(w.Train, "\n")), 300, 1, nil); err != nil {
		return nil, nil, err
	}
	return w, m, nil
}

func tinyConfig(method string) Config {
	c := Defaults()
	c.Method, c.Labels, c.Iters, c.EvalPerPrompt = method, 300, 30, 16
	c.Rounds, c.FinalShare, c.LogSigmoid = 1, 0, false
	c.PPO.Batch, c.PPO.Minibatch, c.PPO.LR, c.PPO.KLTarget, c.PPO.Beta = 32, 8, 1e-3, 0, 0.05
	c.PPO.PtxCoef = 0 // plain PPO: TestPPOPtxHoldsNLL turns ptx on against it
	c.Features = text.Features{Dim: 256}
	c.DPOEpochs, c.DPOLR = 4, 1e-3
	return c
}

var task = text.Task{Name: "TextPositive-v0", Length: 4}

// TestPPORaisesGold: the tiny model's continuations of "The film ..." praise and pan equally
// often; after PPO on a reward model fitted to 300 rated pairs, the held-out gold rises.
func TestPPORaisesGold(t *testing.T) {
	w, m := world(t)
	before := append([]float64(nil), m.Params...)
	r, err := Run(tinyConfig(PPO), w, task, m, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("gold %.3f -> %.3f, positive %.3f -> %.3f, KL %.2f, val accuracy %v, samples %+v",
		r.GoldBefore, r.GoldAfter, r.PositiveShareBefore, r.PositiveShareAfter, r.KL, *r.RewardModelValAccuracy, r.Samples)
	if !(r.GoldAfter > r.GoldBefore+0.3) || !(r.PositiveShareAfter > r.PositiveShareBefore+0.15) {
		t.Errorf("gold %.3f -> %.3f, positive share %.3f -> %.3f: PPO did not learn", r.GoldBefore, r.GoldAfter, r.PositiveShareBefore, r.PositiveShareAfter)
	}
	if !(r.KL > 0) || len(r.Curve) != 30 || r.LabelsUsed != 300 {
		t.Errorf("KL %v, %d curve points, %d labels", r.KL, len(r.Curve), r.LabelsUsed)
	}
	if ci := r.KLCI; ci == nil || !(ci[0] < r.KL && r.KL < ci[1]) {
		t.Errorf("KL %v with interval %v: want one around it", r.KL, ci)
	}
	checkPrompts(t, r, true)
	if r.Policy == nil || slices.Equal(r.Policy.Params, m.Params) {
		t.Error("the report carries no tuned policy")
	}
	for i, v := range m.Params {
		if v != before[i] {
			t.Fatal("Run changed the reference model")
		}
	}
}

// TestPPODenseRaisesGold: PPO on the reward model's per-token rewards (Config.Dense) learns
// in Run, and its curve's gold is still measured (the dense reward's closure counts it).
func TestPPODenseRaisesGold(t *testing.T) {
	w, m := world(t)
	c := tinyConfig(PPO)
	c.Dense = true
	r, err := Run(c, w, task, m, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("gold %.3f -> %.3f, positive %.3f -> %.3f, KL %.2f", r.GoldBefore, r.GoldAfter, r.PositiveShareBefore, r.PositiveShareAfter, r.KL)
	if !(r.GoldAfter > r.GoldBefore+0.3) || !(r.PositiveShareAfter > r.PositiveShareBefore+0.15) || !r.Dense {
		t.Errorf("gold %.3f -> %.3f, positive share %.3f -> %.3f, dense %v: PPO did not learn", r.GoldBefore, r.GoldAfter, r.PositiveShareBefore, r.PositiveShareAfter, r.Dense)
	}
	if last := r.Curve[len(r.Curve)-1]; last.Gold == 0 || last.Reward == 0 {
		t.Errorf("the curve's last point %+v has no gold or score", last)
	}
}

// TestPPOLogSigmoidRaisesGold: Run's PPO on the log-sigmoid of the standardised score (the
// hub's objective) learns too, and the report says which objective it was.
func TestPPOLogSigmoidRaisesGold(t *testing.T) {
	w, m := world(t)
	c := tinyConfig(PPO)
	c.LogSigmoid, c.LogSigmoidMargin = true, 1
	r, err := Run(c, w, task, m, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("gold %.3f -> %.3f, positive %.3f -> %.3f, KL %.2f", r.GoldBefore, r.GoldAfter, r.PositiveShareBefore, r.PositiveShareAfter, r.KL)
	if !(r.GoldAfter > r.GoldBefore+0.3) || !r.LogSigmoid || r.Margin != 1 {
		t.Errorf("gold %.3f -> %.3f, log_sigmoid %v, margin %v", r.GoldBefore, r.GoldAfter, r.LogSigmoid, r.Margin)
	}
}

// TestDPORaisesGold: DPO on the same labels moves the policy toward praise.
func TestDPORaisesGold(t *testing.T) {
	w, m := world(t)
	r, err := Run(tinyConfig(DPO), w, task, m, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("gold %.3f -> %.3f, KL %.2f, NLL %.3f -> %.3f", r.GoldBefore, r.GoldAfter, r.KL, r.HeldOutNLLBefore, r.HeldOutNLLAfter)
	if !(r.GoldAfter > r.GoldBefore+0.2) || !(r.KL > 0) {
		t.Errorf("gold %.3f -> %.3f at KL %.2f: DPO did not learn", r.GoldBefore, r.GoldAfter, r.KL)
	}
}

// TestBestOfNReport: best-of-n trains nothing, so the held-out NLL is unchanged and its KL is
// the closed form; picking by the reward model raises the gold score.
func TestBestOfNReport(t *testing.T) {
	w, m := world(t)
	c := tinyConfig(BoN)
	c.N = 8
	r, err := Run(c, w, task, m, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.KL != bestofn.KL(8) || r.KLCI != nil || r.HeldOutNLLAfter != r.HeldOutNLLBefore {
		t.Errorf("KL %v (want %v) with interval %v (want none), NLL %v -> %v", r.KL, bestofn.KL(8), r.KLCI, r.HeldOutNLLBefore, r.HeldOutNLLAfter)
	}
	checkPrompts(t, r, false)
	if r.Policy != nil {
		t.Error("best-of-n reports a tuned policy")
	}
	if !(r.GoldAfter > r.GoldBefore+0.2) {
		t.Errorf("gold %.3f -> %.3f: best-of-8 picked no better", r.GoldBefore, r.GoldAfter)
	}
	j, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var keys map[string]any
	json.Unmarshal(j, &keys)
	for _, k := range []string{"gold_before", "gold_after", "positive_share_before", "positive_share_after", "kl", "labels_used",
		"reward_model_val_accuracy", "heldout_nll_before", "heldout_nll_after", "distinct_2_before", "distinct_2_after",
		"valid_word_share_before", "valid_word_share_after", "samples", "wall_seconds", "positive_share_after_ci95", "eval_per_prompt"} {
		if _, ok := keys[k]; !ok {
			t.Errorf("report has no %q", k)
		}
	}
	if math.IsNaN(r.Distinct2After) || len(r.Samples) == 0 || r.Samples[0].Prompt == "" {
		t.Errorf("distinct-2 %v, samples %+v", r.Distinct2After, r.Samples)
	}
	if ci := r.PositiveShareCI; r.EvalPerPrompt != c.EvalPerPrompt || !(ci[0] <= r.PositiveShareAfter && r.PositiveShareAfter <= ci[1] && ci[0] < ci[1]) {
		t.Errorf("%d per prompt, positive share %v with interval %v", r.EvalPerPrompt, r.PositiveShareAfter, ci)
	}
}

// checkPrompts checks r's per-prompt results against its means: one per held-out prompt,
// their shares averaging to the positive shares (every prompt has EvalPerPrompt
// continuations), their KLs to the KL when the method tunes a policy (withKL) and absent
// otherwise, and a miss quoted exactly where a prompt's share after is under 1.
func checkPrompts(t *testing.T, r *Report, withKL bool) {
	t.Helper()
	if len(r.Prompts) != r.EvalPrompts {
		t.Fatalf("%d prompt results for %d held-out prompts", len(r.Prompts), r.EvalPrompts)
	}
	var before, after, kl float64
	for _, p := range r.Prompts {
		before += p.GoalShareBefore / float64(len(r.Prompts))
		after += p.GoalShareAfter / float64(len(r.Prompts))
		if (p.KL != nil) != withKL {
			t.Fatalf("prompt %q has KL %v, want one: %v", p.Prompt, p.KL, withKL)
		}
		if withKL {
			kl += *p.KL / float64(len(r.Prompts))
		}
		if p.Prompt == "" || (p.Miss != "") != (p.GoalShareAfter < 1) {
			t.Errorf("prompt %q: share after %v with miss %q", p.Prompt, p.GoalShareAfter, p.Miss)
		}
	}
	if math.Abs(before-r.PositiveShareBefore) > 1e-9 || math.Abs(after-r.PositiveShareAfter) > 1e-9 || withKL && math.Abs(kl-r.KL) > 1e-9 {
		t.Errorf("prompts' means: share %v -> %v, KL %v; report's %v -> %v, KL %v", before, after, kl, r.PositiveShareBefore, r.PositiveShareAfter, r.KL)
	}
}

// TestFinalShare: FinalShare·Iters more PPO iterations follow the Iters on the reward model of
// the last round, asking no labels: two rounds over 10 iterations and a final share of 0.5 fit
// the reward model twice and train 15 iterations.
func TestFinalShare(t *testing.T) {
	w, m := world(t)
	c := tinyConfig(PPO)
	c.Iters, c.Rounds, c.FinalShare = 10, 2, 0.5
	fits := 0
	r, err := Run(c, w, task, m, func(s string) {
		if strings.Contains(s, "reward model:") {
			fits++
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Curve) != 15 || fits != 2 || r.LabelsUsed != c.Labels {
		t.Errorf("%d curve points (want 15), %d reward-model fits (want 2), %d labels (want %d)", len(r.Curve), fits, r.LabelsUsed, c.Labels)
	}
}

func TestValidate(t *testing.T) {
	for _, f := range []func(*Config){
		func(c *Config) { c.Method = "reinforce" },
		func(c *Config) { c.Labels = 1 },
		func(c *Config) { c.N = 0 },
		func(c *Config) { c.Rounds = 0 },
		func(c *Config) { c.FinalShare = -0.5 },
		func(c *Config) { c.FinalShare = math.NaN() },
		func(c *Config) { c.FinalShare = math.Inf(1) },
		func(c *Config) { c.Rater.ErrorRate = 2 },
		func(c *Config) { c.PPO.ClipEps = 0 },
		func(c *Config) { c.DPOKLBudget, c.DPOKLSamples = 5, 0 },
		func(c *Config) { c.DPO.NLL = -1 },
		func(c *Config) { c.DPO.Smoothing = 0.5 },
		func(c *Config) { c.Dense, c.LogSigmoid = true, true },
		func(c *Config) { c.EvalPerPrompt = 0 },
	} {
		c := Defaults()
		f(&c)
		if c.Validate() == nil {
			t.Errorf("%+v was accepted", c)
		}
	}
}

// TestPPOPtxHoldsNLL: PPO-ptx in Run (its stream is the world's training sentences) ends with
// a held-out NLL at most that of plain PPO on the same seed, still raises the gold score, and
// the report records γ.
func TestPPOPtxHoldsNLL(t *testing.T) {
	w, m := world(t)
	c := tinyConfig(PPO)
	plain, err := Run(c, w, task, m, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.PPO.PtxCoef = 2
	r, err := Run(c, w, task, m, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("held-out NLL %.3f → %.3f plain, → %.3f with ptx; gold %.3f → %.3f with ptx", plain.HeldOutNLLBefore, plain.HeldOutNLLAfter, r.HeldOutNLLAfter, r.GoldBefore, r.GoldAfter)
	if !(r.HeldOutNLLAfter <= plain.HeldOutNLLAfter) || !(r.GoldAfter > r.GoldBefore+0.2) || r.Ptx != 2 {
		t.Errorf("NLL %.3f with ptx against %.3f plain, gold %.3f → %.3f, ptx %v", r.HeldOutNLLAfter, plain.HeldOutNLLAfter, r.GoldBefore, r.GoldAfter, r.Ptx)
	}
}

// TestDPORoundsWithinKLBudget: online DPO in three rounds (the later two on the policy's own
// pairs) spends every label, stops at a KL budget on the training prompts that offline DPO on
// the same settings overruns, and gets more gold than offline DPO.
func TestDPORoundsWithinKLBudget(t *testing.T) {
	w, m := world(t)
	c := tinyConfig(DPO)
	free, err := Run(c, w, task, m, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.DPORounds, c.DPOKLBudget = 3, 2
	r, err := Run(c, w, task, m, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("offline: gold %.3f -> %.3f at KL %.2f; 3 rounds, budget 2: gold %.3f -> %.3f at KL %.2f, %d checks",
		free.GoldBefore, free.GoldAfter, free.KL, r.GoldBefore, r.GoldAfter, r.KL, len(r.Curve))
	if r.LabelsUsed != 300 || r.DPORounds != 3 || r.KLBudget != 2 || len(r.Curve) == 0 {
		t.Errorf("%d labels, %d rounds, budget %v, %d checks", r.LabelsUsed, r.DPORounds, r.KLBudget, len(r.Curve))
	}
	if !(free.KL > 3) || !(r.KL < 2.5) {
		t.Errorf("KL offline %.2f, with a budget of 2 on the training prompts %.2f", free.KL, r.KL)
	}
	// On this world the policy's own pairs buy more gold at less KL (0.59 at 3.95 nats
	// offline, 1.42 at 2.05 online).
	if !(r.GoldAfter > free.GoldAfter+0.2) {
		t.Errorf("gold %.3f -> %.3f online, %.3f offline: online DPO did not learn more", r.GoldBefore, r.GoldAfter, free.GoldAfter)
	}
}

// TestAverageLast: tail averaging changes only the policy measured at the end: the training
// curve is the same run's, the measured policy is another (its KL differs) and it has learnt.
func TestAverageLast(t *testing.T) {
	w, m := world(t)
	last, err := Run(tinyConfig(PPO), w, task, m, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := tinyConfig(PPO)
	c.AverageLast = 15
	avg, err := Run(c, w, task, m, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("last weights: KL %.3f gold %.3f; mean of the last 15: KL %.3f gold %.3f", last.KL, last.GoldAfter, avg.KL, avg.GoldAfter)
	if len(avg.Curve) != len(last.Curve) || avg.Curve[len(avg.Curve)-1] != last.Curve[len(last.Curve)-1] {
		t.Fatal("averaging changed the training run")
	}
	if avg.AverageLast != 15 || last.AverageLast != 0 {
		t.Errorf("report average_last %d and %d", avg.AverageLast, last.AverageLast)
	}
	if math.Abs(avg.KL-last.KL) < 1e-3 || !(avg.GoldAfter > avg.GoldBefore+0.3) {
		t.Errorf("KL %.3f averaged against %.3f last, gold %.3f -> %.3f: not an averaged policy that learnt", avg.KL, last.KL, avg.GoldBefore, avg.GoldAfter)
	}
	c.AverageLast = c.Iters + c.finalIters() + 1
	if err := c.Validate(); err == nil {
		t.Error("averaging over more iterations than the run has was accepted")
	}
}

// TestInterpolate: η 0 is the reference itself (KL exactly 0, its held-out NLL), η 1 the
// tuned policy (its held-out NLL), and η 0.5 lies between them in KL.
func TestInterpolate(t *testing.T) {
	w, m := world(t)
	c := tinyConfig(PPO)
	c.Interpolate = []float64{0, 0.5, 1}
	r, err := Run(c, w, task, m, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Interpolations) != 3 {
		t.Fatalf("%d interpolations, want 3", len(r.Interpolations))
	}
	zero, half, one := r.Interpolations[0], r.Interpolations[1], r.Interpolations[2]
	t.Logf("η 0: KL %.3f gold %.3f; η 0.5: KL %.3f gold %.3f; η 1: KL %.3f gold %.3f (the report: KL %.3f gold %.3f)",
		zero.KL, zero.Gold, half.KL, half.Gold, one.KL, one.Gold, r.KL, r.GoldAfter)
	if zero.KL != 0 || zero.HeldOutNLL != r.HeldOutNLLBefore || one.HeldOutNLL != r.HeldOutNLLAfter {
		t.Errorf("η 0: KL %v NLL %v (reference %v); η 1: NLL %v (policy %v)", zero.KL, zero.HeldOutNLL, r.HeldOutNLLBefore, one.HeldOutNLL, r.HeldOutNLLAfter)
	}
	if !(half.KL > 0 && half.KL < one.KL) {
		t.Errorf("KL %.3f at η 0.5, %.3f at η 1: not between the reference and the policy", half.KL, one.KL)
	}
	c.Interpolate = []float64{0.5, -1}
	if err := c.Validate(); err == nil {
		t.Error("a negative η was accepted")
	}
}

// TestDPOKLRamp: with the budget spread over three rounds (Config.DPOKLRamp) the first round
// stops at its share of it (2/3 nats), where with the whole budget open the first round goes
// past that; the later rounds still move the policy, and the measured KL stays near the budget.
func TestDPOKLRamp(t *testing.T) {
	w, m := world(t)
	c := tinyConfig(DPO)
	c.DPORounds, c.DPOKLBudget = 3, 2
	run := func(c Config) (stops []string, r *Report) {
		r, err := Run(c, w, task, m, func(s string) {
			if i := strings.Index(s, " nats reached"); i >= 0 {
				stops = append(stops, s[:i])
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		return stops, r
	}
	_, open := run(c)
	// The first round's checks: it has 100 pairs, batches of 32, 3 epochs, so 12 steps.
	openFirst := 0.0
	for _, p := range open.Curve {
		if p.Iter <= 12 {
			openFirst = math.Max(openFirst, p.KL)
		}
	}
	c.DPOKLRamp = true
	stops, r := run(c)
	t.Logf("first round up to %.2f nats with the whole budget; ramped: stops %q, KL %.2f, gold %.3f -> %.3f (open: %.2f, %.3f)",
		openFirst, stops, r.KL, r.GoldBefore, r.GoldAfter, open.KL, open.GoldAfter)
	if !(openFirst > 2.0/3) || len(stops) == 0 || stops[0] != "dpo round 1/3: KL budget 0.67" || !r.KLRamp {
		t.Errorf("first round up to %.2f nats open; ramped stops %q, report's ramp %v", openFirst, stops, r.KLRamp)
	}
	last := r.Curve[len(r.Curve)-1]
	if !(last.Iter > 12) || !(r.KL < 2.5) || !(r.GoldAfter > r.GoldBefore+0.2) {
		t.Errorf("last check at step %d, KL %.2f, gold %.3f -> %.3f", last.Iter, r.KL, r.GoldBefore, r.GoldAfter)
	}
}

// TestForTask: TextNoE-v0 trains without ptx and on the score itself; other tasks keep the
// defaults.
func TestForTask(t *testing.T) {
	d := Defaults()
	if c := ForTask(d, "TextNoE-v0"); c.PPO.PtxCoef != 0 || c.LogSigmoid || c.PPO.KLTarget != d.PPO.KLTarget || c.Validate() != nil {
		t.Errorf("TextNoE-v0: ptx %v, log-sigmoid %v, KL target %v", c.PPO.PtxCoef, c.LogSigmoid, c.PPO.KLTarget)
	}
	if c := ForTask(d, "TextPositive-v0"); c.PPO.PtxCoef != d.PPO.PtxCoef || !c.LogSigmoid || d.PPO.PtxCoef == 0 {
		t.Errorf("TextPositive-v0 changed: ptx %v, log-sigmoid %v", c.PPO.PtxCoef, c.LogSigmoid)
	}
}

// TestPPOEntTargetReport: with an entropy target over any state's entropy, Run's PPO raises the
// bonus every rollout from its floor, still learns, and the report gives the floor, the
// target and the coefficient it ended at.
func TestPPOEntTargetReport(t *testing.T) {
	w, m := world(t)
	c := tinyConfig(PPO)
	c.PPO.EntCoef, c.PPO.EntTarget = 0.01, 20 // over log V: the entropy is always under it
	r, err := Run(c, w, task, m, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := c.PPO.EntCoef * math.Pow(1+0.2*c.PPO.EntRate, float64(len(r.Curve)-1))
	t.Logf("gold %.3f -> %.3f, bonus %v -> %v (want %v), KL %.2f", r.GoldBefore, r.GoldAfter, r.EntCoef, r.EntCoefFinal, want, r.KL)
	if r.EntCoef != 0.01 || r.EntTarget != 20 || math.Abs(r.EntCoefFinal-want) > 1e-9*want {
		t.Errorf("report's bonus %v, target %v, final coefficient %v (want %v)", r.EntCoef, r.EntTarget, r.EntCoefFinal, want)
	}
	if !(r.GoldAfter > r.GoldBefore+0.2) {
		t.Errorf("gold %.3f -> %.3f: PPO with the entropy target did not learn", r.GoldBefore, r.GoldAfter)
	}
}
