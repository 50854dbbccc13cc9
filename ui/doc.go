// Package ui is the rater's browser app: vugu components (one .vugu file per screen or widget)
// over one App state, which keeps labels and prefetched pairs on the device (IndexedDB), syncs
// them with the hub exactly once, replays clips on canvases with core/env's shapes and talks to
// the local reward model in a Web Worker. For crowd studies it joins with the platform's
// participant id, shows the project's instructions, stops at the per-rater cap (also offline)
// and ends on a thank-you screen with the completion link (study.go). In a text project,
// Try it continues a typed prompt with the project's policy, sampled on the device (tryit.go).
//
// The .vugu files are compiled to Go by vugugen (go generate, run by build.sh), one
// <component>_gen.go each, committed so the package builds without the tool. Red-team mode's,
// red-team-mode_gen.go, is built only into the full build (tag !notext, fullswitch.go). Code that touches the
// browser goes through github.com/vugu/vugu/js, which compiles natively as stubs, so the logic
// here is tested with plain `go test`.
package ui

// One file per component (not vugugen's -s, one file for all), so that red-team mode's can
// carry a build constraint: the clip build leaves it out.
//go:generate go tool vugugen -skip-go-mod .

// vugugen imports "log" into every component to keep the import used; nothing here logs, but
// the import alone links the log package's formatting into the app (6.4 KB brotli of the
// first-load budget). Drop it. vg-content goes through setContent (content.go), not innerHTML.
//go:generate sh -c "sed -i -e '/^var _ log.Logger/d' -e '/^import \"log\"/d' -e 's/vgn\\.SetInnerHTML(/setContent(vgn, /' *_gen.go && sed -i '1i //go:build !notext\\n' red-team-mode_gen.go"
