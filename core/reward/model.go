// Package reward learns a reward function from preferences between pairs of segments, as
// Christiano et al. 2017, "Deep reinforcement learning from human preferences", §2.2.3 and
// App. A: an ensemble of networks r̂, each fitted on a bootstrap resample of the comparisons by
// the Bradley-Terry model on summed segment reward (eq. 1), with a held-out validation share
// that adapts the L2 coefficient, a random-response assumption, and per-member normalisation.
//
// segment.go holds the data (Segment, Comparison, Dataset), config.go the hyperparameters,
// model.go the ensemble and what it predicts, fit.go how it learns (Fit, Update), split.go
// how one member's share of a fit runs elsewhere (in another Web Worker),
// normalize.go how each member's output is scaled, codec.go how it is stored, prior.go the
// members' optional random priors (off the data they disagree), and t1.go the speed
// benchmark, task T1.
package reward

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"

	"github.com/prefer-rlhf/prefer/core/nn"
)

// Model is an ensemble reward model r̂. Its predictions (Rewards, Return, Prefer,
// MemberReturns) are safe for concurrent use; Fit, Update, Normalize and decoding are not, and
// must not run while predictions do.
type Model struct {
	cfg     Config
	shape   Shape
	width   int // feature row length
	members []*member
	rng     *rand.Rand // samples the transitions that set the normalisation
	scratch sync.Pool  // *scratch for predictions
}

// member is one network of the ensemble with its own optimiser, L2 coefficient, bootstrap
// resample and random stream, so members can be fitted concurrently and deterministically.
type member struct {
	net        *nn.MLP
	opt        *nn.Adam
	l2         float64
	mean, std  float64    // normalisation: r̂ᵢ = (raw(x) - mean) / std, std > 0; raw = net + β_p·prior
	rng        *rand.Rand // initialisation, bootstrap counts, minibatch order
	src        *rand.PCG  // rng's source, whose state MemberState carries
	counts     []int32    // bootstrap multiplicity of each Train comparison: Poisson(1) each
	fitted     int        // Train comparisons taken in by the last Fit or Update
	trainLoss  float64    // mean minibatch loss of the last epoch or Update
	valLoss    float64    // loss on the validation share at the last check; NaN without one
	valDelta   []float64  // Δ = R(left) - R(right) of each validation comparison at the last check
	eps        float64    // the learned random-response ε (RobustEpsilon; robust.go)
	prior      *nn.MLP    // the fixed random prior p_k, or nil (prior.go)
	priorScale float64    // β_p: the raw output is net(x) + β_p·prior(x)
	tape       nn.Tape
	ptape      nn.Tape   // the prior's forward pass
	x, dy      []float64 // batch scratch
	grad       []float64
}

type scratch struct {
	tape  nn.Tape
	ptape nn.Tape // the members' priors
	x     []float64
	acc   []float64
}

// New returns an untrained ensemble for transitions of the given shape. Its members start
// orthogonally initialised with zero output normalisation (mean 0, std 1).
func New(cfg Config, shape Shape) (*Model, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if err := shape.validate(); err != nil {
		return nil, err
	}
	if cfg.Features&Act != 0 && shape.ActDim == 0 {
		return nil, fmt.Errorf("reward: Features include Act but the shape has no action")
	}
	if cfg.ObsScale != nil && len(cfg.ObsScale) != shape.ObsDim {
		return nil, fmt.Errorf("reward: ObsScale has %d values for observations of %d", len(cfg.ObsScale), shape.ObsDim)
	}
	cfg.Hidden = append([]int(nil), cfg.Hidden...)
	cfg.ObsScale = append([]float64(nil), cfg.ObsScale...)
	if len(cfg.ObsScale) == 0 {
		cfg.ObsScale = nil
	}
	m := &Model{cfg: cfg, shape: shape, width: shape.width(cfg.Features), rng: rand.New(rand.NewPCG(cfg.Seed, 0x4e4f524d))}
	sizes := append(append([]int{m.width}, cfg.Hidden...), 1)
	for i := 0; i < cfg.Members; i++ {
		src := rand.NewPCG(cfg.Seed, 0x5eed0000+uint64(i))
		mb := &member{
			net:  nn.New(sizes, cfg.Activation, nn.Identity),
			l2:   cfg.L2,
			eps:  cfg.Epsilon,
			std:  1,
			rng:  rand.New(src),
			src:  src,
			opt:  nn.NewAdam(nn.NumParams(sizes), cfg.LR),
			mean: 0,
		}
		if cfg.Prior > 0 {
			mb.prior, mb.priorScale = newPrior(cfg, sizes, i), cfg.Prior
		}
		mb.init()
		m.members = append(m.members, mb)
	}
	return m, nil
}

// init draws fresh weights and resets the optimiser.
func (mb *member) init() {
	mb.net.InitOrthogonal(mb.rng, math.Sqrt2, 1)
	mb.opt = nn.NewAdam(len(mb.net.Params), mb.opt.LR)
}

