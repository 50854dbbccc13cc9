//go:build !notext

package ui

import (
	"errors"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/prefer-rlhf/prefer/core/lm"
	"github.com/prefer-rlhf/prefer/core/text"
	"github.com/vugu/vugu/js"
)

// The full build's Try it (tryit.go): the policy's fetch and storage, and the sampling.
//
// Sampling runs on the page, in slices: a continuation is PromptTokens+Length positions of
// one sequence through core/lm's KV-cache sampler (about 2 M multiply-adds for the anchor
// shape, 137k parameters and 5+12 positions), and between positions the sampling hands the
// thread back to the browser once it has run for sliceMS, so the page never stops for longer
// than a slice and a position, whatever the device. The Web Worker would not answer sooner:
// it may be in the middle of a refit. The box shows the time each continuation took (data-ms),
// and the browser test and bench report it.

// sliceMS is the longest the sampling runs before letting the browser render and take input:
// half a 60 Hz frame.
const sliceMS = 8

// heldPolicy is a text project's policy, decoded, with its version and ETag.
type heldPolicy struct {
	project, etag string
	version       int
	m             *lm.Model
}

// loadPolicy decodes a downloaded or stored policy.
func loadPolicy(sp storedPolicy) (*heldPolicy, error) {
	m, err := lm.Decode(sp.Weights)
	if err != nil {
		return nil, err
	}
	return &heldPolicy{project: sp.Project, etag: sp.ETag, version: sp.Version, m: m}, nil
}

// continueText continues prompt with a sample of length tokens from m at temperature 1 (the
// policy carries the text tasks' temperature in its weights: lm.Model.Temper), as
// the env's rollouts (core/text, core/textrl): prompt is tokenized with tok and its last
// promptTokens tokens kept. A shorter prompt is fed as it is: the language model has no
// padding token, and the env's prompts have no padding either (whole words, one length). The
// draws are those of core/lm's Generate with rng; pause, if not nil, runs after each
// position. It returns the prompt as the policy read it and the continuation, decoded.
func continueText(tok *text.BPE, m *lm.Model, prompt string, promptTokens, length int, rng *rand.Rand, pause func()) (read, cont string, err error) {
	c := m.Config
	switch {
	case c.Vocab != tok.VocabSize():
		return "", "", errors.New("ui: the policy reads " + strconv.Itoa(c.Vocab) + " tokens, the project's tokenizer has " + strconv.Itoa(tok.VocabSize()))
	case promptTokens < 1 || length < 1 || promptTokens+length > c.Ctx:
		return "", "", errors.New("ui: a prompt of " + strconv.Itoa(promptTokens) + " tokens and a continuation of " + strconv.Itoa(length) + " do not fit the policy's context of " + strconv.Itoa(c.Ctx))
	}
	ids := tok.Encode(prompt)
	if len(ids) == 0 {
		return "", "", errors.New("ui: an empty prompt")
	}
	ids = ids[max(0, len(ids)-promptTokens):]
	if pause == nil {
		pause = func() {}
	}
	s := m.NewSampler(1)
	next, lp := make([]int, 1), make([]float64, 1)
	for _, id := range ids {
		next[0] = id
		if err := s.Feed(next); err != nil {
			return "", "", err
		}
		pause()
	}
	out := make([]int, length)
	for j := range out {
		if j > 0 {
			if err := s.Feed(next); err != nil {
				return "", "", err
			}
			pause()
		}
		s.Draw(rng, 1, next, lp)
		out[j] = next[0]
	}
	return tok.Decode(ids), tok.Decode(out), nil
}

// yielder returns a pause for continueText that sleeps a millisecond, handing the thread to
// the browser, once sliceMS have passed since the last.
func yielder() func() {
	last := time.Now()
	return func() {
		if time.Since(last) >= sliceMS*time.Millisecond {
			time.Sleep(time.Millisecond)
			last = time.Now()
		}
	}
}

// CanTry reports whether the Try-it box shows: in a text project, once its tokenizer is on
// the device. Call it under a lock.
func (a *App) CanTry() bool {
	return a.text != nil && a.Rater != nil && a.text.project == a.Rater.ProjectID
}

// PolicyVersion is the version of the policy on the device, 0 for none. Call it under a lock.
func (a *App) PolicyVersion() int {
	if a.policy == nil || a.Rater == nil || a.policy.project != a.Rater.ProjectID {
		return 0
	}
	return a.policy.version
}

