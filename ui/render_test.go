package ui

import (
	"sync"
	"testing"

	"github.com/prefer-rlhf/prefer/core/prefs"
	"github.com/vugu/vugu"
)

// BenchmarkRender builds the labelling page's tree (Root and its components) as every render
// does: the Go half of a render, the half that build.sh's compiler flags change (the DOM half
// is the browser's). Under Node: PATH="$(go env GOROOT)/lib/wasm:$PATH" GOOS=js GOARCH=wasm
// go test ./ui -run - -bench Render.
func BenchmarkRender(b *testing.B) {
	h := &fakeHub{stored: map[string]prefs.Comparison{}, pairs: testPairs(12)}
	ee := vugu.NewEventEnvImpl(&sync.RWMutex{}, make(chan bool, 1))
	a := NewApp(ee, NewMemStore(), h, nil, nil)
	joinAndFill(b, a, h)
	env, err := vugu.NewBuildEnv(ee)
	if err != nil {
		b.Fatal(err)
	}
	root := &Root{App: a}
	b.ReportAllocs()
	for b.Loop() {
		a.read(func() { env.RunBuild(root) })
	}
}
