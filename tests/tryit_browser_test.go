package tests

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/prefer-rlhf/prefer/core/lm"
	"github.com/prefer-rlhf/prefer/core/text"
	"github.com/prefer-rlhf/prefer/core/wire"
	"github.com/prefer-rlhf/prefer/server/store"
	bt "github.com/prefer-rlhf/prefer/tests/browsertest"
)

// publishTinyPolicy pretrains a small language model on the corpus for 600 steps (so its
// continuations read like the reviews) and publishes it through the trainer API as
// policy version 1, as the hub's trainer publishes the reference.
func publishTinyPolicy(t *testing.T, api interface {
	PublishRound(context.Context, *store.Round) error
}, pid string, b wire.TextBundle, corpus string, round int) {
	t.Helper()
	tok, err := text.LoadBPE(b.Tokenizer)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(corpus)
	if err != nil {
		t.Fatal(err)
	}
	c := lm.DefaultConfig()
	c.Vocab, c.Ctx, c.Dim, c.Layers, c.Heads, c.Batch, c.Warmup, c.LR, c.MinLR = tok.VocabSize(), 32, 32, 1, 2, 16, 20, 1e-2, 1e-3
	m, err := lm.New(c, 1)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	stream := tok.Encode(string(raw))
	if err := lm.Pretrain(m, stream, 600, 1, nil); err != nil {
		t.Fatal(err)
	}
	loss, err := lm.HeldOutLoss(m, stream[:4096])
	if u := lm.UnigramEntropy(stream, c.Vocab); err != nil || loss >= u {
		t.Fatalf("the pretrained policy's loss %.2f nats per token is no better than the unigram entropy %.2f (%v)", loss, u, err)
	}
	t.Logf("the policy: pretrained in %v (a noisy figure), loss %.2f nats per token", time.Since(t0).Round(time.Millisecond), loss)
	w, _ := m.MarshalBinary()
	if err := api.PublishRound(context.Background(), &store.Round{ProjectID: pid, Round: round, Policy: &store.Policy{Version: 1, Weights: w}}); err != nil {
		t.Fatal(err)
	}
}

// jsTry is the Try-it box's answer: the prompt as the policy read it, the continuation, the
// policy version and the sampling time.
const jsTry = `(() => { const o = document.getElementById('try-out'); return o && !o.hidden ? [o.querySelector('span').textContent, o.querySelector('b').textContent, o.dataset.version, o.dataset.ms, o.dataset.count] : []; })()`

// TestBrowserTryIt is issue 13's Try it: in a text project whose trainer has published a
// policy, the rater types a prompt in the box (the arrow keys move the caret there, they
// answer no pair) and presses Enter; the policy's continuation, sampled on the device, shows
// with its version. Offline, after a reload, Try it still answers from the policy kept on the
// device. Screenshots at phone and laptop sizes.
func TestBrowserTryIt(t *testing.T) {
	corpus, srv, api, pid, code, bundle := startTextProject(t)
	publishTextPairs(t, api, pid, bundle, 8)
	publishTinyPolicy(t, api, pid, bundle, corpus, 2)

	ctx := bt.NewBrowser(t)
	bt.Do(t, ctx, chromedp.Navigate(srv.URL+"/join?code="+code))
	bt.Wait(t, ctx, "the join form", `!!document.getElementById('join-name')`, 30*time.Second)
	bt.Do(t, ctx, chromedp.SendKeys(chromedp.ID("join-name"), "Ada"), chromedp.Click(chromedp.CSS(`form.join button[type=submit]`)))
	waitAcrossReload(t, ctx, "the text build", `localStorage.getItem('prefer-app') === 'text' && !!document.getElementById('text-left') && (`+jsPairID+`) !== ''`, 60*time.Second)
	bt.Wait(t, ctx, "the policy", `(document.getElementById('try-meta') || {}).textContent?.includes('policy v1')`, 30*time.Second)

	try := func(prompt string) []string {
		t.Helper()
		before := bt.Eval[string](t, ctx, jsPairID)
		n := bt.Eval[string](t, ctx, `document.getElementById('try-out').dataset.count`)
		bt.Eval[string](t, ctx, `document.getElementById('try-prompt').value = ''`)
		bt.Do(t, ctx, chromedp.SendKeys(chromedp.ID("try-prompt"), prompt+"r"+kb.Backspace+kb.ArrowLeft+kb.ArrowRight+kb.ArrowUp+kb.ArrowDown+kb.Enter))
		bt.Wait(t, ctx, "a continuation", `(`+jsTry+`)[4] > `+n, 30*time.Second)
		if got := bt.Eval[string](t, ctx, jsPairID); got != before || bt.Eval[string](t, ctx, jsStored) != "0" || bt.Eval[string](t, ctx, `document.querySelector('.app').dataset.view`) != "label" {
			t.Fatalf("typing in Try it answered a pair or opened red-team mode: pair %q, was %q", got, before)
		}
		out := bt.Eval[[]string](t, ctx, jsTry)
		t.Logf("Try it: %q + %q (policy v%s, %s ms on the page; a noisy figure on a shared machine)", out[0], out[1], out[2], out[3])
		if out[2] != "1" || strings.TrimSpace(out[1]) == "" || !strings.HasSuffix(prompt, out[0]) {
			t.Fatalf("Try it answered %q", out)
		}
		return out
	}
	try("The food was great and")
	screenshots(t, ctx, "text-tryit", `document.querySelector('.tryit').scrollIntoView({block: 'end'}), true`)

	bt.WaitServiceWorker(t, ctx)
	bt.SetOffline(t, ctx, true)
	bt.Do(t, ctx, chromedp.Reload())
	bt.Wait(t, ctx, "the text labeller, offline", `!!document.getElementById('text-left') && (`+jsPairID+`) !== ''`, 30*time.Second)
	bt.Wait(t, ctx, "the policy kept on the device", `(document.getElementById('try-meta') || {}).textContent?.includes('policy v1')`, 30*time.Second)
	if !strings.Contains(bt.Eval[string](t, ctx, `document.getElementById('net').textContent`), "Offline") {
		t.Log("the status does not read Offline yet")
	}
	try("This phone is")
}
