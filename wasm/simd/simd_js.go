//go:build js && wasm

package simd

import (
	"fmt"
	"runtime"
	"syscall/js"
	"unsafe"

	"github.com/prefer-rlhf/prefer/core/nn"
)

// Install instantiates the SIMD module on Go's memory and makes core/nn use its products and
// tanh. It returns why not otherwise: no memory handed over, an engine without SIMD
// (WebAssembly.validate false) or a failed instantiation; the Go kernels then stay.
//
// That they give the Go kernels' bits is for the tests to show (nn.CheckGemm, nn.CheckTanh
// under Node, whose V8 is chromium's), not for every worker at start: the checks' code alone
// weighs 3.5 KB brotli, a third of what is left of the app's 1.0 MB budget.
func Install() (err error) {
	defer func() {
		if r := recover(); r != nil { // a JavaScript exception from instantiation
			err = fmt.Errorf("simd: %v", r)
		}
	}()
	g, tanh, err := instantiate()
	if err != nil {
		return err
	}
	nn.SetGemm(g)
	nn.SetTanh(tanh)
	return nil
}

// instantiate returns the module's gemm and tanh as core/nn's hooks take them.
func instantiate() (nn.Gemm, func([]float64), error) {
	mem := js.Global().Get(MemoryGlobal)
	wa := js.Global().Get("WebAssembly")
	if !mem.Truthy() || !wa.Truthy() {
		return nil, nil, fmt.Errorf("simd: no WebAssembly memory in globalThis.%s", MemoryGlobal)
	}
	b := js.Global().Get("Uint8Array").New(len(module))
	js.CopyBytesToJS(b, module)
	if !wa.Call("validate", b).Bool() {
		return nil, nil, fmt.Errorf("simd: this engine has no WebAssembly SIMD")
	}
	imports := js.Global().Get("Object").New()
	env := js.Global().Get("Object").New()
	env.Set("mem", mem)
	imports.Set("env", env)
	inst := wa.Get("Instance").New(wa.Get("Module").New(b), imports)
	exports := inst.Get("exports")
	f, ft := exports.Get("gemm"), exports.Get("tanh")
	tanh := func(y []float64) {
		n := len(y) &^ 1 // the module takes pairs
		if n > 0 {
			ft.Invoke(addr(y), n)
			runtime.KeepAlive(y)
		}
		if n < len(y) {
			y[n] = nn.FastTanh(y[n]) // tanhSlice's bits
		}
	}
	return func(c []float64, ldc int, a []float64, sai, sap int, b []float64, ldb int, m, n, k int, first bool) {
		// Go's heap objects do not move, so the addresses hold for the call; KeepAlive keeps
		// the slices from being collected before it returns.
		f.Invoke(addr(c), ldc, addr(a), sai, sap, addr(b), ldb, m, n, k, first)
		runtime.KeepAlive(c)
		runtime.KeepAlive(a)
		runtime.KeepAlive(b)
	}, tanh, nil
}

// Uninstall restores core/nn's Go kernels.
func Uninstall() {
	nn.SetGemm(nil)
	nn.SetTanh(nil)
}

// addr is the address of s's first element in Go's linear memory.
func addr(s []float64) int { return int(uintptr(unsafe.Pointer(unsafe.SliceData(s)))) }
