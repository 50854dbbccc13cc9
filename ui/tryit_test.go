//go:build !notext

package ui

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prefer-rlhf/prefer/core/lm"
	"github.com/prefer-rlhf/prefer/core/prefs"
	"github.com/prefer-rlhf/prefer/core/text"
)

func (h *fakeHub) Policy(r *Rater, etag string) (*storedPolicy, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.policyIf = append(h.policyIf, etag)
	switch {
	case h.offline:
		return nil, ErrNetwork
	case h.policy == nil:
		return nil, &HubError{Status: 404, Code: "not_found", Field: "pid", Message: "no policy yet"}
	case etag == h.policy.ETag:
		return nil, nil
	}
	p := *h.policy
	return &p, nil
}

// tinyPolicy is a small language model over the byte bundle's 257 tokens, encoded as the hub
// serves it (float32).
func tinyPolicy(t *testing.T, seed uint64, version int) (*lm.Model, *storedPolicy) {
	t.Helper()
	c := lm.DefaultConfig()
	c.Vocab, c.Ctx, c.Dim, c.Layers, c.Heads = 257, 24, 8, 1, 2
	m, err := lm.New(c, seed)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := m.MarshalBinaryFloat32()
	m32, err := lm.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	return m32, &storedPolicy{Version: version, ETag: `"policy-` + string(rune('0'+version)) + `"`, Weights: b}
}

