package trainer

import (
	"context"
	"hash/fnv"
	"math"

	"github.com/prefer-rlhf/prefer/server/store"
)

// raterWeights is implemented by stores that keep a weight per rater (the native store; the
// teacher down-weights a rater from the classroom dashboard). A store without it has every
// rater at full weight.
type raterWeights interface {
	RaterWeights(ctx context.Context, projectID string) (map[string]float64, error)
}

// thin down-weights labels by their rater's weight w in [0, 1] by keeping each label with
// probability w, decided by a hash of its UUID: the kept set's expected share of the loss is
// w times the full set's, as with a weighted Bradley-Terry loss, and it is the same set every
// round while the weight stays (so new labels still extend the dataset, and a changed weight
// rebuilds it, as an exclusion does). Labels of raters not in weights keep full weight.
func thin(labels []store.Label, weights map[string]float64) []store.Label {
	if len(weights) == 0 {
		return labels
	}
	out := labels[:0:0]
	for _, l := range labels {
		w, ok := weights[l.RaterID]
		if !ok || keep(l.ID) < w {
			out = append(out, l)
		}
	}
	return out
}

// keep maps a label id to a number uniform in [0, 1).
func keep(id string) float64 {
	h := fnv.New64a()
	h.Write([]byte(id))
	return float64(h.Sum64()>>11) / math.Exp2(53)
}
