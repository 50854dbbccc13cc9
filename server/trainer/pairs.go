package trainer

import (
	"math"
	"math/rand/v2"

	"github.com/prefer-rlhf/prefer/core/loop"
	"github.com/prefer-rlhf/prefer/core/query"
	"github.com/prefer-rlhf/prefer/server/store"
)

// candidates makes the round's candidate clips as the loop does (loop.Learner.Candidates: a
// uniformly random policy, all of them before the first PPO; older policies; the newest one:
// §2.2.4, App. A), four per pair to publish, up to 1000.
func (t *Trainer) candidates(p *project, set store.Settings, rng *rand.Rand) ([]candidate, error) {
	clips, err := p.clip.Candidates(rng, min(4*set.PairsPerRound, 1000), p.policyVersion)
	if err != nil {
		return nil, err
	}
	out := make([]candidate, len(clips))
	for i, c := range clips {
		out[i] = candidateOf(p.spec, c)
	}
	return out, nil
}

// pairChoice is a chosen pair of candidates and its priority.
type pairChoice struct {
	a, b  int
	score float64
}

// selectPairs picks set.PairsPerRound pairs among the candidates as the loop does
// (loop.Learner.SelectPairs) with the project's strategy, or at random before the model has
// labels. The priority is the members' standard deviation of P(a ≻ b) (0 when the strategy
// reads no returns, as uniform and k-center do, so their pairs are served in draw order).
func (t *Trainer) selectPairs(p *project, set store.Settings, cands []candidate, rng *rand.Rand) ([]pairChoice, error) {
	pool := make([]loop.Clip, len(cands))
	for i := range cands {
		pool[i].Seg = cands[i].seg
	}
	ps, returns, err := p.clip.SelectPairs(rng, pool, set.PairsPerRound)
	if err != nil {
		return nil, err
	}
	out := make([]pairChoice, len(ps))
	for i, q := range ps {
		out[i] = pairChoice{a: q.Left, b: q.Right}
		if returns != nil {
			out[i].score = math.Sqrt(query.Variance(returns, q))
		}
	}
	return out, nil
}
