package ppo

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/prefer-rlhf/prefer/core/env"
	"github.com/prefer-rlhf/prefer/core/nn"
)

// Trainer runs PPO on one environment. It keeps its state between calls to Train, so a caller
// (the RLHF loop) can alternate training chunks with reward-model fits, and it exposes the
// experience of its last rollout. A Trainer is not safe for concurrent use.
type Trainer struct {
	cfg       Config
	spec      env.Spec
	timeLimit int // steps after which an episode is truncated; 0: none

	pol    *Policy
	adam   *nn.Adam
	rng    *rand.Rand // minibatch shuffles
	slots  []envSlot
	reward Reward // nil: the env's reward
	ref    *Policy
	kl     KLController
	rnorm  *rewardNorm

	roll *Rollout
	// Per-transition buffers of the current rollout, rows as in Rollout.
	obsN, rawAct, logp, values, adv, ret []float64
	done                                 []bool
	lastObsN, lastValues                 []float64 // per env: after the last step

	// Per-worker tapes and per-shard gradient buffers (fixed shards, fixed reduction order).
	tapes  []workerTapes
	grads  [][]float64
	dOut   [][]float64
	dVal   [][]float64
	grad   []float64
	mb     mbBuffers
	recent []float64 // true returns of the last 20 finished episodes, oldest first

	envSteps, episodes, iteration int
	elapsed                       time.Duration
}

type workerTapes struct{ actor, critic nn.Tape }

// mbBuffers hold a gathered minibatch.
type mbBuffers struct {
	obs, act, logp, adv, ret, val []float64
}

// recentEpisodes is the window of "the last 20 finished training episodes" whose mean decides
// when a task counts as solved.
const recentEpisodes = 20

// Stats describes training after an update. Metrics gives CleanRL's names.
type Stats struct {
	Iteration    int     // updates so far
	EnvSteps     int     // env steps so far (all envs)
	Episodes     int     // training episodes finished so far
	Return       float64 // mean true return of the episodes finished in this rollout; NaN if none
	RecentReturn float64 // mean true return of the last 20 finished episodes; NaN if none yet
	RecentCount  int     // how many episodes RecentReturn averages (≤ 20)
	ValueLoss    float64 // mean over the update's minibatches
	PolicyLoss   float64
	Entropy      float64
	ApproxKL     float64 // mean of (r − 1) − log r
	ClipFrac     float64 // share of ratios outside [1−ε, 1+ε]
	ExplainedVar float64 // 1 − Var(R − V)/Var(R) of the rollout's values
	LearningRate float64
	KLCoef       float64 // β of the KL penalty (0 without a reference)
	RefKL        float64 // mean log π/ρ per step in the rollout (0 without a reference)
	SPS          float64 // env steps per second of time spent in Train
}

// Metrics returns s under CleanRL's TensorBoard names.
func (s Stats) Metrics() map[string]float64 {
	return map[string]float64{
		"charts/episodic_return":    s.Return,
		"charts/recent_return":      s.RecentReturn,
		"charts/learning_rate":      s.LearningRate,
		"charts/SPS":                s.SPS,
		"charts/env_steps":          float64(s.EnvSteps),
		"charts/episodes":           float64(s.Episodes),
		"losses/value_loss":         s.ValueLoss,
		"losses/policy_loss":        s.PolicyLoss,
		"losses/entropy":            s.Entropy,
		"losses/approx_kl":          s.ApproxKL,
		"losses/clipfrac":           s.ClipFrac,
		"losses/explained_variance": s.ExplainedVar,
		"losses/kl_coef":            s.KLCoef,
		"losses/reference_kl":       s.RefKL,
	}
}

