#!/bin/sh
# build.sh [OUTDIR]: builds the Worker into OUTDIR (default build/ next to this file):
# syumai/workers' JavaScript glue (worker.mjs, runtime.mjs, wasm_exec.js) and the Go program as
# app.wasm. wrangler runs it ([build] in wrangler.toml); tests run it with their own OUTDIR.
set -eu
cd "$(dirname "$0")"
out=${1:-build}
go run github.com/syumai/workers/cmd/workers-assets-gen -mode=go -o "$out"
GOOS=js GOARCH=wasm CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$out/app.wasm" .
