package text

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/prefer-rlhf/prefer/core/oracle"
	"github.com/prefer-rlhf/prefer/core/prefs"
	"github.com/prefer-rlhf/prefer/core/reward"
)

func TestMetrics(t *testing.T) {
	if got := PositiveShare([]float64{0.5, 0, -1, 2}); got != 0.5 {
		t.Errorf("PositiveShare = %v", got)
	}
	if got := Distinct2([]string{"a b c", "a b d"}); got != 3.0/4 {
		t.Errorf("Distinct2 = %v, want 0.75", got)
	}
	if got := Distinct2([]string{"so good so good so good"}); got > 0.5 {
		t.Errorf("Distinct2 of a repeated phrase = %v", got)
	}
	vocab := Vocabulary([]string{"The food was great.", "I didn't like it"})
	// First and last words are not judged: "xx" and "zz" are left out.
	if got := ValidWordShare([]string{"xx the food was greatgood zz", "didn't like qq yy"}, vocab); got != 4.0/6 {
		t.Errorf("ValidWordShare = %v, want 4/6", got)
	}
	// An edge word longer than any of vocab's is judged (and invalid): no real word is cut
	// from it. vocab's longest word is "didn't" (6 letters).
	if got := ValidWordShare([]string{" the bestestestest", "estestestest", "xx the food zzzzzzz"}, vocab); got != 2.0/5 {
		t.Errorf("ValidWordShare of repeated tokens = %v, want 2/5 (the, food valid; three edge words longer than any of vocab not)", got)
	}
	if got := FreeOfE([]string{"a cat", "the dog", "no way", "EVIL"}); got != 0.5 {
		t.Errorf("FreeOfE = %v, want 0.5", got)
	}
	if ValidWordShare(nil, vocab) != 1 || Distinct2(nil) != 0 || PositiveShare(nil) != 0 {
		t.Error("empty input")
	}
}

func TestRateFollowsGold(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	good, bad := "The food was great and I loved it.", "The food was awful."
	if Rate(rng, oracle.Rater{}, toySentiment, good, bad) != prefs.Left || Rate(rng, oracle.Rater{}, toySentiment, bad, good) != prefs.Right {
		t.Fatal("a perfect rater did not prefer the positive text")
	}
	noisy := oracle.Rater{ErrorRate: 0.5}
	left := 0
	for range 2000 {
		if Rate(rng, noisy, toySentiment, good, bad) == prefs.Left {
			left++
		}
	}
	// P(left) = 0.5/2 + 0.5 = 0.75.
	if math.Abs(float64(left)/2000-0.75) > 0.04 {
		t.Errorf("with error rate 0.5, left %d of 2000, want about 1500", left)
	}
}

// textComparisons returns n training and 400 test comparisons of continuations of the
// generated corpus's sentences, labelled by a perfect rater from the gold score.
func textComparisons(n int) (train, test []reward.Comparison) {
	corpus := testCorpus(3000, 11)
	tok := Train([]byte(corpus), 400)
	sents := Sentences([]byte(corpus))
	f := DefaultFeatures
	rng := rand.New(rand.NewPCG(12, 12))
	type item struct {
		seg  reward.Segment
		gold float64
	}
	draw := func() item {
		ids := tok.Encode(sents[rng.IntN(len(sents))])
		return item{f.Segment(ids[:2], ids[2:]), toySentiment(tok.Decode(ids[2:]))}
	}
	comparisons := func(n int) []reward.Comparison {
		var out []reward.Comparison
		for len(out) < n {
			a, b := draw(), draw()
			if c, ok := reward.Label(a.seg, b.seg, oracle.Rater{}.Choose(rng, a.gold, b.gold)); ok {
				out = append(out, c)
			}
		}
		return out
	}
	return comparisons(n), comparisons(400)
}

// TestTextRewardModelLearns fits core/reward's ensemble on hashed n-gram features of
// continuations labelled by a synthetic rater from the gold score, and checks it ranks unseen
// pairs far better than chance.
func TestTextRewardModelLearns(t *testing.T) {
	train, test := textComparisons(500)
	d := &reward.Dataset{}
	for _, c := range train {
		d.Add(c)
	}
	m, err := reward.New(RewardConfig(1), DefaultFeatures.Shape())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Fit(d); err != nil {
		t.Fatal(err)
	}
	acc := reward.Accuracy(m, test)
	t.Logf("held-out accuracy %.3f", acc)
	if acc < 0.85 {
		t.Errorf("held-out accuracy %.3f after 500 labels, want at least 0.85", acc)
	}
}

// BenchmarkTextRewardFit500 is a full refit of the text reward model at 500 labels, what the
// browser's worker does (run it under wasm too: GOOS=js GOARCH=wasm go test -bench).
func BenchmarkTextRewardFit500(b *testing.B) {
	train, _ := textComparisons(500)
	for b.Loop() {
		d := &reward.Dataset{}
		for _, c := range train {
			d.Add(c)
		}
		m, _ := reward.New(RewardConfig(1), DefaultFeatures.Shape())
		if _, err := m.Fit(d); err != nil {
			b.Fatal(err)
		}
	}
}
