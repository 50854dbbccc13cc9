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
