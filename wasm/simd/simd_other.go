//go:build !(js && wasm)

package simd

import "errors"

// Install does nothing outside the browser and Node: native builds have their own vector
// kernels (core/nn's AVX panels).
func Install() error { return errors.New("simd: only in js/wasm") }

// Uninstall does nothing: Install installed nothing.
func Uninstall() {}