// New returns a Trainer for cfg.Env with a fresh policy. The seed determines everything:
// the same seed and Config give bit-identical results.
func New(cfg Config, seed uint64) (*Trainer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.Hidden = append([]int(nil), cfg.Hidden...)
	tr := &Trainer{cfg: cfg, kl: KLController{Beta: cfg.KLCoef, Target: cfg.KLTarget, Rate: cfg.KLRate}}
	E := cfg.NumEnvs
	for e := 0; e < E; e++ {
		en, err := makeEnv(cfg.Env, cfg.FixedHorizon)
		if err != nil {
			return nil, err
		}
		tr.slots = append(tr.slots, envSlot{env: en, rng: rand.New(rand.NewPCG(seed, streamEnv+uint64(e)))})
	}
	tr.spec = tr.slots[0].env.Spec()
	tr.timeLimit = tr.spec.MaxEpisodeSteps // the horizon in fixed-horizon mode
	sp := tr.spec
	if !sp.Action.Discrete() && len(sp.Action.Low) == 0 {
		return nil, fmt.Errorf("ppo: env %s has an empty action space", sp.Name)
	}
	tr.pol = newPolicy(sp.ObsDim, sp.Action, cfg.Hidden, cfg.Activation, cfg.InitLogStd, cfg.NormObs, cfg.ObsClip,
		rand.New(rand.NewPCG(seed, streamInit)))
	tr.rng = rand.New(rand.NewPCG(seed, streamShuffle))
	tr.adam = nn.NewAdam(len(tr.pol.params), cfg.LearningRate)
	tr.adam.Eps = cfg.AdamEps
	if cfg.NormReward {
		tr.rnorm = newRewardNorm(E)
	}

	T, ad := cfg.NumSteps, sp.Action.Dim()
	n := T * E
	tr.roll = newRollout(T, E, sp.ObsDim, ad, sp.StateDim)
	tr.obsN = make([]float64, n*sp.ObsDim)
	tr.rawAct = make([]float64, n*ad)
	tr.logp, tr.values = make([]float64, n), make([]float64, n)
	tr.adv, tr.ret = make([]float64, n), make([]float64, n)
	tr.done = make([]bool, n)
	tr.lastObsN, tr.lastValues = make([]float64, E*sp.ObsDim), make([]float64, E)
	tr.tapes = make([]workerTapes, max(cfg.workers(), E))
	tr.grad = make([]float64, len(tr.pol.params))
	for e := range tr.slots {
		s := &tr.slots[e]
		s.obs = append([]float64(nil), s.env.Reset(s.rng)...)
		s.start = true
	}
	return tr, nil
}

// Random streams: each env, the initialisation and the shuffles draw from their own PCG
// stream of the seed.
const (
	streamInit    = 1
	streamShuffle = 2
	streamEnv     = 1 << 32
	streamEval    = 2 << 32 // Evaluate's episodes
)

// makeEnv returns a fresh env by name, wrapped for fixed-horizon episodes when horizon > 0.
func makeEnv(name string, horizon int) (env.Env, error) {
	e, err := env.Lookup(name)
	if err != nil {
		return nil, fmt.Errorf("ppo: %w", err)
	}
	if horizon > 0 {
		if e, err = env.FixedHorizon(e, horizon); err != nil {
			return nil, fmt.Errorf("ppo: %w", err)
		}
	}
	return e, nil
}

// Config returns the trainer's configuration.
func (tr *Trainer) Config() Config { return tr.cfg }

// Spec returns the environment's spec.
func (tr *Trainer) Spec() env.Spec { return tr.spec }

// SetReward makes PPO train on r instead of the env's reward; nil restores the true reward.
func (tr *Trainer) SetReward(r Reward) { tr.reward = r }

// SetReference sets the reference policy ρ of the KL penalty (Config.KLCoef) to a snapshot
// (a clone) of p; nil removes the penalty.
func (tr *Trainer) SetReference(p *Policy) {
	if p == nil {
		tr.ref = nil
		return
	}
	tr.ref = p.Clone()
}

// Policy returns the live policy being trained; Clone it for a snapshot.
func (tr *Trainer) Policy() *Policy { return tr.pol }

// Rollout returns the experience of the last rollout (nil before the first). It is
// overwritten by the next call to Train.
func (tr *Trainer) Rollout() *Rollout {
	if tr.iteration == 0 {
		return nil
	}
	return tr.roll
}

// EnvSteps returns the number of env steps taken so far.
func (tr *Trainer) EnvSteps() int { return tr.envSteps }

