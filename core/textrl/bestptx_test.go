package textrl

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestBestOfGroups: each group of n continuations gives its best under the score, written as
// its prompt, the continuation and the separator, in the groups' order.
func TestBestOfGroups(t *testing.T) {
	prompts := [][]int{{1}, {1}, {1}, {2}, {2}, {2}}
	conts := [][]int{{5, 5}, {9, 9}, {7, 7}, {3, 3}, {4, 4}, {8, 1}}
	sum := func(_, c []int) float64 { return float64(c[0] + c[1]) }
	got := bestOfGroups(prompts, conts, 3, sum, []int{0})
	if want := []int{1, 9, 9, 0, 2, 8, 1, 0}; !slices.Equal(got, want) {
		t.Errorf("stream %v, want %v", got, want)
	}
}

// TestPPOBestOfPtx: with PPO-ptx reading best-of-n continuations (Config.PtxBestOf), PPO still
// learns in Run, and the report says so.
func TestPPOBestOfPtx(t *testing.T) {
	w, m := world(t)
	c := tinyConfig(PPO)
	c.PPO.PtxCoef, c.PtxBestOf, c.PtxDraws = 0.4, 4, 2
	r, err := Run(c, w, task, m, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("gold %.3f -> %.3f, positive %.3f -> %.3f, KL %.2f", r.GoldBefore, r.GoldAfter, r.PositiveShareBefore, r.PositiveShareAfter, r.KL)
	if !(r.GoldAfter > r.GoldBefore+0.3) || r.PtxBestOf != 4 || r.Ptx != 0.4 {
		t.Errorf("gold %.3f -> %.3f, ptx %v of best-of-%d", r.GoldBefore, r.GoldAfter, r.Ptx, r.PtxBestOf)
	}
	c.Method = DPO
	if err := c.Validate(); err == nil {
		t.Error("a best-of-n ptx stream passes validation with DPO")
	}
}

// TestBestStream: the stream's continuations, each the best of 8 of the reference's under a
// gold score, score above the reference's own, and each follows its prompt.
func TestBestStream(t *testing.T) {
	w, m := world(t)
	train, _ := splitPrompts(w, false)
	L, sep := task.Length, w.Tok.Encode("\n")
	gold := func(_, c []int) float64 { return w.Sentiment(w.Tok.Decode(c)) }
	s, err := bestStream(m, rand.New(rand.NewPCG(1, 2)), train[:4], 16, 8, L, gold, sep)
	if err != nil {
		t.Fatal(err)
	}
	P := len(train[0])
	rec := P + L + len(sep)
	if len(s) != 4*16*rec {
		t.Fatalf("stream of %d tokens, want %d", len(s), 4*16*rec)
	}
	refConts, err := sample(m, rand.New(rand.NewPCG(3, 4)), slices.Repeat(train[:4], 16), L)
	if err != nil {
		t.Fatal(err)
	}
	var best, ref float64
	for i := range 4 * 16 {
		r := s[i*rec : (i+1)*rec]
		if !slices.Equal(r[:P], train[i/16]) || !slices.Equal(r[P+L:], sep) {
			t.Fatalf("record %d is %v: not prompt %v, continuation, separator", i, r, train[i/16])
		}
		best += gold(nil, r[P:P+L]) / 64
		ref += gold(nil, refConts[i]) / 64
	}
	t.Logf("gold of the stream's continuations %.3f, of the reference's %.3f", best, ref)
	if !(best > ref+0.5) {
		t.Errorf("best-of-8 gold %.3f against the reference's %.3f", best, ref)
	}
}
