//go:build js && wasm

package fitter

import (
	"encoding/json"
	"syscall/js"
)

// Serve runs the worker: it takes the page's messages (JSON strings) one at a time, answers
// each, and between messages spends idle time improving the model. It never returns.
func Serve() {
	self := js.Global()
	inbox := make(chan string, 1024)
	handler := js.FuncOf(func(_ js.Value, args []js.Value) any {
		if len(args) > 0 {
			if d := args[0].Get("data"); d.Type() == js.TypeString {
				inbox <- d.String()
			}
		}
		return nil
	})
	self.Set("onmessage", handler)
	// Messages that came before Go started wait in fitter.js's queue.
	if q := self.Get("preferQueue"); q.Truthy() {
		for i := 0; i < q.Length(); i++ {
			if d := q.Index(i); d.Type() == js.TypeString {
				inbox <- d.String()
			}
		}
		self.Set("preferQueue", js.Null())
	}
	f := New(DefaultConfig())
	post(Out{Type: TypeReady})
	handle := func(msg string) {
		var in In
		if err := json.Unmarshal([]byte(msg), &in); err != nil {
			post(Out{Type: TypeError, Message: "fitter: bad message: " + err.Error()})
			return
		}
		posts(f.Handle(in))
	}
	for {
		select {
		case msg := <-inbox:
			handle(msg)
			continue
		default:
		}
		yield() // let messages that arrived during the last fit in first
		select {
		case msg := <-inbox:
			handle(msg)
			continue
		default:
		}
		if did, out := f.Idle(); did {
			posts(out)
			continue
		}
		handle(<-inbox)
	}
}

// yield returns to the browser's event loop once, so that onmessage can run.
func yield() {
	done := make(chan struct{})
	var fn js.Func
	fn = js.FuncOf(func(js.Value, []js.Value) any {
		close(done)
		return nil
	})
	js.Global().Call("setTimeout", fn, 0)
	<-done
	fn.Release()
}

func posts(out []Out) {
	for _, o := range out {
		post(o)
	}
}

func post(o Out) {
	b, err := json.Marshal(o)
	if err != nil {
		b, _ = json.Marshal(Out{Type: TypeError, Message: "fitter: " + err.Error()})
	}
	js.Global().Call("postMessage", string(b))
}
