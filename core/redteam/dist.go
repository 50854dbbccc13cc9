package redteam

import (
	"math"
	"math/rand/v2"

	"github.com/prefer-rlhf/prefer/core/env"
)

// dist is the cross-entropy method's sampling distribution over action sequences: per step, a
// categorical over a discrete space or an independent Gaussian per box dimension, clipped.
type dist struct {
	space    env.Space
	p        [][]float64 // discrete: per step, action probabilities
	mu, sd   [][]float64 // box: per step and dimension
	minStd   []float64
	steps, n int
}

func newDist(spec env.Spec, cfg Config) *dist {
	d := &dist{space: spec.Action, steps: cfg.Steps, n: spec.Action.N}
	for range cfg.Steps {
		if d.space.Discrete() {
			p := make([]float64, d.n)
			for a := range p {
				p[a] = 1 / float64(d.n)
			}
			d.p = append(d.p, p)
			continue
		}
		mu := make([]float64, len(d.space.Low))
		sd := make([]float64, len(d.space.Low))
		for k := range mu {
			mu[k] = (d.space.Low[k] + d.space.High[k]) / 2
			sd[k] = (d.space.High[k] - d.space.Low[k]) / 2
		}
		d.mu, d.sd = append(d.mu, mu), append(d.sd, sd)
	}
	for k := range d.space.Low {
		d.minStd = append(d.minStd, cfg.MinStd*(d.space.High[k]-d.space.Low[k]))
	}
	return d
}

// fit moves the distribution towards the elites' empirical one with weight cfg.Smooth.
func (d *dist) fit(elite []Scored, cfg Config) {
	m := float64(len(elite))
	for t := range d.steps {
		if d.space.Discrete() {
			q := make([]float64, d.n)
			for _, s := range elite {
				q[int(s.Clip.Actions[t][0])] += 1 / m
			}
			for a := range q {
				d.p[t][a] = (1-cfg.Smooth)*d.p[t][a] + cfg.Smooth*((1-cfg.Floor)*q[a]+cfg.Floor/float64(d.n))
			}
			continue
		}
		for k := range d.mu[t] {
			var mean, v float64
			for _, s := range elite {
				mean += s.Clip.Actions[t][k] / m
			}
			for _, s := range elite {
				x := s.Clip.Actions[t][k] - mean
				v += x * x / m
			}
			d.mu[t][k] = (1-cfg.Smooth)*d.mu[t][k] + cfg.Smooth*mean
			d.sd[t][k] = math.Max((1-cfg.Smooth)*d.sd[t][k]+cfg.Smooth*math.Sqrt(v), d.minStd[k])
		}
	}
}

// sample draws one action sequence.
func (d *dist) sample(rng *rand.Rand) [][]float64 {
	out := make([][]float64, d.steps)
	for t := range out {
		if d.space.Discrete() {
			u, a := rng.Float64(), 0
			for ; a < d.n-1; a++ {
				if u -= d.p[t][a]; u < 0 {
					break
				}
			}
			out[t] = []float64{float64(a)}
			continue
		}
		a := make([]float64, len(d.mu[t]))
		for k := range a {
			a[k] = math.Min(math.Max(d.mu[t][k]+d.sd[t][k]*rng.NormFloat64(), d.space.Low[k]), d.space.High[k])
		}
		out[t] = a
	}
	return out
}
