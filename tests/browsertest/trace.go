package browsertest

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/tracing"
	"github.com/chromedp/chromedp"
)

// TraceEvent is one event of a Chrome trace (the Trace Event Format): times in microseconds.
type TraceEvent struct {
	Name string         `json:"name"`
	Cat  string         `json:"cat"`
	Ph   string         `json:"ph"`
	Ts   float64        `json:"ts"`
	Dur  float64        `json:"dur"`
	TDur float64        `json:"tdur"` // the thread's CPU time, where the platform records it
	Pid  int64          `json:"pid"`
	Tid  int64          `json:"tid"`
	Args map[string]any `json:"args"`
}

// TraceCategories are what StartTrace records by default: the scheduler's tasks (toplevel),
// what ran in them (devtools.timeline: script, timers, events, layout, paint), V8 (compile,
// parse, wasm, GC) and the page's performance.measure spans (blink.user_timing).
var TraceCategories = []string{"toplevel", "devtools.timeline", "v8", "disabled-by-default-v8.gc", "blink.user_timing"}

// StartTrace records a Chrome trace of the tab with the Tracing domain (Tracing.start and
// Tracing.end, in every chromium the tests run on, 150 to 156) and returns the call that ends
// it and returns its events.
func StartTrace(t testing.TB, ctx context.Context, categories ...string) func() []TraceEvent {
	t.Helper()
	if len(categories) == 0 {
		categories = TraceCategories
	}
	var mu sync.Mutex
	var raw [][]byte
	done := make(chan struct{})
	if err := chromedp.Listen(ctx, func(ev any) {
		switch e := ev.(type) {
		case *tracing.EventDataCollected:
			mu.Lock()
			for _, v := range e.Value {
				raw = append(raw, slices.Clone([]byte(v)))
			}
			mu.Unlock()
		case *tracing.EventTracingComplete:
			close(done)
		}
	}); err != nil {
		t.Fatalf("browsertest: trace: %v", err)
	}
	if _, err := chromedp.Call(ctx, tracing.Start, tracing.StartParams{
		TransferMode: tracing.StartTransferModeReportEvents,
		TraceConfig:  &tracing.TraceConfig{IncludedCategories: categories},
	}); err != nil {
		t.Fatalf("browsertest: Tracing.start: %v", err)
	}
	return func() []TraceEvent {
		t.Helper()
		if _, err := chromedp.Call(ctx, tracing.End, cdp.Empty{}); err != nil {
			t.Fatalf("browsertest: Tracing.end: %v", err)
		}
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Fatal("browsertest: the trace did not complete in 30 s")
		}
		mu.Lock()
		defer mu.Unlock()
		evs := make([]TraceEvent, 0, len(raw))
		for _, b := range raw {
			var e TraceEvent
			if json.Unmarshal(b, &e) == nil {
				evs = append(evs, e)
			}
		}
		return evs
	}
}

// LongTasks returns the tasks of the page's main thread (CrRendererMain's RunTask events)
// longer than ms, each described by what ran inside it: the events on the same thread within
// the task, by name, with their total milliseconds (the longest first), and how many of the
// page's workers (the model's and the fit workers) ran beside it on average. A task's CPU time
// beside its wall time tells a task that had too much to do from one that waited for a core.
func LongTasks(evs []TraceEvent, ms float64) []string {
	main, workers := map[[2]int64]bool{}, map[[2]int64]bool{}
	for _, e := range evs {
		if e.Ph == "M" && e.Name == "thread_name" {
			switch e.Args["name"] {
			case "CrRendererMain":
				main[[2]int64{e.Pid, e.Tid}] = true
			case "DedicatedWorker thread":
				workers[[2]int64{e.Pid, e.Tid}] = true
			}
		}
	}
	// The workers' tasks, to tell how many ran beside each long task of the page.
	var busy []TraceEvent
	for _, e := range evs {
		if e.Ph == "X" && workers[[2]int64{e.Pid, e.Tid}] && (e.Name == "ThreadControllerImpl::RunTask" || e.Name == "RunTask") {
			busy = append(busy, e)
		}
	}
	var tasks []TraceEvent
	byThread := map[[2]int64][]TraceEvent{}
	for _, e := range evs {
		k := [2]int64{e.Pid, e.Tid}
		if !main[k] || e.Ph != "X" {
			continue
		}
		byThread[k] = append(byThread[k], e)
		if e.Name == "ThreadControllerImpl::RunTask" || e.Name == "RunTask" {
			if e.Dur > ms*1000 {
				tasks = append(tasks, e)
			}
		}
	}
	sort.Slice(tasks, func(i, j int) bool { return tasks[i].Ts < tasks[j].Ts })
	var out []string
	for _, task := range tasks {
		total := map[string]float64{}
		for _, e := range byThread[[2]int64{task.Pid, task.Tid}] {
			if e.Ts >= task.Ts && e.Ts+e.Dur <= task.Ts+task.Dur && e.Name != task.Name && e.Dur >= 1000 {
				total[e.Name] += e.Dur / 1000
			}
		}
		names := make([]string, 0, len(total))
		for n := range total {
			names = append(names, n)
		}
		sort.Slice(names, func(i, j int) bool { return total[names[i]] > total[names[j]] })
		var parts []string
		for _, n := range names[:min(len(names), 12)] {
			parts = append(parts, fmt.Sprintf("%s %.0f", n, total[n]))
		}
		var overlap float64
		for _, w := range busy {
			overlap += max(0, min(w.Ts+w.Dur, task.Ts+task.Dur)-max(w.Ts, task.Ts))
		}
		out = append(out, fmt.Sprintf("%.0f ms (%.0f ms of CPU; workers running beside it: %.1f on average): %s", task.Dur/1000, task.TDur/1000, overlap/task.Dur, strings.Join(parts, ", ")))
	}
	return out
}

// MainCPU sums the CPU time of the page's main-thread tasks (ms) and returns it with the number
// of tasks, the most CPU time one took (ms), and how many took more than ms of it: the page's
// own work, whatever the machine's load did to its wall time.
func MainCPU(evs []TraceEvent, ms float64) (total float64, tasks int, longest float64, over int) {
	main := map[[2]int64]bool{}
	for _, e := range evs {
		if e.Ph == "M" && e.Name == "thread_name" && e.Args["name"] == "CrRendererMain" {
			main[[2]int64{e.Pid, e.Tid}] = true
		}
	}
	for _, e := range evs {
		if e.Ph == "X" && main[[2]int64{e.Pid, e.Tid}] && (e.Name == "ThreadControllerImpl::RunTask" || e.Name == "RunTask") {
			tasks++
			total += e.TDur / 1000
			longest = max(longest, e.TDur/1000)
			if e.TDur > ms*1000 {
				over++
			}
		}
	}
	return total, tasks, longest, over
}
