package textrl

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/prefer-rlhf/prefer/core/oracle"
	"github.com/prefer-rlhf/prefer/core/reward"
	"github.com/prefer-rlhf/prefer/core/text"
)

// TestLearnerRounds: a Learner driven round by round, as the hub's trainer drives it with
// labels from outside, raises the held-out gold by PPO; its checkpoint (policy, value head,
// β) restores the same policy in a new Learner.
func TestLearnerRounds(t *testing.T) {
	w, m := world(t)
	cfg := tinyConfig(PPO)
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
	gold := func(s string) float64 { return w.Score(task, s) }
	for round := range 3 {
		qp := make([][]int, 0, 200)
		for range 100 {
			p := l.Train[rng.IntN(len(l.Train))]
			qp = append(qp, p, p)
		}
		qc, err := l.Sample(l.Policy, rng, qp)
		if err != nil {
			t.Fatal(err)
		}
		for k := 0; k < len(qp); k += 2 {
			c := text.Rate(rng, oracle.Rater{}, gold, w.Tok.Decode(qc[k]), w.Tok.Decode(qc[k+1]))
			data.AddChoice(l.Features().Segment(qp[k], qc[k]), l.Features().Segment(qp[k+1], qc[k+1]), c)
		}
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
