package loop

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/prefer-rlhf/prefer/core/env"
	"github.com/prefer-rlhf/prefer/core/ppo"
	"github.com/prefer-rlhf/prefer/core/query"
	"github.com/prefer-rlhf/prefer/core/reward"
)

// Learner is the learning of one RLHF run on a clip task (Christiano et al. 2017, §2.2), for a
// caller that brings the labels and the clock: Run, whose synthetic rater answers at once and
// whose rounds follow one another, and the hub's trainer (server/trainer), whose labels come
// from people through the store and whose rounds come on a timer. It holds what the paper's
// three processes share: PPO's trainer and its policy, the reward ensemble r̂ and the
// comparisons it is fitted on, older policies, and the reward PPO optimises now.
//
// A round, top to bottom: the caller adds labels to Data; Fit (from scratch) or Update (warm
// start) refits r̂ on them; Normalize scales r̂ (§2.2.3) and hands it, clamped, to PPO; Train
// runs PPO on it; TrueReturn, LearnedReturn and KL measure the policy; Candidates draws clips
// of the current, older and random policies, and SelectPairs picks the pairs to ask about
// (§2.2.4). A Learner is not safe for concurrent use.
type Learner struct {
	cfg        Config
	spec       env.Spec // the task's (standard, not fixed-horizon)
	fixed      env.Env  // the task in fixed-horizon mode: clips never end early (App. A.1)
	rewardSeed uint64
	ppo        *ppo.Trainer
	initial    *ppo.Policy // the policy before any training, for KL
	current    ppo.Reward  // what PPO optimises: r̂ as of the last Normalize, untrained r̂ before
	fitted     bool        // r̂ has been fitted on at least one comparison

	// Model is r̂, the reward ensemble; Fit and Update change it in place.
	Model *reward.Model
	// Data is the labelled comparisons r̂ is fitted on, the caller's to add to.
	Data *reward.Dataset
	// Old are earlier policies, oldest first, at most Config.OldPolicies: some candidate
	// clips show what the policy moved away from.
	Old []OldPolicy
}

// OldPolicy is an earlier policy and its version.
type OldPolicy struct {
	Version int
	Policy  *ppo.Policy
}

// NewLearner returns a Learner for cfg with an untrained policy (PPO seeded by cfg.Seed) and
// an untrained r̂. With continuing, PPO is configured for a run that never ends (the hub's:
// Config.PPOConfig says how).
func NewLearner(cfg Config, continuing bool) (*Learner, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	base, err := env.Lookup(cfg.Env)
	if err != nil {
		return nil, fmt.Errorf("loop: %w", err)
	}
	fixed, err := env.FixedHorizon(base, 0)
	if err != nil {
		return nil, fmt.Errorf("loop: %w", err)
	}
	spec := base.Spec()
	tr, err := ppo.New(cfg.PPOConfig(spec, continuing), cfg.Seed)
	if err != nil {
		return nil, err
	}
	l := &Learner{cfg: cfg, spec: spec, fixed: fixed, rewardSeed: cfg.Seed ^ 0x7265776172640000, ppo: tr, initial: tr.Policy().Clone()}
	if err := l.ResetModel(); err != nil {
		return nil, err
	}
	return l, nil
}

// Config is the Learner's configuration.
func (l *Learner) Config() Config { return l.cfg }

// Configure replaces the settings the rounds read (labels' query strategy, r̂'s objective and
// fit, clip length and sources), as the hub's projects change theirs while they run; PPO
// keeps the configuration it was made with. A new objective applies to the current reward at
// once. A new robust setting applies from the next ResetModel.
func (l *Learner) Configure(cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	if cfg.Env != l.cfg.Env {
		return fmt.Errorf("loop: a Learner of %s cannot learn %s", l.cfg.Env, cfg.Env)
	}
	changed := cfg.Objective != l.cfg.Objective || cfg.ObjectiveLambda != l.cfg.ObjectiveLambda
	l.cfg = cfg
	if b, ok := l.current.(*Bounded); ok && changed {
		return b.SetObjective(cfg.Objective, cfg.ObjectiveLambda)
	}
	return nil
}

