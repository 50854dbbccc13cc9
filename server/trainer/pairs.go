package trainer

import (
	"math"
	"math/rand/v2"

	"github.com/prefer-rlhf/prefer/core/loop"
	"github.com/prefer-rlhf/prefer/core/ppo"
	"github.com/prefer-rlhf/prefer/core/query"
	"github.com/prefer-rlhf/prefer/server/store"
)

// candidates makes the round's candidate clips, each from the source the loop picks (a
// uniformly random policy, all of them in the first round; older policies; the newest one:
// §2.2.4, App. A), starting where the loop says.
func (t *Trainer) candidates(p *project, set store.Settings, lc loop.Config, rng *rand.Rand) ([]candidate, error) {
	e, err := horizonEnv(p.spec.Name)
	if err != nil {
		return nil, err
	}
	L := clipSteps(p.spec, set.ClipSeconds)
	n := min(4*set.PairsPerRound, 1000)
	out := make([]candidate, 0, n)
	for i := 0; i < n; i++ {
		var pol *ppo.Policy
		version := 0
		src := lc.PickSource(rng, p.policyVersion > 0, len(p.old))
		switch src {
		case loop.FromOld:
			op := p.old[rng.IntN(len(p.old))]
			pol, version = op.pol, op.version
		case loop.FromCurrent:
			pol, version = p.ppo.Policy(), p.policyVersion
		}
		c, err := rollClip(e, pol, version, rng, loop.ClipStart(rng, src, p.spec.MaxEpisodeSteps, L), L)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// pairChoice is a chosen pair of candidates and its priority.
type pairChoice struct {
	a, b  int
	score float64
}

// selectPairs picks set.PairsPerRound pairs among the candidates as the loop does
// (loop.QueryInputs, query.SelectFrom) with the project's strategy (lc.Query), or at random
// before there is a model. The priority is the members' standard deviation of P(a ≻ b) (0
// when the strategy reads no returns, as uniform and k-center do, so their pairs are served
// in draw order).
func (t *Trainer) selectPairs(p *project, set store.Settings, lc loop.Config, cands []candidate, rng *rand.Rand) ([]pairChoice, error) {
	if len(cands) < 2 {
		return nil, nil
	}
	qc := lc.Query
	trained := p.model != nil && p.data.Len() > 0
	if !trained {
		qc.Strategy = query.Random
	}
	pool := make([]loop.Clip, len(cands))
	for i := range cands {
		pool[i].Seg = cands[i].seg
	}
	in, err := loop.QueryInputs(p.model, pool, p.data, qc.Strategy)
	if err != nil {
		return nil, err
	}
	ps, err := query.SelectFrom(rng, len(cands), set.PairsPerRound, qc, in)
	if err != nil {
		return nil, err
	}
	returns := in.Returns
	out := make([]pairChoice, len(ps))
	for i, q := range ps {
		out[i] = pairChoice{a: q.Left, b: q.Right}
		if returns != nil {
			out[i].score = math.Sqrt(query.Variance(returns, q))
		}
	}
	return out, nil
}
