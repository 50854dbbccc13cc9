package trainer

import (
	"context"

	"github.com/prefer-rlhf/prefer/core/loop"
	"github.com/prefer-rlhf/prefer/server/store"
)

// raterWeights is implemented by stores that keep a weight per rater (the native store; the
// teacher down-weights a rater from the classroom dashboard). A store without it has every
// rater at full weight.
type raterWeights interface {
	RaterWeights(ctx context.Context, projectID string) (map[string]float64, error)
}

// thin down-weights labels by their rater's weight as the loop does (loop.KeepLabel): the
// same set every round while the weight stays, so new labels still extend the dataset, and a
// changed weight rebuilds it, as an exclusion does. Labels of raters not in weights keep full
// weight.
func thin(labels []store.Label, weights map[string]float64) []store.Label {
	if len(weights) == 0 {
		return labels
	}
	out := labels[:0:0]
	for _, l := range labels {
		w, ok := weights[l.RaterID]
		if !ok || loop.KeepLabel(l.ID, w) {
			out = append(out, l)
		}
	}
	return out
}