// Config returns the model's configuration.
func (m *Model) Config() Config {
	c := m.cfg
	c.Hidden = append([]int(nil), c.Hidden...)
	if c.ObsScale != nil {
		c.ObsScale = append([]float64(nil), c.ObsScale...)
	}
	return c
}

// Shape returns the transition shape the model reads.
func (m *Model) Shape() Shape { return m.shape }

// Members returns the ensemble size.
func (m *Model) Members() int { return len(m.members) }

// Net returns member i's network (shared, not a copy), for merging and inspection.
func (m *Model) Net(i int) *nn.MLP { return m.members[i].net }

func (m *Model) getScratch() *scratch {
	if s, ok := m.scratch.Get().(*scratch); ok {
		return s
	}
	return &scratch{}
}

// Rewards writes the ensemble reward r̂ of n transitions to out: the mean over members of each
// member's normalised output (App. A). obs and next hold n rows of ObsDim and act n rows of
// ActDim, row-major; a part the model does not read may be nil. It panics on wrong lengths, as
// a caller bug. It is the reward interface core/ppo consumes.
func (m *Model) Rewards(obs, act, next []float64, n int, out []float64) {
	if err := m.shape.checkParts(m.cfg.Features, obs, act, next, n); err != nil {
		panic(err)
	}
	if len(out) < n {
		panic(fmt.Sprintf("reward: out has %d values, want %d", len(out), n))
	}
	s := m.getScratch()
	defer m.scratch.Put(s)
	s.x = grow(s.x, n*m.width)
	m.shape.features(m.cfg.Features, m.cfg.ObsScale, obs, act, next, n, s.x)
	out = out[:n]
	clear(out)
	inv := 1 / float64(len(m.members))
	for _, mb := range m.members {
		y := mb.forward(&s.tape, &s.ptape, s.x, n)
		a, b := inv/mb.std, -inv*mb.mean/mb.std
		for i, v := range y {
			out[i] += a*v + b
		}
	}
}

// Return is the ensemble's predicted return of a segment: Σₜ r̂(oₜ, aₜ) with normalised
// members.
func (m *Model) Return(s Segment) float64 {
	r := make([]float64, m.Members())
	m.MemberReturns(s, r)
	ret := 0.0
	for i, mb := range m.members {
		ret += (r[i] - float64(s.Len)*mb.mean) / mb.std
	}
	return ret / float64(len(m.members))
}

// MemberReturns writes each member's raw (unnormalised) return of s, Σₜ r̂ᵢ(σₜ), to out
// (len Members). Raw returns are what the Bradley-Terry model was fitted on: member i predicts
// P(σ¹ ≻ σ²) = σ(Rᵢ(σ¹) - Rᵢ(σ²)) (eq. 1), so core/query can score many candidate pairs from
// one forward pass per segment.
func (m *Model) MemberReturns(s Segment, out []float64) {
	if err := m.checkSegment(s); err != nil {
		panic(err)
	}
	sc := m.getScratch()
	defer m.scratch.Put(sc)
	sc.x = grow(sc.x, s.Len*m.width)
	m.shape.features(m.cfg.Features, m.cfg.ObsScale, s.Obs, s.Act, s.Next, s.Len, sc.x)
	for i, mb := range m.members {
		y := mb.forward(&sc.tape, &sc.ptape, sc.x, s.Len)
		sum := 0.0
		for _, v := range y {
			sum += v
		}
		out[i] = sum
	}
}

// Prefer returns the ensemble's probability that a is better than b, the mean over members of
// the Bradley-Terry probability σ(Rᵢ(a) - Rᵢ(b)) (eq. 1), and spread, the members' standard
// deviation of that probability: the disagreement that guides queries (§2.2.4). It is the
// model's belief about which segment is better, so it leaves out the random-response ε.
func (m *Model) Prefer(a, b Segment) (pLeft, spread float64) {
	ra := make([]float64, m.Members())
	rb := make([]float64, m.Members())
	m.MemberReturns(a, ra)
	m.MemberReturns(b, rb)
	return meanStd(ra, rb)
}

// meanStd returns the mean and population standard deviation over members of σ(ra - rb).
func meanStd(ra, rb []float64) (mean, std float64) {
	for i := range ra {
		mean += sigmoid(ra[i] - rb[i])
	}
	mean /= float64(len(ra))
	for i := range ra {
		d := sigmoid(ra[i]-rb[i]) - mean
		std += d * d
	}
	return mean, math.Sqrt(std / float64(len(ra)))
}

// checkSegment validates a segment against the model's shape and features.
func (m *Model) checkSegment(s Segment) error {
	if s.Len <= 0 {
		return fmt.Errorf("reward: segment length must be positive, got %d", s.Len)
	}
	return m.shape.checkParts(m.cfg.Features, s.Obs, s.Act, s.Next, s.Len)
}

func sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

func grow(b []float64, n int) []float64 {
	if cap(b) < n {
		return make([]float64, n, n+n/4)
	}
	return b[:n]
}
