//go:build js && wasm

package fitter

import (
	"encoding/json"
	"errors"
	"syscall/js"
)

// jsPool is the Pool of a browser: dedicated workers started from this one, each running
// fitter.js (so app.wasm comes from the cache, not the network), started on their first job.
type jsPool struct {
	size    int
	workers []js.Value         // worker w is workers[w-1]
	pending [][]chan jobResult // per worker, the jobs sent and not answered, oldest first
	funcs   []js.Func          // kept so that they are not collected
}

type jobResult struct {
	b   []byte
	err error
}

// newPool sizes the pool by navigator.hardwareConcurrency; a device with one core has none.
func newPool() Pool {
	n := js.Global().Get("navigator").Get("hardwareConcurrency")
	if n.Type() != js.TypeNumber || n.Int() < 2 {
		return nil
	}
	return &jsPool{size: n.Int()}
}

func (p *jsPool) Size() int { return p.size }

func (p *jsPool) Start(w int, job []byte) func() ([]byte, error) {
	for len(p.workers) < w {
		p.spawn()
	}
	ch := make(chan jobResult, 1)
	p.pending[w-1] = append(p.pending[w-1], ch)
	u := js.Global().Get("Uint8Array").New(len(job))
	js.CopyBytesToJS(u, job)
	p.workers[w-1].Call("postMessage", u, []any{u.Get("buffer")}) // moved, not copied
	return func() ([]byte, error) {
		r := <-ch
		return r.b, r.err
	}
}

// spawn starts the next worker. Its answers are a job's result (bytes) or, as strings, its
// ready message (ignored) and errors, which fail the oldest job waiting.
func (p *jsPool) spawn() {
	k := len(p.workers)
	// The same script under the same name (public/fitter.js: the name picks the build).
	w := js.Global().Get("Worker").New(js.Global().Get("location").Get("href"), map[string]any{"name": js.Global().Get("name")})
	p.workers = append(p.workers, w)
	p.pending = append(p.pending, nil)
	answer := func(r jobResult) {
		if q := p.pending[k]; len(q) > 0 {
			p.pending[k] = q[1:]
			q[0] <- r
		}
	}
	onMessage := js.FuncOf(func(_ js.Value, args []js.Value) any {
		d := args[0].Get("data")
		if d.Type() == js.TypeString {
			var o Out
			if json.Unmarshal([]byte(d.String()), &o) == nil && o.Type == TypeError {
				answer(jobResult{err: errors.New(o.Message)})
			}
			return nil
		}
		b := make([]byte, d.Length())
		js.CopyBytesToGo(b, d)
		answer(jobResult{b: b})
		return nil
	})
	onError := js.FuncOf(func(_ js.Value, args []js.Value) any {
		for len(p.pending[k]) > 0 {
			answer(jobResult{err: errors.New("fitter: a fit worker failed")})
		}
		return nil
	})
	w.Set("onmessage", onMessage)
	w.Set("onerror", onError)
	p.funcs = append(p.funcs, onMessage, onError)
}

// postJob answers a member job: the result as bytes, moved to the worker that sent it, or
// an error message.
func postJob(b []byte, err error) {
	if err != nil {
		post(Out{Type: TypeError, Message: "fitter: " + err.Error()})
		return
	}
	u := js.Global().Get("Uint8Array").New(len(b))
	js.CopyBytesToJS(u, b)
	js.Global().Call("postMessage", u, []any{u.Get("buffer")})
}
