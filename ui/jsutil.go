package ui

import (
	"errors"

	"github.com/vugu/vugu/js"
)

// The helpers here block the calling goroutine until the browser answers. Never call them from
// inside a JS callback (a vugu event handler, a js.FuncOf): Go's wasm runs callbacks on the
// browser's only thread, so blocking there deadlocks. Start a goroutine instead.

type jsResult struct {
	v   js.Value
	err error
}

// await waits for a JS promise to settle.
func await(p js.Value) (js.Value, error) {
	ch := make(chan jsResult, 1)
	then := js.FuncOf(func(_ js.Value, args []js.Value) any {
		ch <- jsResult{v: arg0(args)}
		return nil
	})
	catch := js.FuncOf(func(_ js.Value, args []js.Value) any {
		ch <- jsResult{err: jsError(arg0(args))}
		return nil
	})
	p.Call("then", then, catch)
	r := <-ch
	then.Release()
	catch.Release()
	return r.v, r.err
}

// waitEvent waits for whichever of the named events target fires first and returns its name.
func waitEvent(target js.Value, names ...string) string { return onEvent(target, names...)() }

// onEvent listens at once for whichever of the named events target fires first, and returns
// the wait for it, which returns its name: an event that fires before the wait begins is not
// missed. Call the wait once, and not from a JS callback.
func onEvent(target js.Value, names ...string) (wait func() string) {
	ch := make(chan string, len(names))
	fns := make([]js.Func, len(names))
	for i, n := range names {
		n := n
		fns[i] = js.FuncOf(func(js.Value, []js.Value) any {
			ch <- n
			return nil
		})
		setProp(target, "on"+n, fns[i])
	}
	return func() string {
		got := <-ch
		for i, n := range names {
			setProp(target, "on"+n, js.Null())
			fns[i].Release()
		}
		return got
	}
}

func arg0(args []js.Value) js.Value {
	if len(args) == 0 {
		return js.Undefined()
	}
	return args[0]
}

// jsError turns a thrown JS value (an Error, a DOMException, anything) into a Go error.
func jsError(v js.Value) error {
	if v.IsUndefined() || v.IsNull() {
		return errors.New("ui: unknown browser error")
	}
	if m := v.Get("message"); m.Type() == js.TypeString && m.String() != "" {
		name := v.Get("name")
		if name.Type() == js.TypeString {
			return errors.New(name.String() + ": " + m.String())
		}
		return errors.New(m.String())
	}
	return errors.New(v.Call("toString").String())
}

// bytesFromJS copies a Uint8Array into Go.
func bytesFromJS(v js.Value) []byte {
	b := make([]byte, v.Get("length").Int())
	js.CopyBytesToGo(b, v)
	return b
}

// bytesToJS copies b into a new Uint8Array.
func bytesToJS(b []byte) js.Value {
	v := js.Global().Get("Uint8Array").New(len(b))
	js.CopyBytesToJS(v, b)
	return v
}

// setProp sets obj[name] = v. vugu's js.Value.Set passes a js.Value or js.Func on to
// syscall/js unconverted, which panics, so those go through Reflect.set, whose arguments
// vugu does convert.
func setProp(obj js.Value, name string, v any) {
	js.Global().Get("Reflect").Call("set", obj, name, v)
}

// sameJS reports whether a and b are the same JS value (Object.is); vugu's js.Value has no
// Equal.
func sameJS(a, b js.Value) bool {
	return js.Global().Get("Object").Call("is", a, b).Bool()
}
