//go:build !notext

package ui

import (
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/prefer-rlhf/prefer/core/text"
	"github.com/prefer-rlhf/prefer/wasm/fitter"
	"github.com/vugu/vugu/js"
)

// The full build's text reading (textpair.go): the text bundle's fetch and storage, and the
// tokenizer. The build for clip projects has fullswitch.go instead.

// ReadsText is true in the full build, whose fit workers must be text.wasm too
// (a worker named "text", public/fitter.js).
const ReadsText = true

// textBundle is a bundle with its tokenizer loaded, the layout its clips are read with, and
// the project it belongs to.
type textBundle struct {
	TextBundle
	project string
	tok     *text.BPE
	layout  text.ClipLayout
}

// loadBundle checks a bundle and loads its tokenizer.
func loadBundle(project string, b TextBundle) (*textBundle, error) {
	if !fitter.IsText(b.Env) {
		return nil, errors.New("ui: the text bundle is for " + b.Env + ", not a text task")
	}
	tok, err := text.LoadBPE(b.Tokenizer)
	if err != nil {
		return nil, err
	}
	// The continuation length is not checked: the hub checked it when the clips were published.
	layout := text.ClipLayout{Prompt: b.PromptTokens, Vocab: tok.VocabSize()}
	return &textBundle{TextBundle: b, project: project, tok: tok, layout: layout}, nil
}

// prepareText decodes a text pair with tok, once. The two continuations must follow the same
// prompt.
func (p *Pair) prepareText(b *textBundle) error {
	tok := b.tok
	if p.text != nil {
		return nil
	}
	lp, lc, err := b.layout.Tokens(&p.Left)
	if err != nil {
		return errors.New("left: " + err.Error())
	}
	rp, rc, err := b.layout.Tokens(&p.Right)
	if err != nil {
		return errors.New("right: " + err.Error())
	}
	if !slices.Equal(lp, rp) {
		return errors.New("the two continuations follow different prompts")
	}
	p.text = &textView{Prompt: tok.Decode(lp), Left: "…" + tok.Decode(lc), Right: "…" + tok.Decode(rc)}
	return nil
}

// needText fetches the text bundle in the background unless a fetch is running. Call it
// under the write lock.
func (a *App) needText() {
	if a.textBusy || a.Rater == nil {
		return
	}
	a.textBusy = true
	go a.fetchText(a.Rater)
}

// fetchText fetches the project's text bundle, keeps it on the device and shows the text pair
// waiting for it. Offline, it is tried again after the next sync.
func (a *App) fetchText(r *Rater) {
	defer TraceEnd("text bundle", TraceStart())
	var b *TextBundle
	var err error
	if th, ok := a.hub.(textHub); ok {
		b, err = th.Text(r)
	} else {
		err = errors.New("ui: this hub serves no text bundles")
	}
	var tb *textBundle
	if err == nil {
		tb, err = loadBundle(r.ProjectID, *b)
	}
	if err == nil {
		op, perr := put(StoreMeta, metaText, storedBundle{Project: r.ProjectID, Bundle: *b})
		if perr == nil {
			a.mu.Lock()
			perr = a.store.Write(op)
			a.mu.Unlock()
		}
		if perr != nil {
			a.Warn("Could not keep the text project's tokenizer on this device: " + perr.Error())
		}
	}
	a.update(func() {
		a.textBusy = false
		if err != nil {
			if !errors.Is(err, ErrNetwork) {
				a.warn("Could not load the text project's tokenizer: " + err.Error())
			}
			return
		}
		a.text = tb
		if a.WaitingText() {
			a.showCurrent()
		}
		a.needPolicy() // Try it's policy, if the last sync announced one
	})
}

// textHub is a Hub that serves text bundles, as FetchHub does.
type textHub interface {
	// Text fetches a text project's bundle: its tokenizer, to read the pairs.
	Text(r *Rater) (*TextBundle, error)
}

// Text calls GET /api/v1/projects/{pid}/text.
func (h *FetchHub) Text(r *Rater) (*TextBundle, error) {
	b, err := h.do("GET", "/api/v1/projects/"+r.ProjectID+"/text", r.Token, nil)
	if err != nil {
		return nil, err
	}
	var resp TextBundle
	if err := json.Unmarshal(b, &resp); err != nil {
		return nil, &HubError{Status: 200, Code: "bad_response", Message: err.Error()}
	}
	return &resp, nil
}

// TextGoal is the text task in words, as raters read it above the prompt; "" for a clip
// project. Call it under a lock.
func (a *App) TextGoal() string {
	p := a.Current()
	if p == nil || !p.isText() {
		return ""
	}
	t, _ := text.TaskOf(p.Left.Env)
	return "Which continuation does this better: " + t.Goal + "?"
}

// MarksText words the tokens that moved the local model's prediction for the text pair of l
// most (fitter.Mark), e.g. ` Words that moved it: “great” (for left), “awful” (against
// right).`; "" for a clip pair. It shows with the prediction, after the answer, and not when
// the teacher hides model assistance (ShowPrediction). Call it under a lock.
func (a *App) MarksText(l *Label, p fitter.Prediction) string {
	if a.text == nil || len(p.Marks) == 0 {
		return ""
	}
	var parts []string
	for _, m := range p.Marks {
		c, side := &l.Pair.Left, "left"
		if m.Side == 1 {
			c, side = &l.Pair.Right, "right"
		}
		_, cont, err := a.text.layout.Tokens(c)
		if err != nil || m.Token < 0 || m.Token >= len(cont) {
			continue
		}
		dir := " (for "
		if m.R < 0 {
			dir = " (against "
		}
		parts = append(parts, "“"+strings.TrimSpace(a.text.tok.Decode(cont[m.Token:m.Token+1]))+"”"+dir+side+")")
	}
	if len(parts) == 0 {
		return ""
	}
	return " Words that moved it: " + strings.Join(parts, ", ") + "."
}

// MarkFirstText notes the time of the first text pair on this page: performance.now() at the
// animation frame that paints it, as data-first-text on the document element (the browser
// bench's first-text-pair figure, tests/browser_bench_test.go).
func (a *App) MarkFirstText(js.Value) {
	if a.firstText {
		return
	}
	a.firstText = true
	TraceMark("prefer:text pair created")
	var f js.Func
	f = js.FuncOf(func(js.Value, []js.Value) any {
		f.Release()
		ms := js.Global().Get("performance").Call("now").Float()
		js.Global().Get("document").Get("documentElement").Call("setAttribute", "data-first-text", strconv.FormatFloat(ms, 'f', 1, 64))
		return nil
	})
	js.Global().Call("requestAnimationFrame", f)
}
