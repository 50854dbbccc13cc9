package trainer

import (
	"fmt"
	"math"
	"testing"

	"github.com/prefer-rlhf/prefer/server/store"
)

// thin keeps about w of a down-weighted rater's labels, the same ones every time, a subset of
// those kept at any larger weight, and all of everyone else's.
func TestThin(t *testing.T) {
	var labels []store.Label
	for i := 0; i < 4000; i++ {
		labels = append(labels, store.Label{ID: fmt.Sprintf("0190a0b2-%04d-7000-8000-000000000000", i), RaterID: []string{"a", "b"}[i%2]})
	}
	if got := thin(labels, nil); len(got) != len(labels) {
		t.Fatalf("no weights: %d of %d kept", len(got), len(labels))
	}
	kept := func(w float64) map[string]bool {
		m := map[string]bool{}
		nb := 0
		for _, l := range thin(labels, map[string]float64{"a": w}) {
			if l.RaterID == "a" {
				m[l.ID] = true
			} else {
				nb++
			}
		}
		if nb != 2000 {
			t.Fatalf("weight %v on a: %d of b's 2000 labels kept", w, nb)
		}
		return m
	}
	half, quarter := kept(0.5), kept(0.25)
	if math.Abs(float64(len(half))-1000) > 100 || math.Abs(float64(len(quarter))-500) > 80 {
		t.Errorf("kept %d of 2000 at weight 0.5 and %d at 0.25", len(half), len(quarter))
	}
	for id := range quarter {
		if !half[id] {
			t.Fatalf("label %s kept at 0.25 but not at 0.5", id)
		}
	}
	if again := kept(0.5); len(again) != len(half) {
		t.Error("thinning is not deterministic")
	}
	if n := len(kept(0)); n != 0 {
		t.Errorf("weight 0 kept %d labels", n)
	}
	if n := len(kept(1)); n != 2000 {
		t.Errorf("weight 1 kept %d labels", n)
	}
}
