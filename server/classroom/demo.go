package classroom

import (
	"fmt"
	"math/rand/v2"

	"github.com/prefer-rlhf/prefer/core/env"
	"github.com/prefer-rlhf/prefer/core/oracle"
	"github.com/prefer-rlhf/prefer/core/prefs"
)

// DemoRater is a synthetic rater for demo mode: it answers a pair from the clips' true returns
// (env.ScoreClip: the checker's score for a behaviour, the fixed-horizon return for a
// Gymnasium task) as core/oracle's rater does, so a teacher can show the whole loop before the
// class joins.
type DemoRater struct {
	Name  string
	Rater oracle.Rater
}

// DemoRaters returns n demo raters named "demo-1" ... "demo-n" who answer at random with
// probability noise (oracle.Rater.ErrorRate, the random-response noise of Christiano et al.
// 2017, §2.2.3) and otherwise prefer the clip with the larger true return.
func DemoRaters(n int, noise float64) ([]DemoRater, error) {
	if n < 0 || n > 100 {
		return nil, fmt.Errorf("classroom: demo raters must be between 0 and 100, got %d", n)
	}
	r := oracle.Rater{ErrorRate: noise}
	if err := r.Validate(); err != nil {
		return nil, fmt.Errorf("classroom: demo noise: %w", err)
	}
	out := make([]DemoRater, n)
	for i := range out {
		out[i] = DemoRater{Name: fmt.Sprintf("demo-%d", i+1), Rater: r}
	}
	return out, nil
}

// Answer returns d's choice for pair p.
func (d DemoRater) Answer(rng *rand.Rand, p prefs.Pair) (prefs.Choice, error) {
	l, err := env.ScoreClip(p.Left.Env, p.Left.StartState, p.Left.Actions)
	if err != nil {
		return "", fmt.Errorf("classroom: left clip of pair %s: %w", p.ID, err)
	}
	r, err := env.ScoreClip(p.Right.Env, p.Right.StartState, p.Right.Actions)
	if err != nil {
		return "", fmt.Errorf("classroom: right clip of pair %s: %w", p.ID, err)
	}
	return d.Rater.Choose(rng, l, r), nil
}
