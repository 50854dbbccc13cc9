package reward

import "testing"

// BenchmarkT1 times task T1 (see T1): run with -benchtime 3x, natively and under wasm.
func BenchmarkT1(b *testing.B) {
	secs, acc := 0.0, 0.0
	for i := 0; i < b.N; i++ {
		s, a := T1(uint64(i + 1))
		secs += s
		acc += a
	}
	b.ReportMetric(secs/float64(b.N), "fit-s/op")
	b.ReportMetric(acc/float64(b.N), "heldout-acc")
}

// TestT1Small runs task T1 with one member instead of three, a third of the work: the fit
// must learn the hidden reward. (The full task is the benchmark.)
func TestT1Small(t *testing.T) {
	_, _, acc := t1(1, 1)
	t.Logf("held-out accuracy %.3f", acc)
	if acc < 0.85 {
		t.Errorf("held-out accuracy %.3f after T1's fit with one member, want > 0.85", acc)
	}
}
