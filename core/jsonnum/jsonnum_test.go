package jsonnum

import (
	"encoding/json"
	"math"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	in := []Num{1.5, Num(math.NaN()), Num(math.Inf(1)), Num(math.Inf(-1)), 0.1, -2e-300}
	b, err := json.Marshal(in)
	if err != nil || string(b) != "[1.5,null,null,null,0.1,-2e-300]" {
		t.Fatalf("%s %v", b, err)
	}
	var out []Num
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	for i := range in {
		if Finite(float64(in[i])) != Finite(float64(out[i])) || (Finite(float64(in[i])) && in[i] != out[i]) {
			t.Fatalf("entry %d: %v became %v", i, in[i], out[i])
		}
	}
	if err := json.Unmarshal([]byte(`"x"`), new(Num)); err == nil {
		t.Fatal("a string decoded as a number")
	}
}