// TestContinueText: a prompt is tokenized with the project's tokenizer, its last PromptTokens
// tokens kept, and continued by Length tokens of the policy's sampler at temperature 1: the
// same seed gives the same continuation, the one core/lm's Generate draws from those tokens,
// with or without pauses between positions; other seeds give others. An empty prompt, a policy of another vocabulary or one whose
// context cannot hold prompt and continuation are errors.
func TestContinueText(t *testing.T) {
	b, err := loadBundle("p1", *byteBundle())
	if err != nil {
		t.Fatal(err)
	}
	tok, P, L := b.tok, b.PromptTokens, b.Length
	m, _ := tinyPolicy(t, 7, 1)
	const prompt = "The food was good"
	read, cont, err := continueText(tok, m, prompt, P, L, rand.New(rand.NewPCG(1, 2)), nil)
	if err != nil {
		t.Fatal(err)
	}
	ids := tok.Encode(prompt)
	if want := tok.Decode(ids[len(ids)-P:]); read != want || !strings.HasSuffix(prompt, read) {
		t.Fatalf("the policy read %q, want the last %d tokens %q", read, P, want)
	}
	toks, _, err := m.NewSampler(1).Generate(rand.New(rand.NewPCG(1, 2)), ids[len(ids)-P:], L, 1)
	if err != nil {
		t.Fatal(err)
	}
	if want := tok.Decode(toks); cont != want {
		t.Fatalf("continuation %q, want the sampler's %q", cont, want)
	}
	pauses := 0
	if _, again, _ := continueText(tok, m, prompt, P, L, rand.New(rand.NewPCG(1, 2)), func() { pauses++ }); again != cont || pauses != P+L-1 {
		t.Fatalf("the same seed gave %q, then %q with %d pauses (want %d)", cont, again, pauses, P+L-1)
	}
	seen := map[string]bool{cont: true}
	for s := uint64(3); s < 8; s++ {
		_, c, _ := continueText(tok, m, prompt, P, L, rand.New(rand.NewPCG(s, 2)), nil)
		seen[c] = true
	}
	if len(seen) < 3 {
		t.Fatalf("6 seeds gave %d continuations", len(seen))
	}
	// A prompt shorter than PromptTokens is fed as it is.
	if r, c, err := continueText(tok, m, "Hi", P, L, rand.New(rand.NewPCG(1, 2)), nil); err != nil || r != "Hi" || c == "" {
		t.Fatalf("a short prompt: %q %q %v", r, c, err)
	}
	if _, _, err := continueText(tok, m, "", P, L, rand.New(rand.NewPCG(1, 2)), nil); err == nil {
		t.Fatal("an empty prompt was continued")
	}
	if _, _, err := continueText(tok, m, prompt, P, 30, rand.New(rand.NewPCG(1, 2)), nil); err == nil {
		t.Fatal("a continuation past the context was sampled")
	}
	other, err := text.LoadBPE([]byte(`{"format":"prefer-bpe","version":1,"merges":[[111,111],[32,116]]}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := continueText(other, m, prompt, P, L, rand.New(rand.NewPCG(1, 2)), nil); err == nil || !strings.Contains(err.Error(), "258") {
		t.Fatalf("a tokenizer of 258 tokens for a policy of 257: %v", err)
	}
}

// tryOnce presses Continue with prompt and waits for the answer.
func tryOnce(t *testing.T, a *App, prompt string) TryState {
	t.Helper()
	var n int
	a.update(func() { n = a.Try.Count; a.Try.Err = ""; a.TryPrompt(prompt) })
	waitFor(t, a, func() bool { return !a.Try.Busy && (a.Try.Count > n || a.Try.Err != "") })
	var s TryState
	a.read(func() { s = a.Try })
	return s
}

// TestTryItOffline: the policy a sync announces is fetched once the project's tokenizer is on
// the device, kept there, and continues prompts; a returning rater offline continues them from
// the device with no request; a newer version announced by a sync is fetched, revalidating
// the held one's ETag.
func TestTryItOffline(t *testing.T) {
	h := &fakeHub{stored: map[string]prefs.Comparison{}, pairs: textPairs(4), bundle: byteBundle()}
	_, p1 := tinyPolicy(t, 1, 1)
	h.policy = p1
	h.study.PolicyVersion = 1
	st := NewMemStore()
	a := newTestApp(st, h)
	a.update(func() { a.TryPrompt("Food") })
	var can, busy bool
	a.read(func() { can, busy = a.CanTry(), a.Try.Busy })
	if can || busy {
		t.Fatal("Try it shows before the project's tokenizer is on the device")
	}
	joinAndFill(t, a, h)
	waitFor(t, a, func() bool { return a.PolicyVersion() == 1 && !a.policyBusy })
	if s := tryOnce(t, a, "   "); s.Err == "" || s.Out != "" {
		t.Fatalf("a blank prompt: %+v", s)
	}
	s := tryOnce(t, a, "The food was good")
	if s.Err != "" || s.Version != 1 || s.Out == "" || !strings.HasSuffix("The food was good", s.Prompt) {
		t.Fatalf("Try it: %+v", s)
	}
	if _, ok := st.Data[StoreBlobs][blobPolicy]; !ok {
		t.Fatal("the policy is not kept on the device")
	}
	if snap, _ := st.Load(); len(snap.Meta)+len(snap.Labels)+len(snap.Pairs) != len(st.Data[StoreMeta])+len(st.Data[StoreLabels])+len(st.Data[StorePairs]) {
		t.Fatal("start-up reads the policy")
	}

	h.offline = true
	reqs := len(h.policyIf)
	b := newTestApp(st, h)
	b.load("", "")
	waitFor(t, b, func() bool { return b.PolicyVersion() == 1 && !b.policyBusy })
	if s := tryOnce(t, b, "The food was good"); s.Err != "" || s.Version != 1 || s.Out == "" {
		t.Fatalf("Try it offline: %+v", s)
	}
	if len(h.policyIf) != reqs {
		t.Fatalf("%d policy requests offline", len(h.policyIf)-reqs)
	}

	h.offline = false
	_, p2 := tinyPolicy(t, 2, 2)
	h.policy, h.study.PolicyVersion = p2, 2
	if _, err := b.syncOnce(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, b, func() bool { return b.PolicyVersion() == 2 && !b.policyBusy })
	if last := h.policyIf[len(h.policyIf)-1]; last != p1.ETag {
		t.Fatalf("the refetch sent If-None-Match %q, want %q", last, p1.ETag)
	}
	if s := tryOnce(t, b, "The food was good"); s.Version != 2 {
		t.Fatalf("after version 2: %+v", s)
	}
	// Another sync with nothing newer fetches nothing.
	n := len(h.policyIf)
	if _, err := b.syncOnce(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	if len(h.policyIf) != n || !slices.Contains(h.policyIf, "") {
		t.Fatalf("policy requests %q", h.policyIf)
	}
}