// Train runs PPO iterations (a rollout of NumEnvs×NumSteps transitions, then an update) until
// at least steps more env steps have been taken, continuing where the last call stopped.
// progress, if not nil, is called after every iteration.
func (tr *Trainer) Train(steps int, progress func(Stats)) error {
	if steps < 0 {
		return errors.New("ppo: Train needs a non-negative number of steps")
	}
	for goal := tr.envSteps + steps; tr.envSteps < goal; {
		start := time.Now()
		st, err := tr.iterate()
		tr.elapsed += time.Since(start)
		if err != nil {
			return err
		}
		st.SPS = float64(tr.envSteps) / tr.elapsed.Seconds()
		if progress != nil {
			progress(st)
		}
	}
	return nil
}

// learningRate is CleanRL's linear annealing: LearningRate·(1 − steps so far / TotalSteps).
func (tr *Trainer) learningRate() float64 {
	c := &tr.cfg
	if !c.AnnealLR || c.TotalSteps == 0 {
		return c.LearningRate
	}
	frac := 1 - float64(tr.envSteps)/float64(c.TotalSteps)
	return c.LearningRate * max(frac, c.MinLRFrac)
}

// iterate runs one rollout and one update.
func (tr *Trainer) iterate() (Stats, error) {
	c, r := &tr.cfg, tr.roll
	T, E := c.NumSteps, c.NumEnvs
	n := T * E
	lr := tr.learningRate()

	eps := tr.collect()
	tr.envSteps += n
	tr.iteration++

	// Values of every visited observation, and of the observation after the last step.
	for e := range tr.slots {
		tr.pol.normalize(tr.slots[e].obs, tr.lastObsN[e*r.ObsDim:(e+1)*r.ObsDim], 1)
	}
	tr.forwardValues(tr.obsN, n, tr.values)
	tr.forwardValues(tr.lastObsN, E, tr.lastValues)

	// Rewards: learned or true, scaled, KL-penalised, normalised, and bootstrapped at
	// truncations.
	if tr.reward != nil {
		tr.reward.Rewards(r.Obs, r.Actions, r.NextObs, n, r.Rewards)
		for i, v := range r.Rewards {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return Stats{}, fmt.Errorf("ppo: the reward is not finite (%v) at step %d of env %d", v, i/E, i%E)
			}
		}
	} else {
		copy(r.Rewards, r.TrueRewards)
	}
	if c.RewardScale != 1 {
		for i := range r.Rewards {
			r.Rewards[i] *= c.RewardScale
		}
	}
	refKL := 0.0
	if tr.ref != nil && tr.kl.Beta > 0 {
		refKL = tr.klPenalty()
	}
	for i := range tr.done {
		tr.done[i] = r.Done(i)
	}
	if tr.rnorm != nil {
		tr.rnorm.apply(r.Rewards, tr.done, T, E, c.Gamma, c.RewardClip)
	}
	if c.BootstrapTruncation {
		tr.bootstrapTruncations()
	}
	GAE(r.Rewards, tr.values, tr.done, tr.lastValues, T, E, c.Gamma, c.GAELambda, tr.adv, tr.ret)

	st := tr.update(lr)
	if tr.pol.ObsNorm != nil {
		tr.pol.ObsNorm.Update(r.Obs, n)
	}

	// Episode statistics.
	st.Iteration, st.EnvSteps, st.LearningRate = tr.iteration, tr.envSteps, lr
	st.Return = math.NaN()
	if len(eps) > 0 {
		s := 0.0
		for _, ep := range eps {
			s += ep.ret
			tr.recent = append(tr.recent, ep.ret)
		}
		st.Return = s / float64(len(eps))
		tr.episodes += len(eps)
		if k := len(tr.recent) - recentEpisodes; k > 0 {
			tr.recent = append(tr.recent[:0], tr.recent[k:]...)
		}
	}
	st.Episodes = tr.episodes
	st.RecentReturn, st.RecentCount = tr.RecentReturn()
	st.KLCoef, st.RefKL = tr.kl.Beta, refKL
	st.ExplainedVar = explainedVariance(tr.values, tr.ret)
	if tr.ref != nil && tr.kl.Beta > 0 {
		tr.kl.Update(refKL)
	}
	return st, nil
}

