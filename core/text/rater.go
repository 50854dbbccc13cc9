package text

import (
	"math/rand/v2"

	"github.com/prefer-rlhf/prefer/core/oracle"
	"github.com/prefer-rlhf/prefer/core/prefs"
)

// Rate is a synthetic rater's answer to two continuations: core/oracle's Bradley-Terry rater
// (temperature, error rate, tie threshold) answering from their gold scores, as it answers
// clips from their true returns (Christiano et al. 2017, §3.1). gold is a task's score, such
// as World.Score with the task bound, or a lexicon the reward model never sees.
func Rate(rng *rand.Rand, r oracle.Rater, gold func(string) float64, left, right string) prefs.Choice {
	return r.Choose(rng, gold(left), gold(right))
}
