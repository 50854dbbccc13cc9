package ui

import (
	"errors"

	"github.com/prefer-rlhf/prefer/core/wire"
	"github.com/prefer-rlhf/prefer/wasm/fitter"
)

// A text project's pairs are continuations of one prompt (core/text). Their clips hold token
// ids, so reading them needs the project's tokenizer: the text bundle, fetched once per project
// and kept on the device with the labels, so a returning or offline rater reads pairs with no
// network. Nothing of this runs for a clip project.
//
// Reading text costs the app about 10 KB brotli (the tokenizer, the bundle's fetch and
// storage), which the first load of a clip project cannot afford (its goal is 1.0 MB): the
// build for clip projects (app.wasm, tag notext) carries only what shows a text pair, and on
// the first text pair it switches the page to the full build (text.wasm, kept by the service
// worker for offline use) with fullswitch.go. This file is both builds'; textread.go is the
// full build's.

// metaText is the meta key of the text bundle.
const metaText = "text_bundle"

// TextBundle is what reading a text project's pairs needs: GET /api/v1/projects/{pid}/text.
type TextBundle = wire.TextBundle

// storedBundle is the bundle as kept on the device, with its project.
type storedBundle struct {
	Project string     `json:"project_id"`
	Bundle  TextBundle `json:"bundle"`
}

// textView is a text pair decoded for reading: the prompt once, and the two continuations,
// each after an ellipsis.
type textView struct {
	Prompt, Left, Right string
	_                   [0]func() // not comparable: no equality function in the app
}

// isText reports whether p is a pair of text clips.
func (p *Pair) isText() bool { return fitter.IsText(p.Left.Env) }

// errNoTokenizer: a text pair waits for its project's text bundle.
var errNoTokenizer = errors.New("ui: no tokenizer yet")

// prepare readies a pair for the screen: it replays a clip pair's clips, or decodes a text
// pair with the project's tokenizer (errNoTokenizer until it has arrived). Call it under the
// write lock.
func (a *App) prepare(p *Pair) error {
	if !p.isText() {
		return p.prepare()
	}
	if a.text == nil || a.Rater == nil || a.text.project != a.Rater.ProjectID {
		return errNoTokenizer
	}
	return p.prepareText(a.text)
}

// CurrentText returns the text pair on screen decoded, or nil when the pair on screen is not
// a text pair ready to read. Call it under a lock.
func (a *App) CurrentText() *textView {
	if p := a.Current(); p != nil {
		return p.text
	}
	return nil
}

// WaitingText reports that the pair on screen is a text pair whose tokenizer has not arrived.
// Call it under a lock.
func (a *App) WaitingText() bool {
	p := a.Current()
	return p != nil && p.isText() && p.text == nil
}