// TryPrompt samples a continuation of prompt from the policy on the device. Call it under the
// write lock (from an event handler).
func (a *App) TryPrompt(prompt string) {
	if a.Try.Busy || !a.CanTry() {
		return
	}
	defer a.drawTry()
	switch {
	case strings.TrimSpace(prompt) == "":
		a.Try.Err = "Type the start of a text first."
		return
	case a.PolicyVersion() == 0:
		a.Try.Err = "No policy on this device yet: it arrives from the hub after the trainer's first round."
		return
	}
	a.Try.Busy, a.Try.Err = true, ""
	b, p := a.text, a.policy
	go func() {
		time.Sleep(time.Millisecond) // "Sampling…" shows first
		t0 := time.Now()
		read, cont, err := continueText(b.tok, p.m, prompt, b.PromptTokens, b.Length, rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64())), yielder())
		ms := float64(time.Since(t0).Microseconds()) / 1000
		a.update(func() {
			defer a.drawTry()
			a.Try.Busy = false
			if err != nil {
				a.Try.Err = "Could not continue it: " + err.Error()
				return
			}
			a.Try = TryState{Prompt: read, Out: cont, Version: p.version, MS: ms, Count: a.Try.Count + 1}
		})
	}()
}

// restorePolicy reads and decodes the policy kept on the device, if any, in the background,
// after the first pair has shown. Call it under the write lock.
func (a *App) restorePolicy() {
	if a.Rater == nil {
		return
	}
	a.policyBusy = true
	project := a.Rater.ProjectID
	go func() {
		time.Sleep(100 * time.Millisecond)
		defer TraceEnd("restore policy", TraceStart())
		rec, err := a.store.Get(StoreBlobs, blobPolicy)
		var hp *heldPolicy
		if err == nil && rec != nil {
			var sp storedPolicy
			err = open(*rec, &sp)
			if err == nil && sp.Project == project {
				hp, err = loadPolicy(sp)
			}
			if err != nil {
				a.mu.Lock()
				a.store.Write(del(StoreBlobs, blobPolicy)) // fetched again from the hub
				a.mu.Unlock()
			}
		}
		a.update(func() {
			a.policyBusy = false
			if hp != nil && a.policy == nil {
				a.policy = hp
				a.drawTry()
			}
			a.needPolicy()
		})
	}()
}

// needPolicy fetches the project's policy in the background when the hub has announced a
// version newer than the one on the device, unless a fetch or a restore is running. Call it
// under the write lock.
func (a *App) needPolicy() {
	r := a.Rater
	if a.policyBusy || !a.CanTry() || a.PolicyWant == 0 {
		return
	}
	etag := ""
	if a.policy != nil && a.policy.project == r.ProjectID {
		if a.policy.version >= a.PolicyWant {
			return
		}
		etag = a.policy.etag
	}
	a.policyBusy = true
	go a.fetchPolicy(r, etag)
}

// fetchPolicy fetches the project's latest policy (revalidating etag, the one held), keeps
// it on the device and hands it to Try it. Offline, it is tried again after the next sync.
func (a *App) fetchPolicy(r *Rater, etag string) {
	defer TraceEnd("policy", TraceStart())
	var sp *storedPolicy
	var hp *heldPolicy
	var err error
	if ph, ok := a.hub.(policyHub); ok {
		sp, err = ph.Policy(r, etag)
	} else {
		err = errors.New("ui: this hub serves no policies")
	}
	if err == nil && sp != nil {
		sp.Project = r.ProjectID
		if hp, err = loadPolicy(*sp); err == nil {
			op, perr := put(StoreBlobs, blobPolicy, sp)
			if perr == nil {
				a.mu.Lock()
				perr = a.store.Write(op)
				a.mu.Unlock()
			}
			if perr != nil {
				a.Warn("Could not keep the policy on this device for Try it: " + perr.Error())
			}
		}
	}
	a.update(func() {
		a.policyBusy = false
		var he *HubError
		switch {
		case errors.Is(err, ErrNetwork) || errors.As(err, &he) && he.Status == 404:
			// Offline, or nothing published yet: the next sync tries again.
		case err != nil:
			a.warn("Could not load the policy for Try it: " + err.Error())
		case hp != nil:
			a.policy = hp
			a.drawTry()
		}
	})
}

// policyHub is a Hub that serves text projects' policies, as FetchHub does.
type policyHub interface {
	// Policy fetches a text project's latest policy; nil, nil when etag (if not "") is
	// still current.
	Policy(r *Rater, etag string) (*storedPolicy, error)
}

