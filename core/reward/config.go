package reward

import (
	"fmt"
	"math"

	"github.com/prefer-rlhf/prefer/core/nn"
)

// Config holds the reward model's hyperparameters. Start from Defaults.
type Config struct {
	// Members is the ensemble size. The paper fits an ensemble of 3 predictors (App. A).
	Members int
	// Hidden are the hidden layer widths: two layers of 64 for low-dimensional observations
	// (App. A.1, MuJoCo).
	Hidden []int
	// Activation is the hidden nonlinearity: leaky ReLU with slope 0.01 as in App. A.1. The
	// output is linear: a reward is unbounded.
	Activation nn.Activation
	// Features is what r̂ reads: Obs|Act, r̂(o, a) as in §2.1.
	Features Features
	// Epsilon is the chance that a rater answers uniformly at random; the model predicts
	// P = (1-ε)·P_BT + ε/2. The paper assumes 10% (§2.2.3).
	Epsilon float64
	// LR is Adam's step size.
	LR float64
	// Batch is the number of comparisons per minibatch.
	Batch int
	// Epochs is the number of passes over each member's bootstrap resample in Fit.
	Epochs int
	// MinSteps is the least number of minibatch steps per member in Fit: with few comparisons
	// an epoch is one or two steps, too few to fit, so Fit adds epochs until it has taken
	// MinSteps. 0: exactly Epochs epochs.
	MinSteps int
	// UpdateSteps is the number of minibatch steps of an incremental Update: enough to take in
	// a new label, cheap enough to run after every label in a browser.
	UpdateSteps int
	// ValEvery is the number of Fit epochs between validation checks that adapt L2; a check
	// also ends every Fit and Update. 0 checks only at the end.
	ValEvery int
	// L2 is the starting L2 coefficient on the weights (biases are not penalised). It is
	// adapted so that the validation loss stays within [RatioLow, RatioHigh] times the
	// training loss (App. A).
	L2 float64
	// RatioLow and RatioHigh bound validation loss / training loss: 1.1 and 1.5 (App. A).
	RatioLow, RatioHigh float64
	// L2Factor is the multiplicative step of one adaptation: above RatioHigh the model
	// overfits and L2 is multiplied by it; below RatioLow L2 is divided by it.
	L2Factor float64
	// L2Min and L2Max bound the adapted coefficient.
	L2Min, L2Max float64
	// MaxGradNorm clips each step's gradient to this L2 norm; 0 disables clipping.
	MaxGradNorm float64
	// NormSample is the number of transitions sampled from the data to estimate each member's
	// output mean and standard deviation after a fit (§2.2.3: r̂ is normalised).
	NormSample int
	// Seed fixes initialisation, bootstrap resamples and minibatch order. Fitting is
	// deterministic for a given seed and sequence of calls, in parallel or not.
	Seed uint64
	// ObsScale, if not nil, multiplies each component of an observation (in o_t and o_{t+1})
	// before the networks read it; it has one positive value per observation component.
	// Observations whose components differ in scale by orders of magnitude (MountainCar's
	// position spans 1.8, its velocity 0.14) otherwise leave the small ones all but unseen
	// by an orthogonally initialised network.
	ObsScale []float64
	// Parallel fits members in concurrent goroutines (natively; wasm runs them in turn).
	Parallel bool
	// Robust fits with a loss meant to withstand wrong labels, of kind RobustMode
	// (robust.go): off by default until measured to help in the loop.
	Robust bool
	// RobustMode is the robust fit: RobustR3M (also the zero value, as in files written
	// before the modes) or RobustEpsilon.
	RobustMode RobustMode
	// RobustLambda is R3M's L1 penalty λ on the perturbations, in (0, ½): a comparison pulls
	// on the network with a gradient of at most λ in its logit.
	RobustLambda float64
	// Prior is β_p, the scale of each member's fixed random prior network (prior.go; Osband
	// et al. 2018, eq. 4), which makes the members disagree away from the labelled data. 0,
	// the default: no prior.
	Prior float64
}

