//go:build js && wasm

// Command worker is the hub's API as a Cloudflare Worker: the same endpoints as `prefer serve`,
// on D1 instead of a SQLite file. Build it with GOOS=js GOARCH=wasm (see build.sh and
// docs/deploy-cloudflare.md).
//
// The Worker runtime instantiates this program afresh for each request (syumai/workers'
// worker.mjs runs main, serves one request, and the instance is dropped), so nothing is kept in
// memory between requests: every piece of state, rate limits included, lives in D1.
package main

import (
	"encoding/json"
	"net/http"

	"github.com/syumai/workers"

	"github.com/prefer-rlhf/prefer/server/d1"
)

func main() {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/health", func(w http.ResponseWriter, r *http.Request) {
		db, err := d1.Open("DB")
		var rs []d1.Result
		if err == nil {
			rs, err = db.Batch(r.Context(), d1.Stmt{SQL: `SELECT COUNT(*) AS n FROM d1_migrations`})
		}
		w.Header().Set("Content-Type", "application/json")
		if err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": "unavailable", "field": "", "message": err.Error()}})
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"status": "ok", "schema_version": rs[0].Rows[0][0]})
	})
	workers.Serve(mux)
}
