package merge

import "testing"

func TestDeltaCodec(t *testing.T) {
	d := []float32{0, -1.5, 3.25e-7, 1e30}
	got, err := DecodeDelta(EncodeDelta(d))
	if err != nil || len(got) != len(d) {
		t.Fatal(got, err)
	}
	for i := range d {
		if got[i] != d[i] {
			t.Fatalf("value %d: %v != %v", i, got[i], d[i])
		}
	}
	if _, err := DecodeDelta(make([]byte, 7)); err == nil {
		t.Fatal("7 bytes decoded")
	}
}
