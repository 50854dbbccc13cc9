package nn

import (
	"math"
	"testing"
)

// TestAdamStep checks two steps against Kingma & Ba's Algorithm 1 worked by hand:
// m ← β₁m + (1-β₁)g, v ← β₂v + (1-β₂)g², θ ← θ - α·m̂/(√v̂ + ε) with m̂ = m/(1-β₁ᵗ), v̂ = v/(1-β₂ᵗ).
func TestAdamStep(t *testing.T) {
	params := []float64{1, -2}
	a := NewAdam(2, 0.1)
	// Step 1: m̂ = g, v̂ = g², so each parameter moves by α·g/(|g|+ε): 0.1 each way.
	a.Step(params, []float64{0.5, -0.1})
	want := []float64{0.9000000019999999, -1.900000009999999}
	if !close(params, want, 1e-15) {
		t.Fatalf("after step 1 params = %v, want %v", params, want)
	}
	// Step 2: m = (0.065, 0.021), v = (0.00028975, 9.999e-5), 1-β₁² = 0.19, 1-β₂² = 0.001999.
	a.Step(params, []float64{0.2, 0.3})
	want = []float64{0.9 + 2e-9 - 0.1*(0.065/0.19)/(math.Sqrt(0.00028975/0.001999)+1e-8),
		-1.9 - 1e-8 - 0.1*(0.021/0.19)/(math.Sqrt(9.999e-5/0.001999)+1e-8)}
	if !close(params, want, 1e-12) || !close(params, []float64{0.8101424839029281, -1.9494189911200654}, 1e-12) {
		t.Fatalf("after step 2 params = %v, want %v", params, want)
	}
	if a.T != 2 || !close(a.M, []float64{0.065, 0.021}, 1e-15) || !close(a.V, []float64{0.00028975, 9.999e-5}, 1e-15) {
		t.Fatalf("moments after 2 steps: T=%d M=%v V=%v", a.T, a.M, a.V)
	}
}

func TestClipGradNorm(t *testing.T) {
	g := []float64{3, -4}
	if norm := ClipGradNorm(g, 1); norm != 5 || !close(g, []float64{0.6, -0.8}, 1e-15) {
		t.Fatalf("ClipGradNorm([3 -4], 1) = %v, grad %v; want 5, [0.6 -0.8]", norm, g)
	}
	g = []float64{3, -4}
	if norm := ClipGradNorm(g, 10); norm != 5 || g[0] != 3 || g[1] != -4 {
		t.Fatalf("ClipGradNorm under the limit changed grad to %v (norm %v)", g, norm)
	}
	g = []float64{0, 0}
	if norm := ClipGradNorm(g, 0.5); norm != 0 || g[0] != 0 || g[1] != 0 {
		t.Fatalf("ClipGradNorm of zero gives %v, %v", norm, g)
	}
}
