package textrl

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/prefer-rlhf/prefer/core/lm"
	"github.com/prefer-rlhf/prefer/core/oracle"
	"github.com/prefer-rlhf/prefer/core/reward"
	"github.com/prefer-rlhf/prefer/core/text"
)

// TestLearnerRounds: a Learner driven round by round, as the hub's trainer drives it with
// labels from outside, raises the held-out gold by PPO, on the reward model's score and on
// its log-sigmoid transform (the hub's); its checkpoint (policy, value head, β) restores the
// same policy in a new Learner.
func TestLearnerRounds(t *testing.T) {
	for _, ls := range []bool{false, true} {
		t.Run(map[bool]string{false: "score", true: "logsigmoid"}[ls], func(t *testing.T) {
			cfg := tinyConfig(PPO)
			cfg.LogSigmoid, cfg.LogSigmoidMargin = ls, 1
			learnerRounds(t, cfg)
		})
	}
}

func learnerRounds(t *testing.T, cfg Config) {
	w, m := world(t)
	l, err := NewLearner(cfg, w, task, m)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(4, 4))
	before, err := l.Measure(rand.New(rand.NewPCG(9, 9)))
	if err != nil {
		t.Fatal(err)
	}
	if before.KL != 0 {
		t.Fatalf("the reference's KL %v, want 0", before.KL)
	}
	data := &reward.Dataset{}
	for round := range 3 {
		labelPairs(t, l, w, l.Policy, rng, data, 100)
		if _, err := l.Fit(data); err != nil {
			t.Fatal(err)
		}
		if pts, err := l.PPO(10); err != nil || len(pts) != 10 {
			t.Fatalf("round %d: %d points, %v", round, len(pts), err)
		}
	}
	after, err := l.Measure(rand.New(rand.NewPCG(9, 9)))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("gold %.3f -> %.3f, positive %.3f -> %.3f, KL %.2f, learned %.3f -> %.3f", before.Gold, after.Gold,
		before.PositiveShare, after.PositiveShare, after.KL, before.Learned, after.Learned)
	if !(after.Gold > before.Gold+0.3) || !(after.KL > 0) {
		t.Errorf("gold %.3f -> %.3f, KL %v: the rounds did not learn", before.Gold, after.Gold, after.KL)
	}
	// Restore into a fresh learner.
	l2, err := NewLearner(cfg, w, task, m)
	if err != nil {
		t.Fatal(err)
	}
	l2.Model = l.Model
	if err := l2.Restore(l.Policy.Clone(), l.PPOState()); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(l2.Policy.Params, l.Policy.Params) || l2.PPOState().Beta != l.PPOState().Beta || !slices.Equal(l2.PPOState().Head, l.PPOState().Head) {
		t.Fatal("the restored learner's policy differs")
	}
	if slices.Equal(m.Params, l.Policy.Params) {
		t.Fatal("PPO changed nothing")
	}
}

// TestLogSigmoidObjective: with LogSigmoid, PPO's objective is log σ(z − margin) of the score
// standardised on the reference's continuations: at the margin (z = 1) it is log σ(0) = log ½,
// it rises with the score but saturates (two standard deviations more above
// the margin buy less than a tenth of what the two around the mean buy), and it is
// re-standardised when the reward model is refitted. Without, it is the score.
func TestLogSigmoidObjective(t *testing.T) {
	w, m := world(t)
	cfg := tinyConfig(PPO)
	cfg.LogSigmoid, cfg.LogSigmoidMargin = true, 1
	l, err := NewLearner(cfg, w, task, m)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 5))
	data := &reward.Dataset{}
	fit := func(n int) {
		labelPairs(t, l, w, m, rng, data, n)
		if _, err := l.Fit(data); err != nil {
			t.Fatal(err)
		}
		if _, err := l.PPO(1); err != nil {
			t.Fatal(err)
		}
	}
	fit(60)
	mu, sd := l.refMean, l.refStd
	if !(sd > 1e-6) || l.refModel != l.Model {
		t.Fatalf("reference standardisation mean %v, sd %v: not measured on the model", mu, sd)
	}
	z := func(z float64) float64 { return l.objective(mu + z*sd) }
	if got, want := z(1), math.Log(0.5); math.Abs(got-want) > 1e-9 {
		t.Errorf("objective at the margin %v, want log 0.5 = %v", got, want)
	}
	prev := z(-6)
	for x := -5.5; x <= 6; x += 0.5 {
		if v := z(x); !(v > prev) || !(v < 0) {
			t.Fatalf("objective at z %v is %v after %v: not increasing and negative", x, v, prev)
		}
		prev = z(x)
	}
	if high, mid := z(5)-z(3), z(1)-z(-1); !(high < mid/10) {
		t.Errorf("objective gains %v from z 3 to 5 and %v from -1 to 1: it does not saturate", high, mid)
	}
	fit(60)
	if l.refModel != l.Model || (l.refMean == mu && l.refStd == sd) {
		t.Error("a refit did not re-standardise the objective")
	}
	l.cfg.LogSigmoid = false
	if got := l.objective(1.25); got != 1.25 {
		t.Errorf("without LogSigmoid the objective of 1.25 is %v", got)
	}
}

