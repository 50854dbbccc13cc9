// Package fitter is the rater's local reward model: core/reward's Bradley-Terry ensemble
// (Christiano et al. 2017, §2.2.3) fitted on the labels made on this device, refitted
// incrementally after every label. It runs in a dedicated Web Worker, a second instance of
// app.wasm (public/fitter.js), so the page never waits for a fit.
//
// The page and the worker exchange the JSON messages of this file. Fitter holds the logic and
// is plain Go, tested natively; serve_js.go moves the messages.
package fitter

import (
	"encoding/json"

	"github.com/prefer-rlhf/prefer/core/prefs"
)

// Message types.
const (
	// Page to worker.
	TypeInit   = "init"   // (re)start on Labels, Global and Local
	TypeAdd    = "add"    // more labels for the model, no refit yet (an init sent in parts)
	TypeFit    = "fit"    // refit on every label (ends an init sent in parts)
	TypeLabel  = "label"  // one new label: predict its pair, then refit
	TypeGlobal = "global" // a new global model
	TypeUpdate = "update" // make a model update for the hub (private mode)
	TypeScore  = "score"  // r̂ of Clips under the local model (red-team mode)

	// Worker to page.
	TypeReady      = "ready"      // the worker is running; Message names its matrix kernel
	TypePrediction = "prediction" // the model's preference for a pair, before it saw the answer
	TypeFitted     = "fitted"     // a fit finished: Stats
	TypeLocal      = "local"      // the local model to keep on the device
	TypeModelDelta = "model_update"
	TypeScores     = "scores" // the answer to a score message: Scores
	TypeError      = "error"
)

// KernelSIMD is the ready message's Message when the worker's matrix products run in
// WebAssembly SIMD (wasm/simd); otherwise it says "go" and why.
const KernelSIMD = "simd"

// AppWorker is the name (new Worker(url, {name})) of the clip app's model worker and of the fit
// workers it starts; a text project's are named "text" (public/fitter.js: the name picks the
// build). Every fit worker runs its matrix products in WebAssembly SIMD where the engine has it,
// but one named GoKernelWorker.
const AppWorker = "app"

// GoKernelWorker is a worker name that keeps Go's kernels, so that a benchmark can time both
// kernels in one browser run (TestBrowserBenchT1).
const GoKernelWorker = "gokernel"

// In is a message from the page.
type In struct {
	Type   string          `json:"type"`
	Labels []Label         `json:"labels,omitempty"` // init: every label on the device, oldest first; label: the new one
	Global json.RawMessage `json:"global,omitempty"` // init, global: the hub's Model object (docs/api.md)
	Local  *Local          `json:"local,omitempty"`  // init: the local model saved earlier
	Clips  []prefs.Clip    `json:"clips,omitempty"`  // score: the clips to score
	Seq    int             `json:"seq,omitempty"`    // score: echoed in Scores, so the page keeps only the latest answer
	// Workers is how many workers full fits use (init); 0: one per member on a device with
	// two cores or more (navigator.hardwareConcurrency), up to two per core; at most one per
	// member.
	Workers int `json:"workers,omitempty"`
}

// Label is one answered pair as the model needs it.
type Label struct {
	ID     string       `json:"id"`
	PairID string       `json:"pair_id"`
	Choice prefs.Choice `json:"choice"`
	Left   prefs.Clip   `json:"left"`
	Right  prefs.Clip   `json:"right"`
}

// Local is the local model as kept on the device: core/reward's binary form, and the global
// version it was started from (0: from scratch).
type Local struct {
	Base  int    `json:"base"`
	Model []byte `json:"model"`
}

// Prediction is the model's preference for a pair, made before the rater's answer reached it.
type Prediction struct {
	PairID string  `json:"pair_id"`
	PLeft  float64 `json:"p_left"` // P(left better): the members' mean Bradley-Terry probability
	Spread float64 `json:"spread"` // the members' standard deviation of it
	// Marks are, for a text pair, the tokens that moved the prediction most (text.go).
	Marks []Mark `json:"marks,omitempty"`
}

// Mark is a token of a text pair's continuation and how much it moved the prediction: its
// reward r̂ under the model, positive for the side it is on.
type Mark struct {
	Side  int     `json:"side"`  // 0 left, 1 right
	Token int     `json:"token"` // index in the continuation
	R     float64 `json:"r"`
}

// Stats is what the rater sees of the model.
type Stats struct {
	Labels    int     `json:"labels"`    // labels with a preference the model learned from
	FitMS     float64 `json:"fit_ms"`    // time of the last refit (ms)
	Accuracy  float64 `json:"accuracy"`  // on the rater's own held-out labels; -1 before there are any
	Heldout   int     `json:"heldout"`   // held-out labels with a strict preference
	Agreement float64 `json:"agreement"` // share of the rater's labelled pairs on which the local and global models prefer the same side; -1 without a global model
	Compared  int     `json:"compared"`  // pairs Agreement is over
	Global    int     `json:"global"`    // global model version held; 0 if none
	Base      int     `json:"base"`      // global version the local model started from
	Workers   int     `json:"workers"`   // workers the last full fit used (pool.go); 0 before one
}

// Scores is the local model's return r̂ of each clip of a score message (Model.Return: the
// members' normalised returns, averaged), in the message's order. RHat is empty, with Reason
// saying why, when there is no model to score with yet.
type Scores struct {
	Seq    int       `json:"seq"`
	RHat   []float64 `json:"rhat"`
	Reason string    `json:"reason,omitempty"`
}

// Out is a message to the page.
type Out struct {
	Type       string          `json:"type"`
	Prediction *Prediction     `json:"prediction,omitempty"`
	Stats      *Stats          `json:"stats,omitempty"`
	Local      *Local          `json:"local,omitempty"`
	Update     json.RawMessage `json:"update,omitempty"` // the sync request's model_update object
	Scores     *Scores         `json:"scores,omitempty"`
	Message    string          `json:"message,omitempty"`
}
