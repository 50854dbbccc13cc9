package nn

import (
	"math"
	"strings"
	"testing"
)

// TestHookedIsBlocked checks that the kernel set built on a Gemm that follows its definition
// (gemmRef) gives the bits of the Go kernels, so that any Gemm that does too, such as the
// browser's SIMD module, leaves the fits unchanged.
func TestHookedIsBlocked(t *testing.T) {
	if err := CheckGemm(gemmRef); err != nil {
		t.Fatal(err)
	}
}

// TestCheckGemmCatches checks that CheckGemm rejects a Gemm that always sums from 0, which
// differs from the Go kernels only in the sign of some zeros.
func TestCheckGemmCatches(t *testing.T) {
	err := CheckGemm(func(c []float64, ldc int, a []float64, sai, sap int, b []float64, ldb int, m, n, k int, first bool) {
		gemmRef(c, ldc, a, sai, sap, b, ldb, m, n, k, false)
	})
	if err == nil || !strings.HasPrefix(err.Error(), "nn: ") {
		t.Fatalf("CheckGemm accepted a Gemm that ignores first: %v", err)
	}
}

// TestSetGemm checks that SetGemm routes Forward through the Gemm it is given and that
// SetGemm(nil) restores the Go kernels.
func TestSetGemm(t *testing.T) {
	calls := 0
	SetGemm(func(c []float64, ldc int, a []float64, sai, sap int, b []float64, ldb int, m, n, k int, first bool) {
		calls++
		gemmRef(c, ldc, a, sai, sap, b, ldb, m, n, k, first)
	})
	m := New([]int{3, 5, 1}, Tanh, Identity)
	var tape Tape
	m.Forward(&tape, make([]float64, 6), 2)
	SetGemm(nil)
	if calls != 2 {
		t.Fatalf("Forward of two layers made %d calls to the Gemm, want 2", calls)
	}
	m.Forward(&tape, make([]float64, 6), 2)
	if calls != 2 {
		t.Fatal("SetGemm(nil) left the Gemm in place")
	}
}

// TestCheckTanh checks that CheckTanh accepts tanhSlice itself and rejects math.Tanh, which
// differs from it by a few ulp.
func TestCheckTanh(t *testing.T) {
	if err := CheckTanh(tanhSlice); err != nil {
		t.Fatal(err)
	}
	if CheckTanh(func(y []float64) {
		for i, v := range y {
			y[i] = math.Tanh(v)
		}
	}) == nil {
		t.Fatal("CheckTanh accepted math.Tanh")
	}
}