// Defaults returns the paper's reward-model settings where it gives them, and ours otherwise.
func Defaults() Config {
	return Config{
		Members:     3,
		Hidden:      []int{64, 64},
		Activation:  nn.LeakyReLU,
		Features:    Obs | Act,
		Epsilon:     0.1,
		LR:          1e-3,
		Batch:       64,
		Epochs:      10,
		UpdateSteps: 8,
		ValEvery:    5,
		L2:          1e-4,
		RatioLow:    1.1,
		RatioHigh:   1.5,
		L2Factor:    1.5,
		L2Min:       1e-8,
		L2Max:       10,
		MaxGradNorm: 10,
		NormSample:  1024,
		Seed:        1,
		Parallel:    true,
		// R3M's λ: with a quarter of the labels wrong, 0.01 ranked held-out pairs better than
		// 0.03 and 0.1 (robust_test.go). Adam rescales steps, so a small λ leaves each label
		// a vote of its sign rather than a pull that grows with how wrong the model finds it.
		RobustLambda: 0.01,
	}
}

func (c *Config) validate() error {
	switch {
	case c.Members < 1:
		return fmt.Errorf("reward: Members must be at least 1, got %d", c.Members)
	case c.Features&(Obs|Act|Next) == 0 || c.Features&^(Obs|Act|Next) != 0:
		return fmt.Errorf("reward: Features must combine Obs, Act and Next, got %d", c.Features)
	case c.Epsilon < 0 || c.Epsilon >= 1:
		return fmt.Errorf("reward: Epsilon must be in [0, 1), got %v", c.Epsilon)
	case c.LR <= 0:
		return fmt.Errorf("reward: LR must be positive, got %v", c.LR)
	case c.Batch < 1:
		return fmt.Errorf("reward: Batch must be at least 1, got %d", c.Batch)
	case c.Epochs < 0 || c.MinSteps < 0 || c.UpdateSteps < 0 || c.ValEvery < 0:
		return fmt.Errorf("reward: Epochs, MinSteps, UpdateSteps and ValEvery must not be negative")
	case c.L2 < 0 || c.L2Min < 0 || c.L2Max < c.L2Min:
		return fmt.Errorf("reward: L2 bounds must satisfy 0 <= L2Min <= L2Max and L2 >= 0")
	case c.RatioLow <= 0 || c.RatioHigh < c.RatioLow:
		return fmt.Errorf("reward: need 0 < RatioLow <= RatioHigh, got %v and %v", c.RatioLow, c.RatioHigh)
	case c.L2Factor < 1:
		return fmt.Errorf("reward: L2Factor must be at least 1, got %v", c.L2Factor)
	case c.MaxGradNorm < 0:
		return fmt.Errorf("reward: MaxGradNorm must not be negative")
	case c.RobustMode != "" && c.RobustMode != RobustR3M && c.RobustMode != RobustEpsilon:
		return fmt.Errorf("reward: RobustMode must be %q or %q, got %q", RobustR3M, RobustEpsilon, c.RobustMode)
	case c.RobustFit() == RobustR3M && !(c.RobustLambda > 0 && c.RobustLambda < 0.5):
		return fmt.Errorf("reward: RobustLambda must be in (0, 0.5), got %v", c.RobustLambda)
	case !(c.Prior >= 0) || math.IsInf(c.Prior, 0):
		return fmt.Errorf("reward: Prior must be finite and >= 0, got %v", c.Prior)
	case c.NormSample < 2:
		return fmt.Errorf("reward: NormSample must be at least 2, got %d", c.NormSample)
	}
	for _, v := range c.ObsScale {
		if !(v > 0) || math.IsInf(v, 0) {
			return fmt.Errorf("reward: ObsScale values must be positive and finite, got %v", c.ObsScale)
		}
	}
	for _, h := range c.Hidden {
		if h < 1 {
			return fmt.Errorf("reward: hidden widths must be positive, got %v", c.Hidden)
		}
	}
	return nil
}
