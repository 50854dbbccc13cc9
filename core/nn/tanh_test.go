package nn

import (
	"math"
	"testing"
)

// TestTanh compares tanh with math.Tanh on a dense sweep and at the branch boundaries.
func TestTanh(t *testing.T) {
	worst := 0.0
	check := func(x float64) {
		got, want := tanh(x), math.Tanh(x)
		ulps := math.Abs(got-want) / (math.Nextafter(math.Abs(want), 2) - math.Abs(want))
		if math.IsNaN(got) || ulps > 4 {
			t.Fatalf("tanh(%v) = %v, math.Tanh %v (%v ulp apart)", x, got, want, ulps)
		}
		worst = max(worst, ulps)
	}
	for i := -300000; i <= 300000; i++ {
		check(float64(i) / 10000)
	}
	for _, x := range []float64{0, 1e-300, 0.625, math.Nextafter(0.625, 0), 22, math.Nextafter(22, 23), 44, 1e10, math.Inf(1)} {
		check(x)
		check(-x)
	}
	if !math.IsNaN(tanh(math.NaN())) || math.Signbit(tanh(math.Copysign(0, -1))) != true {
		t.Fatal("tanh mishandles NaN or -0")
	}
	t.Logf("worst difference from math.Tanh: %v ulp", worst)
}

var sink float64

func BenchmarkTanh(b *testing.B) {
	xs := make([]float64, 4096)
	for i := range xs {
		xs[i] = float64(i-2048) / 512 // [-4, 4), where tanh units mostly live
	}
	for _, f := range []struct {
		name string
		f    func(float64) float64
	}{{"math", math.Tanh}, {"nn", tanh}} {
		b.Run(f.name, func(b *testing.B) {
			for b.Loop() {
				for _, x := range xs {
					sink += f.f(x)
				}
			}
			b.ReportMetric(b.Elapsed().Seconds()*1e9/float64(b.N*len(xs)), "ns/tanh")
		})
	}
}

// TestTanhSlice checks that tanhSlice, tanh written out for speed, gives tanh's bits.
func TestTanhSlice(t *testing.T) {
	var xs []float64
	for i := -300000; i <= 300000; i++ {
		xs = append(xs, float64(i)/10000)
	}
	for _, x := range []float64{0, math.Copysign(0, -1), 1e-300, 0.625, math.Nextafter(0.625, 0), 22, math.Nextafter(22, 23), 44, 1e10, math.Inf(1), math.NaN()} {
		xs = append(xs, x, -x)
	}
	y := append([]float64(nil), xs...)
	tanhSlice(y)
	for i, x := range xs {
		if want := tanh(x); math.Float64bits(y[i]) != math.Float64bits(want) {
			t.Fatalf("tanhSlice gives %v for %v, tanh %v", y[i], x, want)
		}
	}
}
