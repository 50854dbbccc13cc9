package trainer

import (
	"math"
	"math/rand/v2"
	"sort"

	"github.com/prefer-rlhf/prefer/core/ppo"
	"github.com/prefer-rlhf/prefer/server/store"
)

// candidates makes the round's candidate clips: from a uniformly random policy (all of them in
// the first round), from older policies, and from the newest one (§2.2.4, App. A).
func (t *Trainer) candidates(p *project, set store.Settings, rng *rand.Rand) ([]candidate, error) {
	e, err := horizonEnv(p.spec.Name)
	if err != nil {
		return nil, err
	}
	L := clipSteps(p.spec, set.ClipSeconds)
	H := p.spec.MaxEpisodeSteps
	n := min(4*set.PairsPerRound, 1000)
	out := make([]candidate, 0, n)
	for i := 0; i < n; i++ {
		var pol *ppo.Policy
		version := 0
		u := rng.Float64()
		switch {
		case p.policyVersion == 0 || u < t.cfg.RandomShare:
		case u < t.cfg.RandomShare+t.cfg.OldShare && len(p.old) > 0:
			op := p.old[rng.IntN(len(p.old))]
			pol, version = op.pol, op.version
		default:
			pol, version = p.ppo.Policy(), p.policyVersion
		}
		// A random policy soon reaches states it never leaves (a fallen pole), so its clips
		// start at a reset, where they differ most. A trained policy's clips start at a reset
		// half the time and anywhere in an episode otherwise: a policy that fails early only
		// shows its failure near the start, and a pair of two clips after the failure would
		// tell the model nothing (equal returns).
		skip, maxSkip := 0, H-L
		if pol == nil || rng.IntN(2) == 0 {
			maxSkip = 0
		}
		if maxSkip > 0 {
			skip = rng.IntN(maxSkip + 1)
		}
		c, err := rollClip(e, pol, version, rng, skip, L)
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

// selectPairs picks set.PairsPerRound pairs among the candidates. With "disagreement" it draws
// Oversample times as many random candidate pairs and keeps those where the ensemble members
// disagree most: the standard deviation over members of P(a ≻ b) = σ(Rᵢ(a) - Rᵢ(b)) (§2.2.4).
// With "random", or before there is a model, it draws random pairs (score 0).
func (t *Trainer) selectPairs(p *project, set store.Settings, cands []candidate, rng *rand.Rand) []pairChoice {
	want := set.PairsPerRound
	if len(cands) < 2 {
		return nil
	}
	randomPair := func() (int, int) {
		a := rng.IntN(len(cands))
		b := rng.IntN(len(cands) - 1)
		if b >= a {
			b++
		}
		return a, b
	}
	if set.Query == "random" || p.model == nil || p.data.Len() == 0 {
		out := make([]pairChoice, want)
		for i := range out {
			a, b := randomPair()
			out[i] = pairChoice{a, b, 0}
		}
		return out
	}
	K := p.model.Members()
	ret := make([][]float64, len(cands))
	for i, c := range cands {
		ret[i] = make([]float64, K)
		p.model.MemberReturns(c.seg, ret[i])
	}
	pool := make([]pairChoice, 0, want*t.cfg.Oversample)
	for i := 0; i < want*t.cfg.Oversample; i++ {
		a, b := randomPair()
		pool = append(pool, pairChoice{a, b, spread(ret[a], ret[b])})
	}
	sort.SliceStable(pool, func(i, j int) bool { return pool[i].score > pool[j].score })
	return pool[:want]
}

// spread is the members' standard deviation of σ(Rᵢ(a) - Rᵢ(b)).
func spread(ra, rb []float64) float64 {
	mean, sq := 0.0, 0.0
	for i := range ra {
		p := 1 / (1 + math.Exp(rb[i]-ra[i]))
		mean += p
		sq += p * p
	}
	k := float64(len(ra))
	mean /= k
	return math.Sqrt(math.Max(sq/k-mean*mean, 0))
}
