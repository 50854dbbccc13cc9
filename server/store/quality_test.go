package store

import (
	"errors"
	"testing"

	"github.com/prefer-rlhf/prefer/core/prefs"
)

func TestGoldAndWeights(t *testing.T) {
	f := newFixture(t)
	if err := f.s.SetGold(ctx, f.project.ID, f.pair, prefs.Left); err != nil {
		t.Fatal(err)
	}
	if err := f.s.SetGold(ctx, f.project.ID, f.pair, prefs.Right); err != nil {
		t.Fatal(err)
	}
	g, err := f.s.Gold(ctx, f.project.ID)
	if err != nil || len(g) != 1 || g[f.pair] != prefs.Right {
		t.Fatalf("gold %v %v", g, err)
	}
	if err := f.s.SetGold(ctx, f.project.ID, f.pair, prefs.CantTell); err == nil {
		t.Error("cant_tell accepted as a gold answer")
	}
	if err := f.s.SetGold(ctx, f.project.ID, "no-such-pair", prefs.Left); !errors.Is(err, ErrNotFound) {
		t.Errorf("gold on a missing pair: %v", err)
	}
	if err := f.s.SetGold(ctx, f.project.ID, f.pair, ""); err != nil {
		t.Fatal(err)
	}
	if g, _ := f.s.Gold(ctx, f.project.ID); len(g) != 0 {
		t.Errorf("gold after unmarking: %v", g)
	}

	if w, err := f.s.RaterWeights(ctx, f.project.ID); err != nil || len(w) != 0 {
		t.Fatalf("weights of a new project: %v %v", w, err)
	}
	if err := f.s.SetRaterWeight(ctx, f.project.ID, f.rater.ID, 0.5); err != nil {
		t.Fatal(err)
	}
	if w, _ := f.s.RaterWeights(ctx, f.project.ID); w[f.rater.ID] != 0.5 {
		t.Errorf("weights %v", w)
	}
	for _, bad := range []float64{-0.1, 1.5} {
		if err := f.s.SetRaterWeight(ctx, f.project.ID, f.rater.ID, bad); err == nil {
			t.Errorf("weight %v accepted", bad)
		}
	}
	if err := f.s.SetRaterWeight(ctx, f.project.ID, "nobody", 0.5); !errors.Is(err, ErrNotFound) {
		t.Errorf("weight of a missing rater: %v", err)
	}
	if err := f.s.SetRaterWeight(ctx, f.project.ID, f.rater.ID, 1); err != nil {
		t.Fatal(err)
	}
	if w, _ := f.s.RaterWeights(ctx, f.project.ID); len(w) != 0 {
		t.Errorf("weights after restoring: %v", w)
	}
}
