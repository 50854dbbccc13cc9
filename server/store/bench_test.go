package store

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/prefer-rlhf/prefer/core/prefs"
)

// BenchmarkAddComparisons times one sync of 20 new comparisons on 20 pairs, as the hub's
// simulated raters send them (one goroutine, so no group forms), with the pair and label
// counts. Synchronous=NORMAL: this measures the SQL, not the disk's fsync. 50 raters take
// turns walking over 1,000 pairs from different starts, as PairsFor serves them: mostly a
// rater's first label on a pair that others may have labelled.
//
//	GOMAXPROCS=1 go test ./server/store -run - -bench AddComparisons -count 5
func BenchmarkAddComparisons(b *testing.B) {
	for _, capped := range []int{0, 1 << 30} {
		b.Run(fmt.Sprintf("cap=%v", capped > 0), func(b *testing.B) {
			s, err := Open(filepath.Join(b.TempDir(), "bench.db"), Options{Synchronous: "NORMAL"})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			pid := uuid.NewString()
			if err := s.CreateProject(ctx, &Project{ID: pid, Env: "CartPole-v1", Settings: DefaultSettings(), JoinCode: "BENCH1"}); err != nil {
				b.Fatal(err)
			}
			clips := []prefs.Clip{
				{ID: uuid.NewString(), Env: "CartPole-v1", StartState: []float64{0, 0, 0, 0}, Actions: [][]float64{{0}}},
				{ID: uuid.NewString(), Env: "CartPole-v1", StartState: []float64{0, 0, 0, 0}, Actions: [][]float64{{1}}},
			}
			pairs := make([]NewPair, 1000)
			for i := range pairs {
				pairs[i] = NewPair{ID: uuid.NewString(), Left: clips[0].ID, Right: clips[1].ID}
			}
			if err := s.AddClipsAndPairs(ctx, pid, clips, pairs, false); err != nil {
				b.Fatal(err)
			}
			raters := make([]string, 50)
			for i := range raters {
				raters[i] = uuid.NewString()
				if err := s.CreateRater(ctx, &Rater{ID: raters[i], ProjectID: pid, Name: "r"}, "hash-"+raters[i]); err != nil {
					b.Fatal(err)
				}
			}
			now := time.Now()
			cs := make([]prefs.Comparison, 20)
			b.ResetTimer()
			for i := range b.N {
				r, round := i%len(raters), i/len(raters)
				for j := range cs {
					cs[j] = prefs.Comparison{ID: uuid.NewString(), PairID: pairs[(r*7+round*len(cs)+j)%len(pairs)].ID,
						Choice: prefs.Left, CreatedAt: now, ResponseMS: 1000}
				}
				res, err := s.AddComparisonsCapped(ctx, pid, raters[r], cs, now.Add(time.Duration(i)*time.Millisecond), capped)
				if err != nil || len(res.Accepted) != len(cs) {
					b.Fatalf("%+v %v", res, err)
				}
			}
		})
	}
}
