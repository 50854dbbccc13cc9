package ui

import (
	"encoding/json"
	"sync"
	"time"

	"github.com/prefer-rlhf/prefer/core/prefs"
	"github.com/prefer-rlhf/prefer/wasm/fitter"
	"github.com/vugu/vugu/js"
)

// privateUpdateEvery is how many private labels pass between model updates sent to the hub.
// Each update is the whole local model's delta against its base version, so sending one per
// label would only resend nearly the same delta.
const privateUpdateEvery = 10

// WorkerFitter is the Fitter in a dedicated Web Worker running wasm/fitter. The worker starts
// when Start is called: until then messages wait here, in order. The page starts it once the
// first pair is on screen, so that the worker's download, compile and start (a second instance
// of the app's wasm) do not compete with the page's own on a device with few cores.
type WorkerFitter struct {
	a         *App
	url, name string
	w         js.Value // the worker, undefined until Start
	queue     []string // messages sent before Start
	started   bool
	startOnce sync.Once
	mu        sync.Mutex // guards queue and started
}

// NewWorkerFitter returns the fitter of a, the worker script at url named name; Start starts it.
func NewWorkerFitter(a *App, url, name string) *WorkerFitter {
	return &WorkerFitter{a: a, url: url, name: name}
}

// Start starts the worker and hands it the messages sent so far. Later calls do nothing.
func (f *WorkerFitter) Start() {
	f.startOnce.Do(func() {
		a := f.a
		w := js.Global().Get("Worker").New(f.url, map[string]any{"name": f.name})
		setProp(w, "onmessage", js.FuncOf(func(_ js.Value, args []js.Value) any {
			if d := arg0(args).Get("data"); d.Type() == js.TypeString {
				go a.FitterMessage(d.String())
			}
			return nil
		}))
		setProp(w, "onerror", js.FuncOf(func(_ js.Value, args []js.Value) any {
			msg := "the model's worker failed"
			if m := arg0(args).Get("message"); m.Type() == js.TypeString {
				msg += ": " + m.String()
			}
			go a.FitterMessage(`{"type":"error","message":` + quoteJSON(msg) + `}`)
			return nil
		}))
		f.mu.Lock()
		defer f.mu.Unlock()
		f.w, f.started = w, true
		for _, m := range f.queue {
			w.Call("postMessage", m)
		}
		f.queue = nil
	})
}

// post sends one message to the worker, or keeps it until Start.
func (f *WorkerFitter) post(msg string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.started {
		f.queue = append(f.queue, msg)
		return
	}
	f.w.Call("postMessage", msg)
}

func quoteJSON(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func (f *WorkerFitter) send(in fitter.In) {
	b, err := json.Marshal(in)
	if err != nil {
		return
	}
	f.post(string(b))
}

func toFitter(l *Label) fitter.Label {
	return fitter.Label{ID: l.ID, PairID: l.PairID, Choice: l.Choice, Left: l.Pair.Left, Right: l.Pair.Right}
}

// initChunk is how many labels go to the worker per message when it starts: encoding them
// all at once (clips included) would be one long task on the page.
const initChunk = 25

// Init sends the global model, the saved local model and then every label, in parts, each in a
// task of its own, and asks for a fit. Call it from a goroutine, not a JS callback.
func (f *WorkerFitter) Init(labels []*Label, global, local []byte) {
	in := fitter.In{Type: fitter.TypeInit, Global: global}
	if len(local) > 0 {
		var lm fitter.Local
		if json.Unmarshal(local, &lm) == nil {
			in.Local = &lm
		}
	}
	f.send(in)
	for lo := 0; lo < len(labels); lo += initChunk {
		time.Sleep(time.Millisecond) // hand the thread back between parts
		part := fitter.In{Type: fitter.TypeAdd}
		for _, l := range labels[lo:min(lo+initChunk, len(labels))] {
			part.Labels = append(part.Labels, toFitter(l))
		}
		f.send(part)
	}
	f.send(fitter.In{Type: fitter.TypeFit})
}

// AddLabel sends one new label.
func (f *WorkerFitter) AddLabel(l *Label) {
	f.send(fitter.In{Type: fitter.TypeLabel, Labels: []fitter.Label{toFitter(l)}})
}

// SetGlobal sends a new global model. The model came as JSON from the hub; it is passed on
// as it is, since re-encoding a few hundred kilobytes would hold up the page.
func (f *WorkerFitter) SetGlobal(model []byte) {
	f.post(`{"type":"` + fitter.TypeGlobal + `","global":` + string(model) + `}`)
}

// RequestUpdate asks for a private model update.
func (f *WorkerFitter) RequestUpdate() { f.send(fitter.In{Type: fitter.TypeUpdate}) }

// Score asks for r̂ of clips under the local model.
func (f *WorkerFitter) Score(seq int, clips []prefs.Clip) {
	f.send(fitter.In{Type: fitter.TypeScore, Seq: seq, Clips: clips})
}

// FitterMessage takes one message from the model's worker.
func (a *App) FitterMessage(msg string) {
	defer TraceEnd("fitter message", TraceStart())
	var o fitter.Out
	if err := json.Unmarshal([]byte(msg), &o); err != nil {
		return
	}
	switch o.Type {
	case fitter.TypePrediction:
		if o.Prediction != nil {
			a.update(func() { a.Predicted[o.Prediction.PairID] = *o.Prediction })
		}
	case fitter.TypeFitted:
		if o.Stats == nil {
			return
		}
		var ask bool
		a.update(func() {
			a.Model, a.ModelBusy, a.ModelErr = *o.Stats, false, ""
			if a.Settings.Private && o.Stats.Global > 0 && a.sinceUpd >= privateUpdateEvery {
				a.sinceUpd, ask = 0, true
			}
		})
		if ask && a.fitter != nil {
			a.fitter.RequestUpdate()
		}
	case fitter.TypeLocal:
		if o.Local == nil {
			return
		}
		if op, err := put(StoreMeta, metaLocal, o.Local); err == nil {
			a.mu.Lock()
			a.store.Write(op)
			a.mu.Unlock()
		}
	case fitter.TypeModelDelta:
		if len(o.Update) > 0 {
			a.update(func() { a.pendingUpdate = o.Update })
			a.Wake()
		}
	case fitter.TypeScores:
		if s := o.Scores; s != nil {
			a.update(func() { a.redTeamScores(s.Seq, s.RHat, s.Reason) })
		}
	case fitter.TypeError:
		a.update(func() { a.ModelErr, a.ModelBusy = o.Message, false })
	}
}
