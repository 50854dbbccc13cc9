package ppo

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/prefer-rlhf/prefer/core/env"
	"github.com/prefer-rlhf/prefer/core/nn"
)

// Policy is an actor-critic: a categorical policy over N actions (the actor's outputs are
// logits) or a diagonal Gaussian over a box (the actor's outputs are means, with a
// state-independent log standard deviation, as CleanRL's ppo_continuous_action.py), and a
// critic that estimates the value of an observation. Both read the observation after the
// optional running normalisation, which is part of the policy.
//
// All trainable numbers live in one flat vector: Actor.Params, then Critic.Params, then LogStd
// are consecutive views of it, so one Adam and one gradient-norm clip cover them all.
type Policy struct {
	ObsDim  int
	Action  env.Space    // Discrete (N > 0) or a box; a Gaussian's samples are clipped to it
	Actor   *nn.MLP      // ObsDim -> N logits, or ObsDim -> Dim means
	Critic  *nn.MLP      // ObsDim -> 1 value
	LogStd  []float64    // Gaussian only: log σ per action coordinate; nil for a categorical
	ObsNorm *RunningStat // observation statistics; nil: raw observations
	ObsClip float64      // bound on normalised observations; 0: none

	params []float64 // Actor.Params | Critic.Params | LogStd
}

const log2Pi = 1.8378770664093453 // log(2π)

// newPolicy builds a policy with CleanRL's orthogonal initialisation: hidden layers with gain
// √2, the actor's output layer with gain 0.01 (near-uniform or near-zero-mean actions at
// first), the critic's output with gain 1.
func newPolicy(obsDim int, space env.Space, hidden []int, act nn.Activation, initLogStd float64, normObs bool, obsClip float64, rng *rand.Rand) *Policy {
	out := space.N
	if !space.Discrete() {
		out = space.Dim()
	}
	sizes := func(o int) []int {
		s := append([]int{obsDim}, hidden...)
		return append(s, o)
	}
	p := &Policy{ObsDim: obsDim, Action: space, ObsClip: obsClip}
	p.Actor = nn.New(sizes(out), act, nn.Identity)
	p.Critic = nn.New(sizes(1), act, nn.Identity)
	p.Actor.InitOrthogonal(rng, math.Sqrt2, 0.01)
	p.Critic.InitOrthogonal(rng, math.Sqrt2, 1)
	if !space.Discrete() {
		p.LogStd = make([]float64, out)
		for i := range p.LogStd {
			p.LogStd[i] = initLogStd
		}
	}
	if normObs {
		p.ObsNorm = NewRunningStat(obsDim)
	}
	p.flatten()
	return p
}

// flatten moves the trainable numbers into one vector and makes the networks view it.
func (p *Policy) flatten() {
	na, nc := len(p.Actor.Params), len(p.Critic.Params)
	all := make([]float64, na+nc+len(p.LogStd))
	copy(all, p.Actor.Params)
	copy(all[na:], p.Critic.Params)
	copy(all[na+nc:], p.LogStd)
	p.Actor.Params = all[:na:na]
	p.Critic.Params = all[na : na+nc : na+nc]
	if p.LogStd != nil {
		p.LogStd = all[na+nc:]
	}
	p.params = all
}

// Params returns the flat vector of trainable numbers (a view, not a copy).
func (p *Policy) Params() []float64 { return p.params }

// Clone returns a deep copy of p.
func (p *Policy) Clone() *Policy {
	c := *p
	c.Action = env.Space{N: p.Action.N, Low: append([]float64(nil), p.Action.Low...), High: append([]float64(nil), p.Action.High...)}
	c.Actor, c.Critic = p.Actor.Clone(), p.Critic.Clone()
	c.LogStd = append([]float64(nil), p.LogStd...) // nil stays nil
	if p.ObsNorm != nil {
		c.ObsNorm = p.ObsNorm.Clone()
	}
	c.flatten()
	return &c
}

// outDim is the width of the actor's output: N logits or Dim means.
func (p *Policy) outDim() int { return p.Actor.Out() }

// normalize writes the network input for n raw observations to out.
func (p *Policy) normalize(obs, out []float64, n int) {
	if p.ObsNorm == nil {
		copy(out, obs[:n*p.ObsDim])
		return
	}
	p.ObsNorm.Normalize(obs, out, n, p.ObsClip)
}