// RecentReturn returns the mean true return of the last 20 finished training episodes and how
// many there were (NaN, 0 before the first).
func (tr *Trainer) RecentReturn() (float64, int) {
	if len(tr.recent) == 0 {
		return math.NaN(), 0
	}
	s := 0.0
	for _, v := range tr.recent {
		s += v
	}
	return s / float64(len(tr.recent)), len(tr.recent)
}

// forwardValues writes the critic's values of n normalised observations x to out, in parallel
// row shards (each row's value does not depend on the others).
func (tr *Trainer) forwardValues(x []float64, n int, out []float64) {
	od := tr.pol.ObsDim
	parallelRows(n, tr.cfg.workers(), 64, func(w, lo, hi int) {
		copy(out[lo:hi], tr.pol.Critic.Forward(&tr.tapes[w].critic, x[lo*od:hi*od], hi-lo))
	})
}

// bootstrapTruncations adds γ·V(final observation) to the reward of every step that ended an
// episode by truncation, so that cutting an episode short does not look like termination
// (Pardo et al. 2018).
func (tr *Trainer) bootstrapTruncations() {
	r := tr.roll
	od := r.ObsDim
	var rows []int
	for i, tt := range r.Truncated {
		if tt {
			rows = append(rows, i)
		}
	}
	if len(rows) == 0 {
		return
	}
	x := make([]float64, len(rows)*od)
	for j, i := range rows {
		tr.pol.normalize(r.NextObs[i*od:(i+1)*od], x[j*od:(j+1)*od], 1)
	}
	v := make([]float64, len(rows))
	tr.forwardValues(x, len(rows), v)
	for j, i := range rows {
		r.Rewards[i] += tr.cfg.Gamma * v[j]
	}
}

// klPenalty subtracts β·(log π(a|s) − log ρ(a|s)) from each reward (Ziegler et al. 2019,
// eq. 1) and returns the mean of log π − log ρ, an estimate of KL(π‖ρ) per step.
func (tr *Trainer) klPenalty() float64 {
	r, ref := tr.roll, tr.ref
	n, od, ad := r.T*r.E, r.ObsDim, r.ActDim
	refLogp := make([]float64, n)
	parallelRows(n, tr.cfg.workers(), 64, func(w, lo, hi int) {
		x := make([]float64, (hi-lo)*od)
		ref.normalize(r.Obs[lo*od:hi*od], x, hi-lo)
		var tape nn.Tape
		out := ref.Actor.Forward(&tape, x, hi-lo)
		k := ref.outDim()
		for i := lo; i < hi; i++ {
			o := out[(i-lo)*k : (i-lo+1)*k]
			if ref.Action.Discrete() {
				refLogp[i] = categoricalLogProb(o, int(tr.rawAct[i]))
			} else {
				refLogp[i] = gaussianLogProb(o, ref.LogStd, tr.rawAct[i*ad:(i+1)*ad])
			}
		}
	})
	s := 0.0
	for i := range refLogp {
		d := tr.logp[i] - refLogp[i]
		s += d
		r.Rewards[i] -= tr.kl.Beta * d
	}
	return s / float64(n)
}

// parallelRows splits rows [0, n) into contiguous shards of at least minRows and runs fn on
// them with up to workers goroutines; w identifies the goroutine (0 ≤ w < workers).
func parallelRows(n, workers, minRows int, fn func(w, lo, hi int)) {
	w := max(1, min(workers, n/minRows))
	if w == 1 {
		fn(0, 0, n)
		return
	}
	var wg sync.WaitGroup
	for k := 1; k < w; k++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(k, k*n/w, (k+1)*n/w)
		}()
	}
	fn(0, 0, n/w)
	wg.Wait()
}

// explainedVariance is 1 − Var(y − ŷ)/Var(y) (CleanRL's losses/explained_variance).
func explainedVariance(pred, y []float64) float64 {
	n := float64(len(y))
	var my, md float64
	for i := range y {
		my += y[i]
		md += y[i] - pred[i]
	}
	my /= n
	md /= n
	var vy, vd float64
	for i := range y {
		a, b := y[i]-my, y[i]-pred[i]-md
		vy += a * a
		vd += b * b
	}
	if vy == 0 {
		return math.NaN()
	}
	return 1 - vd/vy
}
