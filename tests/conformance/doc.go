// Package conformance is the hub API's conformance suite: one set of HTTP tests, run against
// the native hub (`prefer serve` on SQLite) and against the Cloudflare Worker (`wrangler dev
// --local` on D1). Both servers must give the same answers to every endpoint and every error
// of docs/api.md: validation, auth and cross-project isolation, idempotent retries, batch
// limits, rate limits, and the trainer API.
//
// The native server is the binary at $PREFER_BIN (./build.sh test sets it) or one built from
// server/cmd/prefer; the Worker needs wrangler and Node 22 in .tools/ (see tests/worker).
package conformance