// Act returns the action for one raw observation, ready for env.Step: a sample from the
// policy, or its mode (the most likely action, the mean) when deterministic is true, in which
// case rng may be nil. A Gaussian's action is clipped to the box. Act allocates; it is safe
// for concurrent use as long as p is not being trained at the same time.
func (p *Policy) Act(obs []float64, rng *rand.Rand, deterministic bool) []float64 {
	if len(obs) != p.ObsDim {
		panic(fmt.Sprintf("ppo: Act got an observation of length %d, want %d", len(obs), p.ObsDim))
	}
	var tape nn.Tape
	x := make([]float64, p.ObsDim)
	p.normalize(obs, x, 1)
	out := p.Actor.Forward(&tape, x, 1)
	act := make([]float64, p.Action.Dim())
	raw := make([]float64, p.Action.Dim())
	p.sample(out, p.LogStd, rng, deterministic, raw, act)
	return act
}

// Value returns the critic's estimate for one raw observation.
func (p *Policy) Value(obs []float64) float64 {
	var tape nn.Tape
	x := make([]float64, p.ObsDim)
	p.normalize(obs, x, 1)
	return p.Critic.Forward(&tape, x, 1)[0]
}

// sample draws an action from the distribution given by the actor's output row out (and
// logStd for a Gaussian), writes the sample to raw and the action for the env to act (the
// index for a categorical; the sample clipped to the box for a Gaussian), and returns the
// log-probability of raw.
func (p *Policy) sample(out, logStd []float64, rng *rand.Rand, deterministic bool, raw, act []float64) float64 {
	if p.Action.Discrete() {
		a := 0
		if deterministic {
			for j, z := range out {
				if z > out[a] {
					a = j
				}
			}
		} else {
			a = sampleLogits(out, rng.Float64())
		}
		raw[0], act[0] = float64(a), float64(a)
		return categoricalLogProb(out, a)
	}
	for j, m := range out {
		a := m
		if !deterministic {
			a += math.Exp(logStd[j]) * rng.NormFloat64()
		}
		raw[j] = a
		act[j] = max(p.Action.Low[j], min(p.Action.High[j], a))
	}
	return gaussianLogProb(out, logStd, raw)
}

// sampleLogits returns the index j with P(j) = softmax(z)_j, by inverting the cumulative
// distribution at u ∈ [0, 1).
func sampleLogits(z []float64, u float64) int {
	lse := logSumExp(z)
	c := 0.0
	for j, v := range z {
		c += math.Exp(v - lse)
		if u < c {
			return j
		}
	}
	return len(z) - 1 // u beyond a cumulative sum that rounded below 1
}

func logSumExp(z []float64) float64 {
	m := math.Inf(-1)
	for _, v := range z {
		m = max(m, v)
	}
	s := 0.0
	for _, v := range z {
		s += math.Exp(v - m)
	}
	return m + math.Log(s)
}

// categoricalLogProb returns log softmax(z)_a.
func categoricalLogProb(z []float64, a int) float64 { return z[a] - logSumExp(z) }

// categoricalEntropy returns −Σ p_j log p_j for p = softmax(z).
func categoricalEntropy(z []float64) float64 {
	lse := logSumExp(z)
	h := 0.0
	for _, v := range z {
		lp := v - lse
		h -= math.Exp(lp) * lp
	}
	return h
}

// gaussianLogProb returns the log-density of a under the diagonal Gaussian N(mean, e^{2 logStd}):
// Σ_j −(a_j − μ_j)²/(2σ_j²) − log σ_j − ½ log 2π.
func gaussianLogProb(mean, logStd, a []float64) float64 {
	s := 0.0
	for j, m := range mean {
		z := (a[j] - m) * math.Exp(-logStd[j])
		s += -0.5*z*z - logStd[j] - 0.5*log2Pi
	}
	return s
}

// gaussianEntropy returns Σ_j ½ + ½ log 2π + log σ_j.
func gaussianEntropy(logStd []float64) float64 {
	h := 0.0
	for _, l := range logStd {
		h += 0.5 + 0.5*log2Pi + l
	}
	return h
}

// Fits returns a new instance of the env named envName, or an error if there is none or p's
// observation and action shapes do not match it.
func (p *Policy) Fits(envName string) (env.Env, error) {
	e, err := env.Lookup(envName)
	if err != nil {
		return nil, fmt.Errorf("ppo: %w", err)
	}
	sp := e.Spec()
	if sp.ObsDim != p.ObsDim || sp.Action.N != p.Action.N || sp.Action.Dim() != p.Action.Dim() {
		return nil, fmt.Errorf("ppo: policy (obs %d, action %d/%d) does not fit %s (obs %d, action %d/%d)",
			p.ObsDim, p.Action.N, p.Action.Dim(), envName, sp.ObsDim, sp.Action.N, sp.Action.Dim())
	}
	return e, nil
}
