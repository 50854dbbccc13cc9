//go:build js && wasm

package simd

import (
	"fmt"
	"runtime"
	"syscall/js"
	"unsafe"

	"github.com/prefer-rlhf/prefer/core/nn"
)

// Install instantiates the SIMD module on Go's memory and, if its products give the Go
// kernels' bits (nn.CheckGemm), makes core/nn use it. It returns why not otherwise: no
// memory handed over, an engine without SIMD (WebAssembly.validate false), or a failed check;
// the Go kernels then stay.
func Install() (err error) {
	defer func() {
		if r := recover(); r != nil { // a JavaScript exception from instantiation
			err = fmt.Errorf("simd: %v", r)
		}
	}()
	g, err := instantiate()
	if err != nil {
		return err
	}
	if err := nn.CheckGemm(g); err != nil {
		return fmt.Errorf("simd: not used: %w", err)
	}
	nn.SetGemm(g)
	return nil
}

// instantiate returns the module's gemm as an nn.Gemm.
func instantiate() (nn.Gemm, error) {
	mem := js.Global().Get(MemoryGlobal)
	wa := js.Global().Get("WebAssembly")
	if !mem.Truthy() || !wa.Truthy() {
		return nil, fmt.Errorf("simd: no WebAssembly memory in globalThis.%s", MemoryGlobal)
	}
	b := js.Global().Get("Uint8Array").New(len(module))
	js.CopyBytesToJS(b, module)
	if !wa.Call("validate", b).Bool() {
		return nil, fmt.Errorf("simd: this engine has no WebAssembly SIMD")
	}
	imports := js.Global().Get("Object").New()
	env := js.Global().Get("Object").New()
	env.Set("mem", mem)
	imports.Set("env", env)
	inst := wa.Get("Instance").New(wa.Get("Module").New(b), imports)
	f := inst.Get("exports").Get("gemm")
	return func(c []float64, ldc int, a []float64, sai, sap int, b []float64, ldb int, m, n, k int, first bool) {
		// Go's heap objects do not move, so the addresses hold for the call; KeepAlive keeps
		// the slices from being collected before it returns.
		f.Invoke(addr(c), ldc, addr(a), sai, sap, addr(b), ldb, m, n, k, first)
		runtime.KeepAlive(c)
		runtime.KeepAlive(a)
		runtime.KeepAlive(b)
	}, nil
}

// addr is the address of s's first element in Go's linear memory.
func addr(s []float64) int { return int(uintptr(unsafe.Pointer(unsafe.SliceData(s)))) }
