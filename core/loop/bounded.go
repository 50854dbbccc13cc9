package loop

import (
	"math"

	"github.com/prefer-rlhf/prefer/core/reward"
)

// Bounded is the learned reward as PPO sees it: observations are clamped, coordinate by
// coordinate, to the range of the observations in the clips that the rater compared. The
// reward model was only ever told about states in that range; outside it, a network
// extrapolates freely, and PPO would find and exploit whatever it says there (in CartPole's
// fixed-horizon mode a fallen pole keeps swinging, far from any labelled state). Clamped, an
// unjudged state is worth what the nearest judged one is worth.
type Bounded struct {
	m      *reward.Model
	lo, hi []float64            // per observation coordinate
	obj    *reward.Conservative // the objective on the members (SetObjective); nil: their mean
}

// NewBounded takes the bounds from the segments of d. With no data it does not clamp.
func NewBounded(m *reward.Model, d *reward.Dataset, obsDim int) *Bounded {
	b := &Bounded{m: m, lo: make([]float64, obsDim), hi: make([]float64, obsDim)}
	for i := range b.lo {
		b.lo[i], b.hi[i] = math.Inf(1), math.Inf(-1)
	}
	see := func(rows []float64) {
		for r := 0; r+obsDim <= len(rows); r += obsDim {
			for i, v := range rows[r : r+obsDim] {
				b.lo[i] = math.Min(b.lo[i], v)
				b.hi[i] = math.Max(b.hi[i], v)
			}
		}
	}
	for _, cs := range [][]reward.Comparison{d.Train, d.Val} {
		for _, c := range cs {
			see(c.Left.Obs)
			see(c.Left.Next)
			see(c.Right.Obs)
			see(c.Right.Next)
		}
	}
	for i := range b.lo {
		if b.lo[i] > b.hi[i] {
			b.lo[i], b.hi[i] = math.Inf(-1), math.Inf(1)
		}
	}
	return b
}

func (b *Bounded) clamp(rows []float64) []float64 {
	if rows == nil {
		return nil
	}
	out := make([]float64, len(rows))
	d := len(b.lo)
	for i, v := range rows {
		out[i] = math.Min(math.Max(v, b.lo[i%d]), b.hi[i%d])
	}
	return out
}

// SetObjective makes Rewards combine the members by obj (reward/objective.go) with weight
// lambda for the uncertainty-weighted one; "" and reward.ObjectiveMean are the mean.
func (b *Bounded) SetObjective(obj reward.Objective, lambda float64) error {
	b.obj = nil
	if obj == "" || obj == reward.ObjectiveMean {
		return nil
	}
	c, err := b.m.WithObjective(obj, lambda)
	b.obj = c
	return err
}

// Rewards implements ppo.Reward.
func (b *Bounded) Rewards(obs, act, next []float64, n int, out []float64) {
	if b.obj != nil {
		b.obj.Rewards(b.clamp(obs), act, b.clamp(next), n, out)
		return
	}
	b.m.Rewards(b.clamp(obs), act, b.clamp(next), n, out)
}

// Normalize sets the model's output normalisation on clamped transitions.
func (b *Bounded) Normalize(obs, act, next []float64, n int) error {
	return b.m.Normalize(b.clamp(obs), act, b.clamp(next), n)
}