// ResetModel starts r̂ afresh, untrained and with no data: the first round's model, or the
// hub's when a project's labels changed other than by growing or its fit changed.
func (l *Learner) ResetModel() error {
	m, err := reward.New(l.cfg.RewardConfig(l.spec, l.rewardSeed), reward.Shape{ObsDim: l.spec.ObsDim, ActDim: l.spec.Action.Dim(), ActN: l.spec.Action.N})
	if err != nil {
		return err
	}
	l.SetModel(m)
	l.Data = &reward.Dataset{}
	return nil
}

// SetModel makes m r̂, as it is: a checkpoint's. PPO optimises it, unclamped and unnormalised,
// until the next Normalize.
func (l *Learner) SetModel(m *reward.Model) {
	l.Model, l.current, l.fitted = m, m, false
	l.ppo.SetReward(m)
}

// Trainer is PPO's trainer: its policy, state and env steps.
func (l *Learner) Trainer() *ppo.Trainer { return l.ppo }

// Policy is the current policy (trained in place by Train).
func (l *Learner) Policy() *ppo.Policy { return l.ppo.Policy() }

// Initial is the policy before any training, which KL measures from: PPO's seed makes it, so
// a Learner made again with the same Config has the same one.
func (l *Learner) Initial() *ppo.Policy { return l.initial }

// ClipLen is the length of a clip in env steps.
func (l *Learner) ClipLen() int { return min(l.cfg.clipSteps(l.spec), l.spec.MaxEpisodeSteps) }

// Fitted reports whether r̂ has been fitted on labels since it was made or set.
func (l *Learner) Fitted() bool { return l.fitted }

// Fit refits r̂ from scratch on Data (§2.2.3). With no training comparison it leaves r̂ as it
// is and reports a NaN accuracy.
func (l *Learner) Fit() (reward.Stats, error) {
	if len(l.Data.Train) == 0 {
		return reward.Stats{ValAccuracy: math.NaN()}, nil
	}
	st, err := l.Model.Fit(l.Data)
	l.fitted = l.fitted || err == nil
	return st, err
}

// Update refits r̂ warm, from its current weights, for passes passes of reward.Model.Update
// (new labels in half of every minibatch), so that what was computed against the current
// weights (the hub's private updates) still applies. With no training comparison it leaves r̂
// as it is.
func (l *Learner) Update(passes int) (reward.Stats, error) {
	st := reward.Stats{ValAccuracy: math.NaN()}
	if len(l.Data.Train) == 0 {
		return st, nil
	}
	for range passes {
		var err error
		if st, err = l.Model.Update(l.Data); err != nil {
			return st, err
		}
		l.fitted = true
	}
	return st, nil
}

// Normalize sets r̂'s output normalisation (Config.Normalize: over the labelled clips, or
// over recent, transitions of the current policy) and makes r̂ what PPO optimises: clamped to
// the labelled range (Bounded), its members combined by the configured objective.
func (l *Learner) Normalize(recent []reward.Segment) error {
	r := l.cfg.LearnedReward(l.Model, l.Data, l.spec.ObsDim)
	if err := r.SetObjective(l.cfg.Objective, l.cfg.ObjectiveLambda); err != nil {
		return err
	}
	if err := l.cfg.Normalize(r, l.Data, recent); err != nil {
		return err
	}
	l.ppo.SetReward(r)
	l.current = r
	return nil
}

// Train keeps the current policy among the old ones if it has trained (version, its version,
// is positive) and runs PPO for steps env steps on the current reward.
func (l *Learner) Train(steps, version int, progress func(ppo.Stats)) error {
	if version > 0 && l.cfg.OldPolicies > 0 {
		l.Old = append(l.Old, OldPolicy{Version: version, Policy: l.ppo.Policy().Clone()})
		l.Old = l.Old[max(len(l.Old)-l.cfg.OldPolicies, 0):]
	}
	return l.ppo.Train(steps, progress)
}

// SetHorizon makes PPO go on (its policy, optimiser and schedule) on fixed-horizon episodes of
// horizon steps.
func (l *Learner) SetHorizon(horizon int) error {
	pc := l.ppo.Config()
	pc.FixedHorizon = horizon
	next, err := ppo.New(pc, l.cfg.Seed^0x686f72697a6f6e)
	if err != nil {
		return err
	}
	copy(next.Policy().Params(), l.ppo.Policy().Params())
	if l.ppo.Policy().ObsNorm != nil {
		next.Policy().ObsNorm = l.ppo.Policy().ObsNorm.Clone()
	}
	if err := next.SetState(l.ppo.State()); err != nil {
		return err
	}
	next.SetReward(l.current)
	l.ppo = next
	return nil
}

