package classroom

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/prefer-rlhf/prefer/core/env"
	"github.com/prefer-rlhf/prefer/core/prefs"
	"github.com/prefer-rlhf/prefer/server/store"
)

// Noiseless demo raters answer every pair of a project through the store, each once, with
// the clip its scripted checker scores higher; switching them off stops the labels.
func TestDemoLabels(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(filepath.Join(t.TempDir(), "d.db"), store.Options{Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	p := &store.Project{ID: "p1", Env: "CartPoleLeft-v0", JoinCode: "D3M0D3", Settings: store.DefaultSettings()}
	if err := st.CreateProject(ctx, p); err != nil {
		t.Fatal(err)
	}
	// Four pairs: a clip that pushes left for 40 steps against one that pushes right.
	var clips []prefs.Clip
	var pairs []store.NewPair
	for i := 0; i < 4; i++ {
		left, right := make([][]float64, 40), make([][]float64, 40)
		for k := range left {
			left[k], right[k] = []float64{0}, []float64{1}
		}
		a := prefs.Clip{ID: fmt.Sprintf("l%d", i), Env: p.Env, StartState: []float64{0, 0, 0.01 * float64(i), 0}, Actions: left}
		b := prefs.Clip{ID: fmt.Sprintf("r%d", i), Env: p.Env, StartState: []float64{0, 0, 0.01 * float64(i), 0}, Actions: right}
		if i%2 == 1 {
			a, b = b, a
		}
		clips = append(clips, a, b)
		pairs = append(pairs, store.NewPair{ID: fmt.Sprintf("pair%d", i), Left: a.ID, Right: b.ID, Priority: 1})
	}
	if err := st.AddClipsAndPairs(ctx, p.ID, clips, pairs, false); err != nil {
		t.Fatal(err)
	}
	want := map[string]prefs.Choice{}
	for _, pr := range pairs {
		var l, r prefs.Clip
		for _, c := range clips {
			switch c.ID {
			case pr.Left:
				l = c
			case pr.Right:
				r = c
			}
		}
		sl, _ := env.ScoreClip(p.Env, l.StartState, l.Actions)
		sr, _ := env.ScoreClip(p.Env, r.StartState, r.Actions)
		switch {
		case sl > sr:
			want[pr.ID] = prefs.Left
		case sr > sl:
			want[pr.ID] = prefs.Right
		default:
			want[pr.ID] = prefs.Equal
		}
	}

	decided := 0
	for _, c := range want {
		if c != prefs.Equal {
			decided++
		}
	}
	if decided == 0 {
		t.Fatal("the checker ties every pair: the test would not test the answers")
	}

	d := NewDemo(st, nil)
	d.Every = 5 * time.Millisecond
	if err := d.Set(ctx, p.ID, 3, 0, ""); err != nil {
		t.Fatal(err)
	}
	if s := d.State(p.ID); s.Raters != 3 {
		t.Fatalf("demo state %+v", s)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := st.Counts(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if c.Comparisons == 12 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("demo raters stored %d labels in 10 s, want 12", c.Comparisons)
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // no pair left: nothing more may come
	if err := d.Set(ctx, p.ID, 0, 0, ""); err != nil {
		t.Fatal(err)
	}
	if s := d.State(p.ID); s.Raters != 0 {
		t.Fatalf("demo still on: %+v", s)
	}
	seen := map[[2]string]bool{}
	n := 0
	err = st.Export(ctx, p.ID, func(e *store.ExportRow) error {
		n++
		k := [2]string{e.RaterID, e.PairID}
		if seen[k] {
			t.Errorf("rater %s answered pair %s twice", e.RaterName, e.PairID)
		}
		seen[k] = true
		if e.Choice != want[e.PairID] {
			t.Errorf("%s answered %s on %s, the checker says %s", e.RaterName, e.Choice, e.PairID, want[e.PairID])
		}
		return nil
	})
	if err != nil || n != 12 {
		t.Fatalf("%d labels, %v", n, err)
	}
	if err := d.Set(ctx, p.ID, 101, 0, ""); err == nil {
		t.Error("101 demo raters accepted")
	}
	if err := d.Set(ctx, "nope", 1, 0, ""); err == nil {
		t.Error("demo raters on a missing project")
	}
}
