package lm

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/prefer-rlhf/prefer/core/text"
)

// reviews generates n short review sentences from a small grammar with a fixed seed.
func reviews(n int, seed uint64) string {
	rng := rand.New(rand.NewPCG(seed, 1))
	subj := []string{"The film", "This phone", "The food", "Our waiter", "The battery", "The plot", "This place", "The sound"}
	verb := []string{"was", "is", "seemed", "felt"}
	adj := []string{"great", "wonderful", "excellent", "good", "terrible", "awful", "bad", "boring"}
	tail := []string{"and I loved it", "and I hated it", "to be honest", "from the start", "for the price", "all night"}
	var b strings.Builder
	for range n {
		b.WriteString(subj[rng.IntN(len(subj))] + " " + verb[rng.IntN(len(verb))] + " " + adj[rng.IntN(len(adj))])
		if rng.IntN(2) == 0 {
			b.WriteString(" " + tail[rng.IntN(len(tail))])
		}
		b.WriteString(".\n")
	}
	return b.String()
}

// TestPretrainLearns: a few hundred steps on a generated corpus bring the held-out loss well
// below the entropy of the token unigram distribution, the best a model without context can
// do, so the model uses its context.
func TestPretrainLearns(t *testing.T) {
	train, held := reviews(3000, 1), reviews(200, 2)
	tok := text.Train([]byte(train), 300)
	trainIDs, heldIDs := tok.Encode(train), tok.Encode(held)

	unigram := UnigramEntropy(heldIDs, tok.VocabSize())

	c := DefaultConfig()
	c.Vocab, c.Ctx, c.Dim, c.Layers, c.Heads, c.Batch, c.LR = tok.VocabSize(), 32, 32, 1, 2, 16, 3e-3
	m, err := New(c, 1)
	if err != nil {
		t.Fatal(err)
	}
	before, _ := HeldOutLoss(m, heldIDs)
	if err := Pretrain(m, trainIDs, 200, 1, nil); err != nil {
		t.Fatal(err)
	}
	after, _ := HeldOutLoss(m, heldIDs)
	t.Logf("held-out loss %.3f → %.3f nats/token; unigram entropy %.3f", before, after, unigram)
	if after > 0.6*unigram {
		t.Errorf("held-out loss %.3f, want below 0.6 × the unigram entropy %.3f", after, unigram)
	}
}

// TestTrainerDeterministic: the same seed gives the same parameters after a few steps.
func TestTrainerDeterministic(t *testing.T) {
	stream := make([]int, 500)
	rng := rand.New(rand.NewPCG(3, 3))
	for i := range stream {
		stream[i] = rng.IntN(11)
	}
	run := func() []float64 {
		m, _ := New(tinyConfig(), 4)
		if err := Pretrain(m, stream, 5, 9, nil); err != nil {
			t.Fatal(err)
		}
		return m.Params
	}
	a, b := run(), run()
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("param %d: %v then %v", i, a[i], b[i])
		}
	}
}

// TestDecayMask: AdamW decays the block weight matrices and nothing else.
func TestDecayMask(t *testing.T) {
	m, _ := New(tinyConfig(), 1)
	mask := m.DecayMask()
	d, L := m.Config.Dim, m.lay
	n := 0
	for _, ok := range mask {
		if ok {
			n++
		}
	}
	if want := m.Config.Layers * 12 * d * d; n != want {
		t.Errorf("%d decayed parameters, want %d (the block weight matrices)", n, want)
	}
	for _, i := range []int{L.wte, L.wpe, L.blocks[0].ln1g, L.blocks[0].bqkv, L.lnfb} {
		if mask[i] {
			t.Errorf("parameter %d decays", i)
		}
	}
}

// TestSchedule: warm-up from near zero to LR, then down to MinLR at the last step.
func TestSchedule(t *testing.T) {
	c := DefaultConfig()
	if got := Schedule(c, 1, 1000); got != c.LR/float64(c.Warmup) {
		t.Errorf("step 1: %v", got)
	}
	if got := Schedule(c, c.Warmup, 1000); got != c.LR {
		t.Errorf("end of warm-up: %v, want %v", got, c.LR)
	}
	if got := Schedule(c, 1000, 1000); math.Abs(got-c.MinLR) > 1e-15 {
		t.Errorf("last step: %v, want %v", got, c.MinLR)
	}
	if a, b := Schedule(c, 400, 1000), Schedule(c, 600, 1000); !(a > b && b > c.MinLR) {
		t.Errorf("not decaying: %v then %v", a, b)
	}
}

// stories generates n sentences of another register than reviews (a broad text), sharing
// some of its words.
func stories(n int, seed uint64) string {
	rng := rand.New(rand.NewPCG(seed, 7))
	subj := []string{"The old sailor", "A young girl", "The captain", "My brother", "The whale"}
	verb := []string{"walked to", "looked at", "dreamed of", "sailed past"}
	obj := []string{"the sea", "the harbour", "a great ship", "the island", "the food"}
	var b strings.Builder
	for range n {
		b.WriteString(subj[rng.IntN(len(subj))] + " " + verb[rng.IntN(len(verb))] + " " + obj[rng.IntN(len(obj))] + ".\n")
	}
	return b.String()
}

// TestFineTuneMovesToTheNarrowText: a model pretrained on broad text with a little of the
// reviews mixed in, then fine-tuned on the reviews alone, has a lower held-out loss on
// reviews than before the fine-tune; a step size that is not positive is an error.
func TestFineTuneMovesToTheNarrowText(t *testing.T) {
	broad, narrow, held := stories(3000, 1), reviews(300, 1), reviews(200, 2)
	tok := text.Train([]byte(narrow), 300)
	mix := tok.Encode(broad + narrow)
	narrowIDs, heldIDs := tok.Encode(narrow), tok.Encode(held)
	c := DefaultConfig()
	c.Vocab, c.Ctx, c.Dim, c.Layers, c.Heads, c.Batch, c.LR = tok.VocabSize(), 32, 32, 1, 2, 16, 3e-3
	m, err := New(c, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := Pretrain(m, mix, 150, 1, nil); err != nil {
		t.Fatal(err)
	}
	before, _ := HeldOutLoss(m, heldIDs)
	if err := FineTune(m, narrowIDs, 100, 1e-3, 2, nil); err != nil {
		t.Fatal(err)
	}
	after, _ := HeldOutLoss(m, heldIDs)
	t.Logf("held-out loss on the reviews: %.3f after pretraining, %.3f after fine-tuning", before, after)
	if !(after < before-0.1) {
		t.Errorf("fine-tuning moved the held-out loss %.3f → %.3f, want a drop of more than 0.1", before, after)
	}
	if m.Config != c {
		t.Errorf("fine-tuning changed the model's config: %+v", m.Config)
	}
	if err := FineTune(m, narrowIDs, 10, 0, 2, nil); err == nil {
		t.Error("step size 0 accepted")
	}
}
