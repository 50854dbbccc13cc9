package langmodel

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/prefer-rlhf/prefer/core/lm"
)

// tinyCorpus is a generated corpus of short sentences, so the test needs no download.
func tinyCorpus() []byte {
	r := rand.New(rand.NewPCG(3, 0))
	subj := []string{"The food", "This phone", "The movie", "Our waiter", "The battery"}
	verb := []string{"was", "is", "seemed", "felt"}
	adj := []string{"great", "awful", "fine", "slow", "lovely", "terrible"}
	var b strings.Builder
	for range 400 {
		fmt.Fprintf(&b, "%s %s %s.\n", subj[r.IntN(len(subj))], verb[r.IntN(len(verb))], adj[r.IntN(len(adj))])
	}
	return []byte(b.String())
}

// TestCachedTrainsOnceThenLoads: the first call pretrains and saves, the second loads the same
// weights without training, pretraining is reproducible, it learned (held-out loss fell), and
// another temperature tempers the same saved weights.
func TestCachedTrainsOnceThenLoads(t *testing.T) {
	dir := t.TempDir()
	b := tinyCorpus()
	s := Settings{Steps: 40, Seed: 2, Temperature: 1}
	var log bytes.Buffer
	m1, tok1, err := Cached(dir, b, nil, s, &log)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "pretraining") {
		t.Fatalf("first call did not pretrain: %q", log.String())
	}
	if _, err := os.Stat(filepath.Join(dir, FileName(b, nil, s))); err != nil {
		t.Fatalf("model not saved: %v", err)
	}
	log.Reset()
	m2, tok2, err := Cached(dir, b, nil, s, &log)
	if err != nil {
		t.Fatal(err)
	}
	if log.Len() != 0 {
		t.Fatalf("second call trained again: %q", log.String())
	}
	if !slices.Equal(m1.Params, m2.Params) || tok1.VocabSize() != tok2.VocabSize() {
		t.Fatal("the loaded model differs from the saved one")
	}
	res, m3, _, err := Pretrain(b, nil, s, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(m1.Params, m3.Params) {
		t.Fatal("pretraining with the same corpus and settings is not reproducible")
	}
	_, _, held, _ := Streams(b)
	m0, _ := lm.New(m1.Config, s.Seed)
	l0, err := lm.HeldOutLoss(m0, held)
	if err != nil {
		t.Fatal(err)
	}
	if !(res.HeldOutLoss < l0-0.5) {
		t.Fatalf("held-out loss %.3f, untrained %.3f: pretraining did not learn", res.HeldOutLoss, l0)
	}
	if FileName(b, nil, Settings{Steps: 41, Seed: 2, Temperature: 1}) == FileName(b, nil, s) {
		t.Fatal("other settings share the cache file")
	}
	// Another temperature reads the same file and tempers the same weights.
	hot := s
	hot.Temperature = 0.5
	if FileName(b, nil, hot) != FileName(b, nil, s) {
		t.Fatal("the temperature changed the cache file of the pretrained weights")
	}
	log.Reset()
	m4, _, err := Cached(dir, b, nil, hot, &log)
	if err != nil {
		t.Fatal(err)
	}
	want := m1.Clone()
	want.Temper(0.5)
	if log.Len() != 0 || !slices.Equal(m4.Params, want.Params) || slices.Equal(m4.Params, m1.Params) {
		t.Fatalf("temperature 0.5: trained again (%q) or not the saved weights tempered", log.String())
	}
}

// TestCachedRejectsBadInput: no steps, no temperature, and a corpus too small to split, are
// errors.
func TestCachedRejectsBadInput(t *testing.T) {
	if _, _, err := Cached(t.TempDir(), tinyCorpus(), nil, Settings{Steps: 0, Seed: 1, Temperature: 1}, nil); err == nil {
		t.Fatal("0 steps accepted")
	}
	if _, _, err := Cached(t.TempDir(), tinyCorpus(), nil, Settings{Steps: 5, Seed: 1}, nil); err == nil {
		t.Fatal("temperature 0 accepted")
	}
	if _, _, err := Cached(t.TempDir(), []byte("one sentence.\n"), nil, DefaultSettings(), nil); err == nil {
		t.Fatal("a one-sentence corpus accepted")
	}
}

// tinyBroad is a generated broad text: another register than tinyCorpus, sharing a few words.
func tinyBroad() []byte {
	r := rand.New(rand.NewPCG(5, 0))
	subj := []string{"The old sailor", "A young girl", "The captain", "The whale"}
	verb := []string{"walked to", "looked at", "sailed past"}
	obj := []string{"the sea", "the harbour", "a great ship", "the food"}
	var b strings.Builder
	for range 1500 {
		fmt.Fprintf(&b, "%s %s %s.\n", subj[r.IntN(len(subj))], verb[r.IntN(len(verb))], obj[r.IntN(len(obj))])
	}
	return []byte(b.String())
}

// TestPretrainBroadThenFineTune: pretraining with a broad text and a fine-tuning stage gives
// its own cache file and shape, is reproducible, keeps the corpus's tokenizer, and the
// fine-tuning brings the held-out loss on the corpus down from where the mix left it.
func TestPretrainBroadThenFineTune(t *testing.T) {
	b, broad := tinyCorpus(), tinyBroad()
	mix := Settings{Steps: 60, Seed: 2, Repeat: 2, Temperature: 1, Dim: 32, Layers: 1}
	ft := mix
	ft.FineTune, ft.FineTuneLR = 40, 1e-3
	names := map[string]bool{FileName(b, nil, mix): true, FileName(b, broad, mix): true, FileName(b, broad, ft): true}
	if len(names) != 3 {
		t.Fatal("the broad text or the fine-tuning stage does not change the cache file")
	}
	rm, m1, tok, err := Pretrain(b, broad, mix, nil)
	if err != nil {
		t.Fatal(err)
	}
	rf, m2, tok2, err := Pretrain(b, broad, ft, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, m3, _, _ := Pretrain(b, broad, ft, nil)
	if !slices.Equal(m2.Params, m3.Params) {
		t.Fatal("pretraining with a broad text and fine-tuning is not reproducible")
	}
	own, _, _, _ := Streams(b)
	if tok.VocabSize() != own.VocabSize() || tok2.Encode("The food was great.") == nil || !slices.Equal(tok2.Encode("The captain"), own.Encode("The captain")) {
		t.Fatal("the broad text changed the tokenizer")
	}
	if m1.Config.Dim != 32 || m1.Config.Layers != 1 || rf.Steps != 100 {
		t.Fatalf("shape %d×%d, %d steps: the settings' shape or steps were not used", m1.Config.Dim, m1.Config.Layers, rf.Steps)
	}
	t.Logf("held-out loss on the corpus: %.3f after the mix, %.3f after fine-tuning", rm.HeldOutLoss, rf.HeldOutLoss)
	if !(rf.HeldOutLoss < rm.HeldOutLoss-0.1) {
		t.Errorf("fine-tuning moved the held-out loss %.3f → %.3f, want a drop of more than 0.1", rm.HeldOutLoss, rf.HeldOutLoss)
	}
	if n := ft.Narrow(); n.Broad || n.FineTune != 0 || n.Steps != ft.Steps || n.Dim != ft.Dim {
		t.Errorf("Narrow = %+v: want no broad text and no fine-tuning, the rest as before", n)
	}
	bad := ft
	bad.FineTuneLR = 0
	if _, _, _, err := Pretrain(b, broad, bad, nil); err == nil {
		t.Error("fine-tuning with step size 0 accepted")
	}
}
