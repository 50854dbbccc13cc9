//go:build js && wasm

package simd

import (
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"syscall/js"
	"testing"

	"github.com/prefer-rlhf/prefer/core/nn"
)

// These tests run under Node with Go's memory handed over (node_preload.js; build.sh test):
//
//	NODE_OPTIONS=--require=$PWD/wasm/simd/node_preload.js PATH="$(go env GOROOT)/lib/wasm:$PATH" GOOS=js GOARCH=wasm go test ./wasm/simd

// needMemory skips the test where nothing handed Go's memory over, and fails it in CI.
func needMemory(t *testing.T) {
	if js.Global().Get(MemoryGlobal).Truthy() {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("globalThis.%s is not set: run under node --require wasm/simd/node_preload.js", MemoryGlobal)
	}
	t.Skipf("globalThis.%s is not set (node_preload.js)", MemoryGlobal)
}

// spy installs a Gemm that counts its calls and returns the count.
func spy() *int {
	calls := new(int)
	nn.SetGemm(func(c []float64, ldc int, a []float64, sai, sap int, b []float64, ldb int, m, n, k int, first bool) {
		*calls++
	})
	return calls
}

// forward runs a small network's Forward, which makes one product per layer.
func forward() {
	var tape nn.Tape
	nn.New([]int{3, 5, 1}, nn.Tanh, nn.Identity).Forward(&tape, make([]float64, 6), 2)
}

// TestInstall checks that the module installs, that Forward then runs on it, and that its
// products and tanh give the Go kernels' bits on shapes and inputs with every edge
// (nn.CheckGemm, nn.CheckTanh).
func TestInstall(t *testing.T) {
	needMemory(t)
	calls := spy()
	defer Uninstall()
	if err := Install(); err != nil {
		t.Fatal(err)
	}
	forward()
	if *calls != 0 {
		t.Fatal("Install left the previous kernels in place")
	}
	g, tanh, err := instantiate()
	if err != nil {
		t.Fatal(err)
	}
	if err := nn.CheckGemm(g); err != nil {
		t.Error(err)
	}
	if err := nn.CheckTanh(tanh); err != nil {
		t.Error(err)
	}
}

// TestFallback checks that Install leaves the kernels alone, with an error, where the engine
// has no SIMD (WebAssembly.validate false) or nothing handed Go's memory over.
func TestFallback(t *testing.T) {
	needMemory(t)
	defer Uninstall()
	wa := js.Global().Get("WebAssembly")
	validate := wa.Get("validate")
	noSIMD := js.FuncOf(func(js.Value, []js.Value) any { return false })
	defer noSIMD.Release()
	mem := js.Global().Get(MemoryGlobal)
	for _, c := range []struct {
		name, err   string
		break_, fix func()
	}{
		{"no SIMD", "no WebAssembly SIMD", func() { wa.Set("validate", noSIMD) }, func() { wa.Set("validate", validate) }},
		{"no memory", "no WebAssembly memory", func() { js.Global().Delete(MemoryGlobal) }, func() { js.Global().Set(MemoryGlobal, mem) }},
	} {
		calls := spy()
		c.break_()
		err := Install()
		c.fix()
		if err == nil || !strings.Contains(err.Error(), c.err) || !strings.HasPrefix(err.Error(), "simd: ") {
			t.Errorf("%s: Install returned %v, want an error about %q", c.name, err, c.err)
		}
		forward()
		if *calls != 2 {
			t.Errorf("%s: Install replaced the kernels", c.name)
		}
	}
}

// TestSameFit checks a training step of task T1's network on a batch of T1's size (64 pairs of
// two 25-step segments: 3200 rows, 25 chunks of the weight gradient) for the same bits with
// the module as with the Go kernels.
func TestSameFit(t *testing.T) {
	needMemory(t)
	defer Uninstall()
	const n = 3200
	rng := rand.New(rand.NewPCG(3, 5))
	net := nn.New([]int{4, 64, 64, 1}, nn.Tanh, nn.Identity)
	net.InitOrthogonal(rng, math.Sqrt2, 1)
	x, dy := make([]float64, 4*n), make([]float64, n)
	for i := range x {
		x[i] = rng.NormFloat64()
	}
	for i := range dy {
		dy[i] = rng.NormFloat64()
	}
	step := func() (y, grad, dx []float64) {
		var tape nn.Tape
		y = append([]float64(nil), net.Forward(&tape, x, n)...)
		grad = make([]float64, len(net.Params))
		dx = append([]float64(nil), net.Backward(&tape, append([]float64(nil), dy...), grad)...)
		return y, grad, dx
	}
	Uninstall()
	y0, g0, dx0 := step()
	if err := Install(); err != nil {
		t.Fatal(err)
	}
	y1, g1, dx1 := step()
	sameBits := func(x, y float64) bool { return math.Float64bits(x) == math.Float64bits(y) }
	if !slices.EqualFunc(y0, y1, sameBits) || !slices.EqualFunc(g0, g1, sameBits) || !slices.EqualFunc(dx0, dx1, sameBits) {
		t.Fatal("the outputs or gradients with SIMD differ from those with the Go kernels")
	}
}

// BenchmarkInstall measures what a fit worker spends at start on instantiating the module.
func BenchmarkInstall(b *testing.B) {
	if !js.Global().Get(MemoryGlobal).Truthy() {
		b.Skip("no memory handed over")
	}
	defer Uninstall()
	for b.Loop() {
		if err := Install(); err != nil {
			b.Fatal(err)
		}
	}
}