// TrueReturn is the policy's mean true return over episodes fresh episodes of the standard
// task from seed (ppo.Evaluate); for a behaviour, its checker's.
func (l *Learner) TrueReturn(episodes int, seed uint64) float64 {
	name := l.cfg.Env
	if scored, err := env.ScoredEnv(name); err == nil {
		name = scored
	}
	return ppo.Evaluate(l.ppo.Policy(), name, episodes, seed)
}

// LearnedReturn is the policy's mean return under r̂ (the members' mean, clamped as PPO sees
// it) over the same episodes (ppo.LearnedReturns); NaN if it cannot be measured.
func (l *Learner) LearnedReturn(episodes int, seed uint64) float64 {
	rets, err := ppo.LearnedReturns(l.ppo.Policy(), l.cfg.LearnedReward(l.Model, l.Data, l.spec.ObsDim), l.cfg.Env, episodes, seed)
	if err != nil {
		return math.NaN()
	}
	return mean(rets)
}

// pairedSE is the standard error of the mean of the paired differences a[i] - b[i].
func pairedSE(a, b []float64) float64 {
	n := len(a)
	if n < 2 {
		return 0
	}
	d := mean(a) - mean(b)
	ss := 0.0
	for i := range a {
		e := a[i] - b[i] - d
		ss += e * e
	}
	return math.Sqrt(ss / float64(n-1) / float64(n))
}

// mean is the mean of xs.
func mean(xs []float64) float64 {
	s := 0.0
	for _, x := range xs {
		s += x / float64(len(xs))
	}
	return s
}

// KL is the policy's KL from the initial policy on the states of its last rollout, in nats per
// step (ppo.PolicyKL): measured, not penalised. NaN before any rollout.
func (l *Learner) KL() float64 {
	r := l.ppo.Rollout()
	if r == nil {
		return math.NaN()
	}
	kl, err := ppo.PolicyKL(l.ppo.Policy(), l.initial, r.Obs)
	if err != nil {
		return math.NaN()
	}
	return kl
}

// Transitions rolls the current policy (a uniformly random one unless trained) for n steps in
// the fixed-horizon task, from a fresh reset every episode, as one segment: the recent
// transitions Normalize may scale r̂ over.
func (l *Learner) Transitions(rng *rand.Rand, n int, trained bool) reward.Segment {
	act := Actor(nil)
	if trained {
		act = PolicyActor(l.ppo.Policy())
	}
	H := max(l.spec.MaxEpisodeSteps, 1)
	var seg reward.Segment
	for seg.Len < n {
		c := Roll(l.fixed, act, 0, min(H, n-seg.Len), rng)
		seg.Obs = append(seg.Obs, c.Seg.Obs...)
		seg.Act = append(seg.Act, c.Seg.Act...)
		seg.Next = append(seg.Next, c.Seg.Next...)
		seg.Len += c.Seg.Len
	}
	return seg
}

// RandomClips returns n clips of a uniformly random policy, each from a reset: the first
// labels' clips (App. A), where a random policy's clips differ most.
func (l *Learner) RandomClips(rng *rand.Rand, n int) []Clip {
	return Clips(l.fixed, nil, n, l.ClipLen(), 0, rng)
}

// Candidates draws n candidate clips, each of the policy Config.PickSource picks (only a
// random one unless trained: version, the current policy's, is positive), starting where
// ClipStart says (§2.2.4, App. A). It fails if the env diverged.
func (l *Learner) Candidates(rng *rand.Rand, n, version int) ([]Clip, error) {
	L := l.ClipLen()
	pool := make([]Clip, n)
	for i := range pool {
		src, v := l.cfg.PickSource(rng, version > 0, len(l.Old)), 0
		var act Actor
		switch src {
		case FromOld:
			op := l.Old[rng.IntN(len(l.Old))]
			act, v = PolicyActor(op.Policy), op.Version
		case FromCurrent:
			act, v = PolicyActor(l.ppo.Policy()), version
		}
		pool[i] = Roll(l.fixed, act, ClipStart(rng, src, l.spec.MaxEpisodeSteps, L), L, rng)
		pool[i].Source, pool[i].PolicyVersion = src, v
		for _, x := range pool[i].Seg.Next {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return nil, fmt.Errorf("loop: %s diverged while making a clip", l.cfg.Env)
			}
		}
	}
	return pool, nil
}

