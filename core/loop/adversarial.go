package loop

import (
	"fmt"
	"math/rand/v2"

	"github.com/prefer-rlhf/prefer/core/env"
	"github.com/prefer-rlhf/prefer/core/redteam"
	"github.com/prefer-rlhf/prefer/core/reward"
)

// Adversarial is what the adversarial rounds did: adversarial training of the reward model in
// the manner of Ziegler et al. 2022 ("Adversarial training for high-stakes reliability"), with
// core/redteam's automated adversary in place of their human red-teamers.
type Adversarial struct {
	Rounds int `json:"rounds"`
	// FailuresFound holds, per round, the failures the adversary found; each became a labelled
	// pair against an ordinary clip.
	FailuresFound []int `json:"failures_found"`
	// EffortBefore and EffortAfter are the adversary's env steps to its first failure against
	// the reward model before the first round and after the last one, with the same search
	// budget and seed; -1 means none within AdversaryBudget steps.
	EffortBefore    int `json:"effort_before"`
	EffortAfter     int `json:"effort_after"`
	AdversaryBudget int `json:"adversary_budget"`
	// EffortAfterRound is the same measure after each round's refit (its last is
	// EffortAfter): how the search's cost grows round by round.
	EffortAfterRound []int `json:"effort_after_round"`
	// AccuracyBefore and AccuracyAfter are the reward model's accuracy on held-out ordinary
	// pairs (clips of the policy and of a random one, labelled by the true return), so that
	// robustness bought with accuracy shows.
	AccuracyBefore float64 `json:"accuracy_before"`
	AccuracyAfter  float64 `json:"accuracy_after"`
	HeldOutPairs   int     `json:"heldout_pairs"`
	// Labels is how many comparisons the rounds added (within LabelsUsed).
	Labels int `json:"adversarial_labels"`
}

// hardening is what the adversarial rounds read and change of a run.
type hardening struct {
	cfg     Config
	fixed   env.Env // the task in fixed-horizon mode
	clipLen int
	actor   Actor         // the current policy
	model   *reward.Model // refitted in place
	label   func(l, r *Clip) error
	refit   func(recent []Clip) error
	rng     *rand.Rand
}

// run runs cfg.AdversarialRounds rounds: each searches the current reward model for failures
// (redteam.Search: r̂ above the 90th percentile of the policy's clips, true return below the
// task's threshold), has the rater label each failure against an ordinary clip of the policy
// and refits. After each refit, a search with the first one's seed measures the effort.
func (h *hardening) run() (*Adversarial, error) {
	spec := h.fixed.Spec()
	// Held-out ordinary pairs: clips of the policy and of a random one, half each, shuffled
	// into pairs; ties in the true return tell nothing and are dropped.
	n := 2 * h.cfg.AccuracyPairs
	var policyClips []Clip
	pool := make([]Clip, n)
	for i := range pool {
		act := h.actor
		if i%2 == 1 {
			act = nil
		}
		pool[i] = Roll(h.fixed, act, h.rng.IntN(spec.MaxEpisodeSteps-h.clipLen+1), h.clipLen, h.rng)
		if act != nil {
			policyClips = append(policyClips, pool[i])
		}
	}
	h.rng.Shuffle(len(pool), func(i, j int) { pool[i], pool[j] = pool[j], pool[i] })
	var held [][2]*Clip
	for i := 0; i+1 < len(pool); i += 2 {
		if pool[i].TrueReturn != pool[i+1].TrueReturn {
			held = append(held, [2]*Clip{&pool[i], &pool[i+1]})
		}
	}

	scorer, err := redteam.ModelScorer(h.model, h.cfg.Env)
	if err != nil {
		return nil, fmt.Errorf("loop: %w", err)
	}
	prob := redteam.Problem{Env: h.cfg.Env, Score: scorer}
	if !h.cfg.AdversaryRandomRefs {
		prob.Policy = redteam.Policy(h.actor)
	}
	acfg := h.cfg.Adversary
	acfg.Steps = h.clipLen
	seed := h.cfg.Seed ^ 0x6164766572736172
	out := &Adversarial{Rounds: h.cfg.AdversarialRounds, AdversaryBudget: acfg.Budget, HeldOutPairs: len(held)}
	out.AccuracyBefore = accuracy(h.model, held)
	for k := 0; k < h.cfg.AdversarialRounds; k++ {
		res, err := redteam.Search(prob, acfg, seed+uint64(k))
		if err != nil {
			return nil, fmt.Errorf("loop: %w", err)
		}
		if k == 0 {
			out.EffortBefore = res.Effort
		}
		out.FailuresFound = append(out.FailuresFound, len(res.Pairs))
		for _, p := range res.Pairs {
			fail, err := Replay(h.fixed, p.Failing.Clip.StartState, p.Failing.Clip.Actions)
			if err != nil {
				return nil, err
			}
			ord, err := Replay(h.fixed, p.Ordinary.Clip.StartState, p.Ordinary.Clip.Actions)
			if err != nil {
				return nil, err
			}
			// The failure goes left or right at random, as a pair does on screen.
			l, r := &fail, &ord
			if h.rng.IntN(2) == 1 {
				l, r = r, l
			}
			if err := h.label(l, r); err != nil {
				return nil, err
			}
			out.Labels++
		}
		// The effort after this round, with the first search's seed; a round that found
		// nothing changed nothing, so its effort is the last one.
		effort := out.EffortBefore
		if k > 0 {
			effort = out.EffortAfterRound[k-1]
		}
		if len(res.Pairs) > 0 {
			if err := h.refit(policyClips); err != nil {
				return nil, err
			}
			after, err := redteam.Search(prob, acfg, seed)
			if err != nil {
				return nil, fmt.Errorf("loop: %w", err)
			}
			effort = after.Effort
		}
		out.EffortAfterRound = append(out.EffortAfterRound, effort)
	}
	out.EffortAfter = out.EffortBefore
	if n := len(out.EffortAfterRound); n > 0 {
		out.EffortAfter = out.EffortAfterRound[n-1]
	}
	out.AccuracyAfter = accuracy(h.model, held)
	return out, nil
}

// accuracy is the share of pairs whose better clip by the true return m scores higher (a tie
// in r̂ counts half).
func accuracy(m *reward.Model, pairs [][2]*Clip) float64 {
	if len(pairs) == 0 {
		return 0
	}
	ok := 0.0
	for _, p := range pairs {
		l, r := m.Return(p[0].Seg), m.Return(p[1].Seg)
		switch {
		case l == r:
			ok += 0.5
		case (l > r) == (p[0].TrueReturn > p[1].TrueReturn):
			ok++
		}
	}
	return ok / float64(len(pairs))
}
