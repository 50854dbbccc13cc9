package loop

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestPickSource: before any policy has trained every clip is a random policy's; after, the
// shares are RandomShare, OldShare (only with old policies kept) and the rest.
func TestPickSource(t *testing.T) {
	c := Defaults("CartPole-v1")
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 100; i++ {
		if c.PickSource(rng, false, 3) != FromRandom {
			t.Fatal("an untrained loop drew a policy clip")
		}
	}
	const n = 20000
	count := map[Source]int{}
	for i := 0; i < n; i++ {
		count[c.PickSource(rng, true, 3)]++
	}
	for src, want := range map[Source]float64{FromRandom: c.RandomShare, FromOld: c.OldShare, FromCurrent: 1 - c.RandomShare - c.OldShare} {
		if got := float64(count[src]) / n; math.Abs(got-want) > 0.02 {
			t.Errorf("source %d: share %.3f, want %.3f", src, got, want)
		}
	}
	for i := 0; i < 100; i++ {
		if c.PickSource(rng, true, 0) == FromOld {
			t.Fatal("an old-policy clip with no old policies")
		}
	}
}

// TestKeepLabel: a weight keeps about that share of labels (random ids, as UUIDs are), the
// same ones every time.
func TestKeepLabel(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	kept := 0
	for i := 0; i < 10000; i++ {
		id := fmt.Sprintf("%016x-%016x", rng.Uint64(), rng.Uint64())
		k := KeepLabel(id, 0.3)
		if k != KeepLabel(id, 0.3) {
			t.Fatal("not deterministic")
		}
		if k {
			kept++
		}
		if !KeepLabel(id, 1) || KeepLabel(id, 0) {
			t.Fatal("weight 1 must keep and 0 drop every label")
		}
	}
	if kept < 2700 || kept > 3300 {
		t.Fatalf("weight 0.3 kept %d of 10000", kept)
	}
}
