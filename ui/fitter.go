package ui

import "github.com/prefer-rlhf/prefer/core/prefs"

// Fitter is the rater's local reward model, fitted in a Web Worker (wasm/fitter) so the page
// never blocks. Its methods return at once; the worker's answers come back through
// App.FitterMessage.
type Fitter interface {
	// Init starts (or restarts) the model on all labels on the device, the global model (JSON,
	// may be nil) and the local model saved earlier (may be nil).
	Init(labels []*Label, global, local []byte)
	// AddLabel refits incrementally on one new label, after predicting its pair.
	AddLabel(l *Label)
	// SetGlobal hands over a new global model.
	SetGlobal(model []byte)
	// RequestUpdate asks for a model update (private mode): the weight delta against the
	// global model, with the label count.
	RequestUpdate()
	// Score asks for r̂ of clips under the local model (red-team mode); the answer carries seq.
	Score(seq int, clips []prefs.Clip)
}