// Policy calls GET /api/v1/projects/{pid}/policy.
func (h *FetchHub) Policy(r *Rater, etag string) (*storedPolicy, error) {
	var hdr map[string]any
	if etag != "" {
		hdr = map[string]any{"If-None-Match": etag}
	}
	b, resp, err := h.fetch("GET", "/api/v1/projects/"+r.ProjectID+"/policy", r.Token, nil, hdr)
	var he *HubError
	if errors.As(err, &he) && he.Status == 304 {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	v, verr := strconv.Atoi(resp.Call("get", "X-Policy-Version").String())
	if verr != nil || v < 1 {
		return nil, &HubError{Status: 200, Code: "bad_response", Message: "no policy version"}
	}
	return &storedPolicy{Version: v, ETag: resp.Call("get", "ETag").String(), Weights: b}, nil
}

// tryDOM is the Try-it box's elements.
type tryDOM struct {
	box, input, button, out, read, cont, meta js.Value
	submit                                    js.Func
}

// MountTryIt fills the box's placeholder element (labeller.vugu) with a form (prompt, Continue;
// Enter submits), the answer and a line about the policy, once per element. It runs while
// the page renders, under the read lock.
func (a *App) MountTryIt(box js.Value) {
	if d := a.tryUI; d != nil && sameJS(d.box, box) {
		return
	}
	doc := js.Global().Get("document")
	el := func(tag, class, id string) js.Value {
		e := doc.Call("createElement", tag)
		if class != "" {
			e.Set("className", class)
		}
		if id != "" {
			e.Set("id", id)
		}
		return e
	}
	d := &tryDOM{box: box}
	form := el("form", "try-form", "")
	label := el("label", "", "")
	label.Set("htmlFor", "try-prompt")
	label.Set("textContent", "Try it")
	d.input = el("input", "", "try-prompt")
	for k, v := range map[string]string{"autocomplete": "off", "spellcheck": "false", "placeholder": "Type the start of a review"} {
		d.input.Call("setAttribute", k, v)
	}
	d.button = el("button", "ctl", "try-go")
	d.button.Set("type", "submit")
	d.button.Set("textContent", "Continue")
	form.Call("append", label, d.input, d.button)
	d.out, d.read, d.cont = el("p", "try-out", "try-out"), el("span", "muted", ""), el("b", "", "")
	d.out.Call("append", d.read, d.cont)
	d.meta = el("p", "try-meta", "try-meta")
	box.Call("replaceChildren", form, d.out, d.meta)
	d.submit = js.FuncOf(func(_ js.Value, args []js.Value) any {
		arg0(args).Call("preventDefault")
		prompt := d.input.Get("value").String()
		go a.update(func() { a.TryPrompt(prompt) })
		return nil
	})
	form.Call("addEventListener", "submit", d.submit)
	if old := a.tryUI; old != nil {
		old.submit.Release()
	}
	a.tryUI = d
	a.drawTry()
}

// drawTry shows the box's state. Call it under a lock.
func (a *App) drawTry() {
	d := a.tryUI
	if d == nil {
		return
	}
	t := a.Try
	d.button.Set("disabled", t.Busy)
	d.out.Set("hidden", t.Out == "")
	d.read.Set("textContent", t.Prompt)
	d.cont.Set("textContent", t.Out)
	d.out.Call("setAttribute", "data-version", strconv.Itoa(t.Version))
	d.out.Call("setAttribute", "data-ms", strconv.FormatFloat(t.MS, 'f', 1, 64))
	d.out.Call("setAttribute", "data-count", strconv.Itoa(t.Count))
	d.meta.Set("textContent", a.tryMeta())
}

// tryMeta is the line under the box: what is happening, or which policy wrote the answer.
// Call it under a lock.
func (a *App) tryMeta() string {
	t := a.Try
	switch {
	case t.Busy:
		return "Sampling…"
	case t.Err != "":
		return t.Err
	case t.Out != "":
		return "Policy v" + strconv.Itoa(t.Version) + " wrote this on your device in " + strconv.Itoa(int(t.MS+0.5)) + " ms. Press Continue again for another sample."
	case a.PolicyVersion() > 0:
		return "Type a prompt; policy v" + strconv.Itoa(a.PolicyVersion()) + ", the one the class is training, continues it on your device."
	}
	return "The policy being trained arrives from the hub after the trainer's first round."
}