// SelectPairs picks n pairs of pool to ask about by the configured query strategy (core/query),
// or at random while r̂ is unfitted: the disagreement of untrained members is noise. It
// returns the members' returns of pool's clips if the strategy read them (nil otherwise).
func (l *Learner) SelectPairs(rng *rand.Rand, pool []Clip, n int) ([]query.Pair, [][]float64, error) {
	if n <= 0 || len(pool) < 2 {
		return nil, nil, nil
	}
	qc := l.cfg.Query
	if !l.fitted {
		qc.Strategy = query.Random
	}
	in, err := QueryInputs(l.Model, pool, l.Data, qc.Strategy)
	if err != nil {
		return nil, nil, err
	}
	pairs, err := query.SelectFrom(rng, len(pool), n, qc, in)
	return pairs, in.Returns, err
}

// Kept is what TrainKept measured: the mean return under the reward PPO optimises of the
// policy before and after the round's PPO, on the same fixed-horizon episodes, the standard
// error of their paired differences, and whether the update was kept; if it was not, Back is
// the version of an old policy put back in its place (0: the policy before stays).
type Kept struct {
	Before, After, SE float64
	Kept              bool
	Back              int
}

// TrainKept is Train for a run that never ends, with a guard: it keeps the round's PPO update
// only if the policy's return under the reward PPO optimises (ppo.LearnedReturns, acting
// deterministically, over episodes episodes from seed, before and after) did not fall by more
// than one standard error of the paired differences (version, the current policy's, is 0 for
// an untrained policy, which is always replaced). Otherwise it puts back the policy, its
// observation normaliser, the optimiser's moments and the old policies, the env steps staying
// spent; and if r̂ now ranks an old policy above the policy before, that one comes back.
//
// The guard is for the hub, whose PPO trains at its floor step size for as long as a project
// lives, on a reward refitted every few labels or not at all while labels pause: there one
// update can lower the return under r̂ (PPO trains on shorter episodes than the task's, and
// on its stochastic policy), and the next refit, on clips of the worse policy, builds on it.
// It reads only r̂, never the true reward.
func (l *Learner) TrainKept(steps, version, episodes int, seed uint64, progress func(ppo.Stats)) (Kept, error) {
	if version == 0 {
		// An untrained policy has nothing to keep.
		return Kept{Kept: true}, l.Train(steps, version, progress)
	}
	pol := l.ppo.Policy()
	before, err := ppo.LearnedReturns(pol, l.current, l.cfg.Env, episodes, seed)
	if err != nil {
		return Kept{}, err
	}
	params := append([]float64(nil), pol.Params()...)
	var norm *ppo.RunningStat
	if pol.ObsNorm != nil {
		norm = pol.ObsNorm.Clone()
	}
	state, old := l.ppo.State(), slices.Clone(l.Old)
	if err := l.Train(steps, version, progress); err != nil {
		return Kept{}, err
	}
	after, err := ppo.LearnedReturns(pol, l.current, l.cfg.Env, episodes, seed)
	if err != nil {
		return Kept{}, err
	}
	k := Kept{Before: mean(before), After: mean(after), Kept: true, SE: pairedSE(after, before)}
	if k.After >= k.Before-k.SE {
		return k, nil
	}
	k.Kept = false
	copy(pol.Params(), params)
	pol.ObsNorm = norm
	// r̂ has changed since the old policies were current: one it now ranks above the policy
	// before (by more than the noise) takes its place, so that a refit that has learned what
	// a later policy got wrong can bring back an earlier one.
	for _, op := range old {
		rets, err := ppo.LearnedReturns(op.Policy, l.current, l.cfg.Env, episodes, seed)
		if err != nil {
			return Kept{}, err
		}
		if mean(rets) > mean(before)+pairedSE(rets, before) {
			before, k.Back = rets, op.Version
			copy(pol.Params(), op.Policy.Params())
			pol.ObsNorm = nil
			if op.Policy.ObsNorm != nil {
				pol.ObsNorm = op.Policy.ObsNorm.Clone()
			}
		}
	}
	now := l.ppo.State()
	state.EnvSteps, state.Episodes, state.Iteration, state.Recent = now.EnvSteps, now.Episodes, now.Iteration, now.Recent
	l.Old = old
	return k, l.ppo.SetState(state)
}
