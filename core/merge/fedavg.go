// Package merge aggregates model updates from private-mode raters, whose labels never leave
// their device, into the global reward model: federated averaging (McMahan et al. 2017,
// "Communication-Efficient Learning of Deep Networks from Decentralized Data", Algorithm 1)
// weighted by label count, with per-update norm clipping and an optional coordinate-wise
// trimmed mean (Yin et al. 2018, "Byzantine-Robust Distributed Learning", §3) so that one
// poisoned update cannot move the global model far.
//
// An update is a weight delta: the rater's locally refitted parameters minus the global
// parameters it started from. Every function here works on flat parameter vectors, as core/nn
// lays a network out.
package merge

import (
	"errors"
	"fmt"
	"math"
	"slices"
)

// Update is one rater's contribution.
type Update struct {
	Delta  []float64 // local parameters minus base parameters; every update has the same length
	Labels int       // labels the rater fitted on (> 0): the FedAvg weight n_k
}

// Config says how updates are combined. The zero value is plain FedAvg.
type Config struct {
	// ClipNorm caps each update's L2 norm before averaging (0: no clipping). Clipping bounds
	// how far any single rater can pull the model, whatever it sends (McMahan et al. 2018,
	// "Learning Differentially Private Recurrent Language Models", Algorithm 1).
	ClipNorm float64
	// Trim is the fraction of updates dropped at each end of every coordinate before averaging,
	// in [0, 0.5): the coordinate-wise trimmed mean of Yin et al. 2018 (β in their notation).
	// With n updates, ceil(Trim·n) values are dropped at each end (at least one when Trim > 0,
	// as long as one value remains), and the rest are averaged weighted by label count. If the
	// number of poisoned updates is at most the number trimmed, every coordinate of the result
	// lies between the smallest and largest honest value of that coordinate.
	Trim float64
}

// DefaultConfig returns the hub's defaults: clip each delta at norm 10 and trim 20% at each end
// once there are enough updates for trimming to leave a majority.
func DefaultConfig() Config { return Config{ClipNorm: 10, Trim: 0.2} }

// Errors returned for bad input.
var (
	ErrNoUpdates = errors.New("merge: no updates")
	ErrLength    = errors.New("merge: updates have different lengths")
)

// Validate checks a config.
func (c Config) Validate() error {
	switch {
	case c.ClipNorm < 0 || math.IsNaN(c.ClipNorm) || math.IsInf(c.ClipNorm, 0):
		return fmt.Errorf("merge: ClipNorm %v must be finite and >= 0", c.ClipNorm)
	case !(c.Trim >= 0 && c.Trim < 0.5):
		return fmt.Errorf("merge: Trim %v must be in [0, 0.5)", c.Trim)
	}
	return nil
}

// Check validates one update against the expected parameter count: the length matches, the
// label count is positive, and every value is finite.
func Check(u Update, n int) error {
	if len(u.Delta) != n {
		return fmt.Errorf("merge: delta has %d values, want %d", len(u.Delta), n)
	}
	if u.Labels <= 0 {
		return fmt.Errorf("merge: label count %d must be positive", u.Labels)
	}
	for i, v := range u.Delta {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("merge: delta[%d] is not finite", i)
		}
	}
	return nil
}

// FedAvg returns the aggregate delta Σ_k (n_k/n) Δ_k of McMahan et al. 2017 (Algorithm 1, the
// server's weighted average), after clipping each Δ_k to cfg.ClipNorm and, when cfg.Trim > 0,
// dropping the extreme values of every coordinate first. Inputs are not modified.
func FedAvg(updates []Update, cfg Config) ([]float64, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if len(updates) == 0 {
		return nil, ErrNoUpdates
	}
	n := len(updates[0].Delta)
	for _, u := range updates {
		if len(u.Delta) != n {
			return nil, ErrLength
		}
		if err := Check(u, n); err != nil {
			return nil, err
		}
	}
	// scale[k] is the clipping factor of update k: min(1, C/‖Δ_k‖).
	scale := make([]float64, len(updates))
	for k, u := range updates {
		scale[k] = 1
		if cfg.ClipNorm > 0 {
			if norm := Norm(u.Delta); norm > cfg.ClipNorm {
				scale[k] = cfg.ClipNorm / norm
			}
		}
	}
	out := make([]float64, n)
	trim := trimCount(len(updates), cfg.Trim)
	if trim == 0 {
		total := 0.0
		for _, u := range updates {
			total += float64(u.Labels)
		}
		for k, u := range updates {
			w := float64(u.Labels) / total * scale[k]
			for i, v := range u.Delta {
				out[i] += w * v
			}
		}
		return out, nil
	}
	// Trimmed mean: per coordinate, sort the clipped values, drop trim at each end and average
	// the rest weighted by label count.
	type wv struct{ v, w float64 }
	col := make([]wv, len(updates))
	for i := range out {
		for k, u := range updates {
			col[k] = wv{u.Delta[i] * scale[k], float64(u.Labels)}
		}
		slices.SortFunc(col, func(a, b wv) int {
			switch {
			case a.v < b.v:
				return -1
			case a.v > b.v:
				return 1
			}
			return 0
		})
		s, tw := 0.0, 0.0
		for _, c := range col[trim : len(col)-trim] {
			s += c.w * c.v
			tw += c.w
		}
		out[i] = s / tw
	}
	return out, nil
}

// trimCount is how many values to drop at each end of n: ceil(trim·n), at least 1 when trim > 0,
// and never so many that nothing remains.
func trimCount(n int, trim float64) int {
	if trim <= 0 {
		return 0
	}
	k := int(math.Ceil(trim * float64(n)))
	if k < 1 {
		k = 1
	}
	for n-2*k < 1 && k > 0 {
		k--
	}
	return k
}

// Norm returns the L2 norm of v.
func Norm(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x * x
	}
	return math.Sqrt(s)
}

// Apply adds delta to params in place: the global model after a round (McMahan et al. 2017,
// Algorithm 1: w_{t+1} = w_t + Σ_k (n_k/n) Δ_k, written with deltas).
func Apply(params, delta []float64) error {
	if len(params) != len(delta) {
		return fmt.Errorf("merge: delta has %d values, params %d", len(delta), len(params))
	}
	for i, d := range delta {
		params[i] += d
	}
	return nil
}
