package ui

import (
	"encoding/json"
	"strings"
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
// when Start is called: until then what is sent waits here, in order, and an Init is not even
// encoded. The page starts it once the first pair is on screen, so that the worker's download,
// compile and start (a second instance of the app's wasm) and the encoding of every label on
// the device do not hold up a returning rater's first pair.
type WorkerFitter struct {
	a         *App
	url, name string
	w         js.Value // the worker, set by Start
	startOnce sync.Once
	mu        sync.Mutex // guards queue and started
	queue     []pending  // sent before the worker has everything sent earlier
	started   bool       // the queue has been handed over: send straight to the worker
}

// pending is a message or an Init waiting for the worker.
type pending struct {
	msg  string
	init *initArgs
}

type initArgs struct {
	labels        []*Label
	global, local []byte
}

// NewWorkerFitter returns the fitter of a, the worker script at url named name; Start starts it.
func NewWorkerFitter(a *App, url, name string) *WorkerFitter {
	return &WorkerFitter{a: a, url: url, name: name}
}

// Start starts the worker and hands it, in a goroutine, what was sent so far. Later calls do
// nothing. It may be called from a JS callback.
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
		f.w = w
		go f.drain()
	})
}

// drain hands the worker what waits, in order, including what is sent meanwhile, and then
// lets later messages go straight to it.
func (f *WorkerFitter) drain() {
	direct := func(m string) { f.w.Call("postMessage", m) }
	for {
		f.mu.Lock()
		if len(f.queue) == 0 {
			f.started = true
			f.mu.Unlock()
			return
		}
		p := f.queue[0]
		f.queue = f.queue[1:]
		f.mu.Unlock()
		if p.init != nil {
			p.init.send(direct)
		} else {
			direct(p.msg)
		}
	}
}

// post sends one message to the worker, or queues it until the worker has what came before.
func (f *WorkerFitter) post(msg string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.started {
		f.queue = append(f.queue, pending{msg: msg})
		return
	}
	f.w.Call("postMessage", msg)
}

func quoteJSON(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func (f *WorkerFitter) send(in fitter.In) {
	if b, ok := encode(in); ok {
		f.post(b)
	}
}

func encode(in fitter.In) (string, bool) {
	b, err := json.Marshal(in)
	return string(b), err == nil
}

func toFitter(l *Label) fitter.Label {
	return fitter.Label{ID: l.ID, PairID: l.PairID, Choice: l.Choice, Left: l.Pair.Left, Right: l.Pair.Right}
}

// initChunk is how many labels go to the worker per message when it starts: encoding them
// all at once (clips included) would be one long task on the page.
const initChunk = 25

// Init sends the global model, the saved local model and then every label, in parts, each in a
// task of its own, and asks for a fit; before Start, it waits for the worker unencoded. Call
// it from a goroutine, not a JS callback.
func (f *WorkerFitter) Init(labels []*Label, global, local []byte) {
	in := &initArgs{labels: labels, global: global, local: local}
	f.mu.Lock()
	if !f.started {
		f.queue = append(f.queue, pending{init: in})
		f.mu.Unlock()
		return
	}
	f.mu.Unlock()
	in.send(f.post)
}

// send encodes the init in parts and hands each to put.
func (in *initArgs) send(put func(string)) {
	first := fitter.In{Type: fitter.TypeInit, Global: in.global}
	if len(in.local) > 0 {
		var lm fitter.Local
		if json.Unmarshal(in.local, &lm) == nil {
			first.Local = &lm
		}
	}
	parts := []fitter.In{first}
	for lo := 0; lo < len(in.labels); lo += initChunk {
		part := fitter.In{Type: fitter.TypeAdd}
		for _, l := range in.labels[lo:min(lo+initChunk, len(in.labels))] {
			part.Labels = append(part.Labels, toFitter(l))
		}
		parts = append(parts, part)
	}
	parts = append(parts, fitter.In{Type: fitter.TypeFit})
	for i, p := range parts {
		if i > 0 {
			time.Sleep(time.Millisecond) // hand the thread back between parts
		}
		if b, ok := encode(p); ok {
			put(b)
		}
	}
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

// localPrefix starts the worker's local-model message (fitter.Out with only Type and Local
// set, as encoding/json writes it), whose Local the page keeps without decoding.
const localPrefix = `{"type":"` + fitter.TypeLocal + `","local":`

// FitterMessage takes one message from the model's worker.
func (a *App) FitterMessage(msg string) {
	defer TraceEnd("fitter message", TraceStart())
	// The local model, every few labels, is kept on the device as the worker encoded it. Its
	// model, a few hundred kilobytes of base64, took the page's thread 90-160 ms to decode and
	// encode again with encoding/json (TestBrowserNoLongTasks), while the labeller waited behind
	// it; checking that it is JSON is a scan, a few milliseconds.
	if rest, ok := strings.CutPrefix(msg, localPrefix); ok && strings.HasSuffix(rest, "}") && json.Valid([]byte(rest[:len(rest)-1])) {
		op := Op{Store: StoreMeta, Key: metaLocal, Rec: sealRaw(metaLocal, rest[:len(rest)-1])}
		a.mu.Lock()
		a.store.Write(op)
		a.mu.Unlock()
		return
	}
	var o fitter.Out
	if err := json.Unmarshal([]byte(msg), &o); err != nil {
		return
	}
	switch o.Type {
	case fitter.TypePrediction:
		if o.Prediction != nil {
			a.later(func() { a.Predicted[o.Prediction.PairID] = *o.Prediction })
		}
	case fitter.TypeFitted:
		if o.Stats == nil {
			return
		}
		var ask bool
		a.later(func() {
			a.Model, a.ModelBusy, a.ModelErr = *o.Stats, false, ""
			a.redTeamRefresh()
			if a.Settings.Private && o.Stats.Global > 0 && a.sinceUpd >= privateUpdateEvery {
				a.sinceUpd, ask = 0, true
			}
		})
		if ask && a.fitter != nil {
			a.fitter.RequestUpdate()
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
