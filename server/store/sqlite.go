//go:build !js

package store

// The SQLite driver is native only: it does not build for GOOS=js, where the Worker uses this
// package's types and migrations with D1 (server/d1) instead.
import _ "modernc.org/sqlite" // registers the "sqlite" driver
