// Package oracle holds synthetic raters: they answer a pair of segments from the true reward,
// as the synthetic labels of Christiano et al. 2017 (§3.1), with the imperfections of real
// raters made explicit: Boltzmann-rational noise with a temperature, an error rate and a tie
// threshold. Tests, benchmarks, `prefer experiment` and classroom demos use them.
package oracle

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/prefer-rlhf/prefer/core/prefs"
)

// Rater answers a pair from the true returns of its two segments. The zero Rater is perfect:
// it always prefers the segment with the larger return and says "equal" only on exact ties.
type Rater struct {
	// Temperature T of a Boltzmann-rational rater: P(left) = σ((R₁-R₂)/T), the Bradley-Terry
	// model of eq. 1 with returns scaled by 1/T. 0 always picks the larger return.
	Temperature float64
	// ErrorRate is the chance p of a uniformly random "left" or "right" whatever the clips
	// show: the random-response assumption of §2.2.3 (the paper uses 10%).
	ErrorRate float64
	// Tie is the threshold at or below which |R₁-R₂| is answered "equal" (μ = ½).
	Tie float64
}

// Validate reports a parameter out of range.
func (r Rater) Validate() error {
	switch {
	case !(r.Temperature >= 0) || math.IsInf(r.Temperature, 0):
		return fmt.Errorf("oracle: temperature must be finite and >= 0, got %v", r.Temperature)
	case !(r.ErrorRate >= 0 && r.ErrorRate <= 1):
		return fmt.Errorf("oracle: error rate must be in [0, 1], got %v", r.ErrorRate)
	case !(r.Tie >= 0):
		return fmt.Errorf("oracle: tie threshold must be >= 0, got %v", r.Tie)
	}
	return nil
}

// Choose answers a pair whose segments have true returns left and right. With probability
// ErrorRate it answers left or right at random; otherwise it says "equal" if the returns are
// within Tie, and else draws left with probability σ((left-right)/Temperature). It is
// deterministic given rng, and draws from rng only when it needs to.
func (r Rater) Choose(rng *rand.Rand, left, right float64) prefs.Choice {
	if r.ErrorRate > 0 && rng.Float64() < r.ErrorRate {
		if rng.IntN(2) == 0 {
			return prefs.Left
		}
		return prefs.Right
	}
	d := left - right
	if math.Abs(d) <= r.Tie {
		return prefs.Equal
	}
	if r.Temperature == 0 {
		if d > 0 {
			return prefs.Left
		}
		return prefs.Right
	}
	if rng.Float64() < sigmoid(d/r.Temperature) {
		return prefs.Left
	}
	return prefs.Right
}

// PLeft is the probability that Choose answers "left" for the given returns, and PEqual that
// it answers "equal": the rater's exact answer distribution.
func (r Rater) PLeft(left, right float64) float64 {
	d := left - right
	p := 0.0
	switch {
	case math.Abs(d) <= r.Tie:
	case r.Temperature == 0 && d > 0:
		p = 1
	case r.Temperature > 0:
		p = sigmoid(d / r.Temperature)
	}
	return r.ErrorRate/2 + (1-r.ErrorRate)*p
}

// PEqual is the probability that Choose answers "equal".
func (r Rater) PEqual(left, right float64) float64 {
	if math.Abs(left-right) <= r.Tie {
		return 1 - r.ErrorRate
	}
	return 0
}

// Return sums a segment's true per-step rewards.
func Return(rewards []float64) float64 {
	s := 0.0
	for _, v := range rewards {
		s += v
	}
	return s
}

func sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}
