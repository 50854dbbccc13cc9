package reward

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/prefer-rlhf/prefer/core/oracle"
)

// scaleData returns a copy of d with every observation (o and o') multiplied by scale.
func scaleData(d *Dataset, scale []float64) *Dataset {
	seg := func(s Segment) Segment {
		s.Obs, s.Next = append([]float64(nil), s.Obs...), append([]float64(nil), s.Next...)
		for i := range s.Obs {
			s.Obs[i] *= scale[i%len(scale)]
			s.Next[i] *= scale[i%len(scale)]
		}
		return s
	}
	out := &Dataset{}
	for _, c := range d.Train {
		out.Train = append(out.Train, Comparison{Left: seg(c.Left), Right: seg(c.Right), Mu: c.Mu})
	}
	for _, c := range d.Val {
		out.Val = append(out.Val, Comparison{Left: seg(c.Left), Right: seg(c.Right), Mu: c.Mu})
	}
	return out
}

// TestObsScale: a model with ObsScale s is the model without it fed observations times s, and
// the scale survives both stored forms.
func TestObsScale(t *testing.T) {
	d, _ := cartData(12, 60, 10, oracle.Rater{})
	scale := []float64{0.5, 2, 10, 0.25}
	c := smallConfig(12)
	c.Features = Obs | Act | Next
	c.Epochs, c.MinSteps, c.Parallel = 3, 5, false
	plain, err := New(c, cartShape)
	if err != nil {
		t.Fatal(err)
	}
	c.ObsScale = scale
	withScale, err := New(c, cartShape)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := plain.Fit(scaleData(d, scale)); err != nil {
		t.Fatal(err)
	}
	if _, err := withScale.Fit(d); err != nil {
		t.Fatal(err)
	}
	a, sa := d.Train[0].Left, scaleData(d, scale).Train[0].Left
	if got, want := withScale.Return(a), plain.Return(sa); math.Abs(got-want) > 1e-9*math.Max(1, math.Abs(want)) {
		t.Errorf("Return with ObsScale %v, without on scaled observations %v", got, want)
	}
	if withScale.Return(a) == plain.Return(a) {
		t.Errorf("ObsScale changed nothing")
	}
	js, _ := json.Marshal(withScale)
	var back Model
	if err := json.Unmarshal(js, &back); err != nil {
		t.Fatal(err)
	}
	bin, _ := withScale.MarshalBinary()
	var backBin Model
	if err := backBin.UnmarshalBinary(bin); err != nil {
		t.Fatal(err)
	}
	if back.Return(a) != withScale.Return(a) || backBin.Return(a) != withScale.Return(a) {
		t.Errorf("stored forms lose ObsScale: %v, %v, want %v", back.Return(a), backBin.Return(a), withScale.Return(a))
	}
	for _, bad := range [][]float64{{1, 2}, {1, 1, 0, 1}, {1, 1, math.Inf(1), 1}} {
		c.ObsScale = bad
		if _, err := New(c, cartShape); err == nil {
			t.Errorf("ObsScale %v accepted", bad)
		}
	}
}
