package ui

import (
	"runtime"

	"github.com/vugu/vugu/js"
)

// Trace is off unless the page sets window.preferTrace before the app starts (the browser
// tests do). Spans then show as performance.measure entries, beside the long tasks they explain.
var traceOn = func() bool {
	defer func() { recover() }() // natively there is no window
	return js.Global().Get("preferTrace").Truthy()
}()

// TraceGC marks the end of each of Go's garbage collections ("go gc") while tracing is on: a
// finalizer on an object that nothing keeps runs once per cycle, and sets another. Go's collector shares the page's one thread with everything else.
func TraceGC() {
	if !traceOn {
		return
	}
	type sentinel struct{ _ [16]byte }
	runtime.SetFinalizer(new(sentinel), func(*sentinel) {
		TraceMark("go gc")
		TraceGC()
	})
}

// TraceStart returns a start time for TraceEnd, or 0 when tracing is off.
func TraceStart() float64 {
	if !traceOn {
		return 0
	}
	return js.Global().Get("performance").Call("now").Float()
}

// TraceEnd records the span name from start to now.
func TraceEnd(name string, start float64) {
	if !traceOn || start == 0 {
		return
	}
	perf := js.Global().Get("performance")
	perf.Call("measure", name, map[string]any{"start": start, "end": perf.Call("now").Float()})
}

// TraceMark records a performance.mark named name at now.
func TraceMark(name string) {
	if traceOn {
		js.Global().Get("performance").Call("mark", name)
	}
}
