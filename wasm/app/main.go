// Command app is the rater's browser app: it mounts ui's vugu components on the page and runs
// the sync loop. The same binary, started in a Web Worker (public/fitter.js), runs the local
// reward model instead (wasm/fitter): one download and one cache entry serve both, so the whole
// app stays small.
package main

import (
	"context"
	"runtime/debug"

	"github.com/prefer-rlhf/prefer/ui"
	"github.com/prefer-rlhf/prefer/wasm/fitter"
	"github.com/vugu/vugu"
	"github.com/vugu/vugu/domrender"
	"github.com/vugu/vugu/js"
)

func main() {
	if !js.Global().Get("document").Truthy() {
		fitter.Serve() // in the Web Worker
		return
	}
	ui.TraceMark("prefer:go main")
	// The page's live heap is small and most of what it allocates (render trees) dies young;
	// collecting less often means fewer collector pauses on the page's only thread.
	debug.SetGCPercent(400)
	r, err := domrender.New("#app")
	if err != nil {
		panic(err)
	}
	defer r.Release()
	build, err := vugu.NewBuildEnv(r.EventEnv())
	if err != nil {
		panic(err)
	}

	var store ui.Store
	t0 := ui.TraceStart()
	idb, idbErr := ui.OpenIDB("prefer")
	ui.TraceEnd("open idb", t0)
	if idbErr != nil {
		store = ui.NewMemStore()
	} else {
		store = idb
	}
	app := ui.NewApp(r.EventEnv(), store, &ui.FetchHub{}, nil, nil)
	worker := fitter.AppWorker
	if ui.ReadsText {
		worker = "text" // the workers run this build too (public/fitter.js)
	}
	fit := ui.NewWorkerFitter(app, "/fitter.js", worker)
	app.SetFitter(fit)
	app.AfterJoin = func() { js.Global().Get("history").Call("replaceState", nil, "", "/") }
	if idbErr != nil {
		app.Warn("This browser cannot store labels (" + idbErr.Error() + "); they last only while the page is open.")
	}
	app.ListenKeys()
	app.ListenNetwork()
	app.Player.Run()
	app.RedPlayer.Run()
	code, participant := joinLink()
	go app.Start(context.Background(), code, participant)

	// The first render waits for what is stored on the device (app.Start's load): until then
	// the page shows index.html's own "Loading…", and the first pair is the first render. The
	// model's worker starts after the frame that paints the first view (the pair, or the join
	// form), so that it does not compete with the page's start.
	root := &ui.Root{App: app}
	ui.TraceGC()
	workerDue := false
	for r.EventWait() {
		t0 := ui.TraceStart()
		if err := r.Render(build.RunBuild(root)); err != nil {
			panic(err)
		}
		ui.TraceEnd("render", t0)
		if !workerDue && app.Loaded() {
			workerDue = true
			afterPaint(fit.Start)
		}
	}
}

// afterPaint runs f in a task after the next frame has been painted.
func afterPaint(f func()) {
	var frame, task js.Func
	task = js.FuncOf(func(js.Value, []js.Value) any {
		task.Release()
		f()
		return nil
	})
	frame = js.FuncOf(func(js.Value, []js.Value) any {
		frame.Release()
		js.Global().Call("setTimeout", task, 0)
		return nil
	})
	js.Global().Call("requestAnimationFrame", frame)
}

// joinLink returns the code and participant id of a join link
// (/join?code=CODE&participant=ID), "" on any other address. Prolific's PROLIFIC_PID and
// MTurk's workerId name the participant too. The address is replaced by "/" once the rater has
// joined.
func joinLink() (code, participant string) {
	loc := js.Global().Get("location")
	if loc.Get("pathname").String() != "/join" {
		return "", ""
	}
	q := js.Global().Get("URLSearchParams").New(loc.Get("search"))
	get := func(k string) string {
		if v := q.Call("get", k); v.Type() == js.TypeString {
			return v.String()
		}
		return ""
	}
	for _, k := range []string{"participant", "PROLIFIC_PID", "workerId"} {
		if participant = get(k); participant != "" {
			break
		}
	}
	return get("code"), participant
}
