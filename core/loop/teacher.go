package loop

import (
	"math"

	"github.com/prefer-rlhf/prefer/core/oracle"
	"github.com/prefer-rlhf/prefer/core/ppo"
	"github.com/prefer-rlhf/prefer/core/query"
	"github.com/prefer-rlhf/prefer/core/reward"
)

// QueryInputs gathers what strategy s reads about pool: each member's return of every clip,
// and for k-center each clip's observations (B-Pref's features) and the pairs labelled so
// far (the comparisons of d). The hub's trainer calls it too, so a project queries as the
// loop does.
func QueryInputs(model *reward.Model, pool []Clip, d *reward.Dataset, s query.Strategy) (query.Inputs, error) {
	var in query.Inputs
	if s.NeedsReturns() {
		segs := make([]reward.Segment, len(pool))
		for i := range pool {
			segs[i] = pool[i].Seg
		}
		in.Returns = query.MemberReturns(model, segs)
	}
	if s.NeedsFeatures() {
		in.Features = make([][]float64, len(pool))
		for i := range pool {
			in.Features[i] = pool[i].Seg.Obs
		}
		for _, cs := range [][]reward.Comparison{d.Train, d.Val} {
			for _, c := range cs {
				if len(c.Left.Obs) != len(in.Features[0]) || len(c.Right.Obs) != len(in.Features[0]) {
					continue
				}
				in.Labelled = append(in.Labelled, append(append([]float64(nil), c.Left.Obs...), c.Right.Obs...))
			}
		}
	}
	return in, nil
}

// teacherThresholds returns B-Pref's δ_skip and δ_equal for t (nil: none): ratio × mean true
// return of the last training episodes × clip length / episode length. Before the first
// training episode ends it takes the mean return of the pool's clips, which is that
// product for episodes of the random policy's clips.
func teacherThresholds(t *oracle.Teacher, tr *ppo.Trainer, pool []Clip, clipLen int) (skip, equal float64) {
	if t == nil {
		return 0, 0
	}
	if ret, n := tr.RecentReturn(); n > 0 && !math.IsNaN(ret) {
		return t.Thresholds(ret, clipLen, tr.Config().FixedHorizon)
	}
	mean := 0.0
	for _, c := range pool {
		mean += c.TrueReturn / float64(len(pool))
	}
	return t.Thresholds(mean, 1, 1)
}
