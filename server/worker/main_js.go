//go:build js && wasm

// Command worker is the hub's API as a Cloudflare Worker: the same handlers as `prefer serve`
// (server/hub) on D1 (server/d1) instead of a SQLite file. Build it with GOOS=js GOARCH=wasm
// (build.sh; docs/deploy-cloudflare.md).
//
// The Workers runtime instantiates this program afresh for each request (syumai/workers'
// worker.mjs runs main, serves one request, and the instance is dropped), so nothing is kept in
// memory between requests: every piece of state, rate limits included, lives in D1.
package main

import (
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"

	"github.com/syumai/workers"
	"github.com/syumai/workers/cloudflare"

	"github.com/prefer-rlhf/prefer/server/d1"
	"github.com/prefer-rlhf/prefer/server/hub"
)

func main() {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	db, err := d1.Open("DB")
	if err != nil {
		workers.Serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			log.Error("worker: " + err.Error())
			http.Error(w, `{"error":{"code":"unavailable","field":"","message":"the Worker has no D1 binding DB"}}`, http.StatusServiceUnavailable)
		}))
		return
	}
	var teacherHash string
	if tok := cloudflare.Getenv("PREFER_TEACHER_TOKEN"); tok != "" {
		if !strings.HasPrefix(tok, "pt_") {
			log.Error("worker: PREFER_TEACHER_TOKEN must start with pt_ (see docs/deploy-cloudflare.md); teacher endpoints are closed")
		} else {
			teacherHash = hub.HashToken(tok)
		}
	}
	rate, _ := strconv.ParseFloat(cloudflare.Getenv("PREFER_RATE"), 64)
	burst, _ := strconv.Atoi(cloudflare.Getenv("PREFER_BURST"))
	st := d1.New(db, teacherHash)
	workers.Serve(newHandler(st, st, log, rate, burst))
}
