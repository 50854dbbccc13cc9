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
	idb, idbErr := ui.OpenIDB("prefer")
	if idbErr != nil {
		store = ui.NewMemStore()
	} else {
		store = idb
	}
	app := ui.NewApp(r.EventEnv(), store, &ui.FetchHub{}, nil, nil)
	worker := "app"
	if ui.ReadsText {
		worker = "text" // the workers run this build too (public/fitter.js)
	}
	app.SetFitter(ui.NewWorkerFitter(app, "/fitter.js", worker))
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

	root := &ui.Root{App: app}
	for ok := true; ok; ok = r.EventWait() {
		t0 := ui.TraceStart()
		if err := r.Render(build.RunBuild(root)); err != nil {
			panic(err)
		}
		ui.TraceEnd("render", t0)
	}
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
