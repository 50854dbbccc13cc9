//go:build !notext

package fitter

import (
	"errors"
	"strconv"
)

// score answers a score message: r̂ of each clip under the local model, for red-team mode,
// where the rater edits a clip and watches what the model they trained makes of it. Before the
// model has learned from a label there is nothing to score with: the answer says so.
func (f *Fitter) score(in In) ([]Out, error) {
	sc := &Scores{Seq: in.Seq}
	switch {
	case f.model == nil || !f.fitted:
		sc.Reason = "the local model has not learned from a label yet"
	case len(in.Clips) == 0:
		return nil, errors.New("fitter: a score message carries clips")
	}
	if sc.Reason != "" {
		return []Out{{Type: TypeScores, Scores: sc}}, nil
	}
	for i := range in.Clips {
		c := &in.Clips[i]
		if c.Env != f.envOK || shapeOf(c) != f.model.Shape() {
			return nil, errors.New("fitter: a clip to score is not of the labels' env " + strconv.Quote(f.envOK))
		}
		seg, err := segment(c)
		if err != nil {
			return nil, errors.New("fitter: clip to score: " + err.Error())
		}
		sc.RHat = append(sc.RHat, f.model.Return(seg))
	}
	return []Out{{Type: TypeScores, Scores: sc}}, nil
}
