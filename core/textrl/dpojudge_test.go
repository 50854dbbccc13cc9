package textrl

import (
	"slices"
	"testing"
)

// TestBestWorst: in each run of k continuations of one prompt, the pair is the highest-scoring
// against the lowest-scoring, μ 1, the first of equals winning; a run that scores alike
// gives none.
func TestBestWorst(t *testing.T) {
	sum := func(_, c []int) float64 {
		s := 0
		for _, v := range c {
			s += v
		}
		return float64(s)
	}
	a, b := []int{7}, []int{8}
	prompts := [][]int{a, a, a, a, b, b, b, b, a, a, a, a}
	conts := [][]int{{2, 2}, {9, 0}, {0, 1}, {3, 0}, {1, 1}, {0, 2}, {2, 0}, {1, 1}, {5}, {9}, {0}, {9}}
	got := bestWorst(prompts, conts, 4, sum)
	want := [][2][]int{{{9, 0}, {0, 1}}, {{9}, {0}}}
	if len(got) != len(want) {
		t.Fatalf("%d pairs, want %d: %v", len(got), len(want), got)
	}
	for i, p := range got {
		if !slices.Equal(p.Left, want[i][0]) || !slices.Equal(p.Right, want[i][1]) || p.Mu != 1 || !slices.Equal(p.Prompt, a) {
			t.Errorf("pair %d: %v over %v (μ %v) of prompt %v, want %v over %v of %v", i, p.Left, p.Right, p.Mu, p.Prompt, want[i][0], want[i][1], a)
		}
	}
	if &got[1].Left[0] != &conts[9][0] {
		t.Errorf("the best of equals is not the first")
	}
}

// TestDPOJudge: pairs judged by the reward model are added to every round without asking a
// label, and they move the policy toward what the reward model prefers: its mean score on
// the held-out continuations rises further within the same KL budget (0.14 without, 0.49
// with). Soft labels, the reward model's probabilities, are reported and still move it.
// Gold is not asserted: on the tiny world a reward model of 60 labels is a poor judge
// (gold 0.17 without, 0.23 with 32 judged prompts a round, 0.11 with 64).
func TestDPOJudge(t *testing.T) {
	w, m := world(t)
	c := tinyConfig(DPO)
	c.Labels, c.DPORounds, c.DPOKLBudget, c.DPOKLRamp = 60, 3, 2, true
	plain, err := Run(c, w, task, m, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.DPOJudge, c.DPOJudgePrompts = 8, 32
	r, err := Run(c, w, task, m, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("human pairs only: gold %.3f -> %.3f, reward %.3f at KL %.2f; with %d judged pairs: gold %.3f, reward %.3f at KL %.2f",
		plain.GoldBefore, plain.GoldAfter, plain.RewardAfter, plain.KL, r.JudgedPairs, r.GoldAfter, r.RewardAfter, r.KL)
	if r.LabelsUsed != 60 || plain.JudgedPairs != 0 || r.JudgedPairs < 3*32/2 || r.JudgedPairs > 3*32 || r.Judge != 8 || r.JudgePrompts != 32 {
		t.Errorf("%d labels, %d judged pairs (%d without), judge %d of %d prompts", r.LabelsUsed, r.JudgedPairs, plain.JudgedPairs, r.Judge, r.JudgePrompts)
	}
	if !(r.RewardAfter > plain.RewardAfter+0.2) || !(r.KL < 2.5) {
		t.Errorf("reward %.3f at KL %.2f with judged pairs, %.3f without", r.RewardAfter, r.KL, plain.RewardAfter)
	}
	if r.JudgeSoft || r.JudgedMu != 1 {
		t.Errorf("hard judged labels reported as soft %v, mean label %v", r.JudgeSoft, r.JudgedMu)
	}

	// Soft labels (Config.DPOJudgeSoft): the same pairs, each labelled with the reward
	// model's probability, which is above a half (best beats worst) and below 1.
	c.DPOJudgeSoft = true
	s, err := Run(c, w, task, m, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("soft judged labels: mean label %.3f over %d pairs, gold %.3f, reward %.3f at KL %.2f", s.JudgedMu, s.JudgedPairs, s.GoldAfter, s.RewardAfter, s.KL)
	if !s.JudgeSoft || !(s.JudgedMu > 0.5 && s.JudgedMu < 0.99) || s.JudgedPairs < 3*32/2 || s.LabelsUsed != 60 {
		t.Errorf("soft judged labels: reported %v, mean label %v over %d pairs, %d labels", s.JudgeSoft, s.JudgedMu, s.JudgedPairs, s.LabelsUsed)
	}
	if !(s.RewardAfter > plain.RewardAfter) || !(s.KL < 2.5) {
		t.Errorf("reward %.3f at KL %.2f with soft judged labels, %.3f without judged pairs", s.RewardAfter, s.KL, plain.RewardAfter)
	}
}