// TestSplitPrompts: every fourth held-out prompt measures, with or without the training
// prompts; with them, the training prompts join the other held-out ones, less any equal to a
// measuring prompt.
func TestSplitPrompts(t *testing.T) {
	w := &text.World{Prompts: [][]int{{0}, {1}, {2}, {3}, {4}, {5}}, TrainPrompts: [][]int{{9}, {4}, {0}, {8}, {9}}}
	train, eval := splitPrompts(w, false)
	if fmt.Sprint(train) != "[[1] [2] [3] [5]]" || fmt.Sprint(eval) != "[[0] [4]]" {
		t.Errorf("without training prompts: train %v, eval %v", train, eval)
	}
	train, eval = splitPrompts(w, true)
	if fmt.Sprint(train) != "[[1] [2] [3] [5] [9] [8] [9]]" || fmt.Sprint(eval) != "[[0] [4]]" {
		t.Errorf("with training prompts: train %v, eval %v", train, eval)
	}
}

// TestRewardEpochs: Config.RewardEpochs reaches the reward model's fit: on the same labels,
// 40 passes take four times the steps of the default 10 and end at a lower training loss;
// a negative count fails Validate.
func TestRewardEpochs(t *testing.T) {
	w, m := world(t)
	cfg := tinyConfig(PPO)
	l, err := NewLearner(cfg, w, task, m)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 5))
	data := &reward.Dataset{}
	labelPairs(t, l, w, m, rng, data, 400)
	if cfg.rewardConfig().Epochs != 10 {
		t.Fatalf("default epochs %d, want text.RewardConfig's 10", cfg.rewardConfig().Epochs)
	}
	_, short, err := fitReward(cfg, data)
	if err != nil {
		t.Fatal(err)
	}
	cfg.RewardEpochs = 40
	_, long, err := fitReward(cfg, data)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("10 epochs: %d steps, train loss %.4f, val accuracy %.3f; 40: %d steps, %.4f, %.3f", short.Steps, short.TrainLoss, short.ValAccuracy, long.Steps, long.TrainLoss, long.ValAccuracy)
	if long.Steps != 4*short.Steps || !(long.TrainLoss < short.TrainLoss) {
		t.Errorf("40 epochs: %d steps (10: %d), train loss %.4f (10: %.4f)", long.Steps, short.Steps, long.TrainLoss, short.TrainLoss)
	}
	cfg.RewardEpochs = -1
	if err := cfg.Validate(); err == nil {
		t.Error("a negative epoch count passed Validate")
	}
}

// labelPairs adds n comparisons to data, each of two continuations by m of one of l's training
// prompts, rated on the gold score by a noiseless rater.
func labelPairs(t *testing.T, l *Learner, w *text.World, m *lm.Model, rng *rand.Rand, data *reward.Dataset, n int) {
	t.Helper()
	qp := make([][]int, 0, 2*n)
	for range n {
		p := l.Train[rng.IntN(len(l.Train))]
		qp = append(qp, p, p)
	}
	qc, err := l.Sample(m, rng, qp)
	if err != nil {
		t.Fatal(err)
	}
	gold := func(s string) float64 { return w.Score(task, s) }
	for k := 0; k < len(qp); k += 2 {
		c := text.Rate(rng, oracle.Rater{}, gold, w.Tok.Decode(qc[k]), w.Tok.Decode(qc[k+1]))
		data.AddChoice(l.Features().Segment(qp[k], qc[k]), l.Features().Segment(qp[k+1], qc[k+1]), c)
	}
}
