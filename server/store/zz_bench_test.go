package store

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/prefer-rlhf/prefer/core/prefs"
)

func BenchmarkAddBatch20(b *testing.B) {
	s, err := Open(filepath.Join(b.TempDir(), "b.db"), Options{Synchronous: "NORMAL"})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	p := &Project{ID: uuid.NewString(), Env: "CartPole-v1", Settings: DefaultSettings(), JoinCode: "B1"}
	s.CreateProject(ctx, p)
	clips := []prefs.Clip{
		{ID: uuid.NewString(), Env: "CartPole-v1", StartState: []float64{0, 0, 0.01, 0}, Actions: [][]float64{{0}}},
		{ID: uuid.NewString(), Env: "CartPole-v1", StartState: []float64{0, 0, 0.02, 0}, Actions: [][]float64{{1}}},
	}
	var pairs []NewPair
	for i := 0; i < 50; i++ {
		pairs = append(pairs, NewPair{ID: uuid.NewString(), Left: clips[0].ID, Right: clips[1].ID})
	}
	s.AddClipsAndPairs(ctx, p.ID, clips, pairs, true)
	var raters []string
	for i := 0; i < 100; i++ {
		r := &Rater{ID: uuid.NewString(), ProjectID: p.ID, Name: "r"}
		s.CreateRater(ctx, r, uuid.NewString())
		raters = append(raters, r.ID)
	}
	now := time.Now()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		cs := make([]prefs.Comparison, 20)
		for j := range cs {
			cs[j] = prefs.Comparison{ID: uuid.Must(uuid.NewV7()).String(), PairID: pairs[(i+j)%50].ID, Choice: prefs.Left, CreatedAt: now, ResponseMS: 1000}
		}
		if _, err := s.AddComparisons(ctx, p.ID, raters[i%100], cs, now); err != nil {
			b.Fatal(err)
		}
	}
}
