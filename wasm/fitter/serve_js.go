//go:build js && wasm

package fitter

import (
	"encoding/json"
	"strconv"
	"syscall/js"

	"github.com/prefer-rlhf/prefer/wasm/simd"
)

// Serve runs the worker: it takes the page's messages (JSON strings) one at a time, answers
// each, and between messages spends idle time improving the model. It never returns.
//
// A worker started by another one for a full fit's members (pool_js.go) gets member jobs,
// bytes rather than strings, and answers each with RunJob's result.
func Serve() {
	self := js.Global()
	// The fits' matrix products in WebAssembly SIMD, the same bits as Go's kernels; Go's kernels
	// in a worker named GoKernelWorker (a benchmark's anchor) and where the engine has no SIMD.
	kernel := KernelSIMD
	if name := self.Get("name").String(); name == GoKernelWorker {
		kernel = "go (named " + strconv.Quote(name) + ")"
	} else if err := simd.Install(); err != nil {
		kernel = "go (" + err.Error() + ")"
	}
	inbox := make(chan string, 1024)
	jobs := make(chan []byte, 16)
	take := func(d js.Value) {
		switch {
		case d.Type() == js.TypeString:
			inbox <- d.String()
		case d.InstanceOf(js.Global().Get("Uint8Array")):
			b := make([]byte, d.Length())
			js.CopyBytesToGo(b, d)
			jobs <- b
		}
	}
	handler := js.FuncOf(func(_ js.Value, args []js.Value) any {
		if len(args) > 0 {
			take(args[0].Get("data"))
		}
		return nil
	})
	self.Set("onmessage", handler)
	// Messages that came before Go started wait in fitter.js's queue.
	if q := self.Get("preferQueue"); q.Truthy() {
		for i := 0; i < q.Length(); i++ {
			take(q.Index(i))
		}
		self.Set("preferQueue", js.Null())
	}
	f := New(DefaultConfig(), newPool())
	post(Out{Type: TypeReady, Message: kernel})
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
		case b := <-jobs:
			postJob(RunJob(b))
			continue
		default:
		}
		yield() // let messages that arrived during the last fit in first
		select {
		case msg := <-inbox:
			handle(msg)
			continue
		case b := <-jobs:
			postJob(RunJob(b))
			continue
		default:
		}
		if did, out := f.Idle(); did {
			posts(out)
			continue
		}
		select {
		case msg := <-inbox:
			handle(msg)
		case b := <-jobs:
			postJob(RunJob(b))
		}
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
