package lmppo

import (
	"math"
	"testing"
)

// threeAt is countThree's per-token form: 1 at each token 3.
func threeAt(_, cont []int, out []float64) {
	for j, id := range cont {
		out[j] = 0
		if id == 3 {
			out[j] = 1
		}
	}
}

// TestAddScoreKeepsTheTotal: per-token terms put each term at its token and −mean/std at the
// last, so every continuation's rewards add up to the sparse layout's whitened score.
func TestAddScoreKeepsTheTotal(t *testing.T) {
	const nb, L, mean, std = 2, 3, 0.5, 2.0
	r := rollout{scores: []float64{3, -1}, tokens: []float64{1, 0, 2, 0, -1, 0}}
	dense, sparse := make([]float64, nb*L), make([]float64, nb*L)
	for i := range nb {
		addScore(dense, r, i, nb, L, mean, std)
		addScore(sparse, rollout{scores: r.scores}, i, nb, L, mean, std)
	}
	for i := range nb {
		sd, ss := 0.0, 0.0
		for j := range L {
			sd += dense[j*nb+i]
			ss += sparse[j*nb+i]
		}
		if math.Abs(sd-ss) > 1e-12 || math.Abs(ss-(r.scores[i]-mean)/std) > 1e-12 {
			t.Errorf("continuation %d: dense total %v, sparse %v", i, sd, ss)
		}
	}
	// Layout [t][e]: continuation 0's first token is rewards[0], continuation 1's second rewards[3].
	if dense[0] != 0.5 || dense[3] != -0.5 || sparse[0] != 0 || dense[4] != 1-mean/std {
		t.Errorf("dense rewards %v", dense)
	}
}

// TestLearnsToCountTokensDense: with the count of token 3 given token by token, PPO learns
// the task as with the count at the end (TestLearnsToCountTokens), and the scores it reports
// are the counts.
func TestLearnsToCountTokensDense(t *testing.T) {
	c := tinyConfig()
	c.Beta = 0.7
	ref, prompts := tiny(t)
	tr, err := New(c, ref, prompts, countThree)
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.SetTokenReward(threeAt); err != nil {
		t.Fatal(err)
	}
	first, last := steps(t, tr, 25)
	t.Logf("score %.2f -> %.2f, KL %.2f -> %.2f", first.Score, last.Score, first.KL, last.KL)
	if last.Score < 1.5 || last.Score < 3*first.Score || last.KL > 6 {
		t.Errorf("score %.2f -> %.2f at KL %.2f: PPO on per-token rewards did not learn", first.Score, last.Score, last.KL)
	}
	if first.Score != math.Trunc(first.Score*32)/32 {
		t.Errorf("the score %v is not a mean count over 32 continuations", first.Score)
	}
}
