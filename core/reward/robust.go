package reward

import (
	"fmt"
	"math"
)

// R3M, a fit robust to wrong labels (Bukharin et al. 2024, "Robust Reinforcement Learning from
// Corrupted Human Feedback", §3): each training comparison i gets a perturbation δᵢ added to
// its logit, and the model minimises
//
//	Σᵢ L(Δᵢ + δᵢ; μᵢ) + λ Σᵢ |δᵢ|
//
// with L the Bradley-Terry cross-entropy (eq. 1, without the random-response ε: the δᵢ model
// the wrong answers instead) alternately in θ and δ. The L1 penalty keeps δ sparse: only the
// comparisons the model cannot explain, the likely wrong labels, get one, and it takes their
// pull off the network.
//
// Here the δ step is exact and taken for each minibatch before its θ step: given Δ, the
// minimiser of L(Δ + δ; μ) + λ|δ| is 0 when |σ(Δ) - μ| <= λ and otherwise the δ that makes
// σ(Δ + δ) = μ ∓ λ (r3mDelta). The θ step then sees dL/dΔ = σ(Δ + δ) - μ, whose magnitude is
// min(|σ(Δ) - μ|, λ): a comparison the model contradicts pulls on θ with at most λ.
//
// So R3M here is the logistic loss with each comparison's gradient capped at λ, and λ is per
// comparison (it does not scale with the label count). It does not redescend: a wrong label
// the model is sure of pulls with λ for as long as it stays wrong, as hard as a right one the
// model has not yet fitted, while the plain fit's ε makes that pull fade. With λ = 0.01 on
// CartPole pairs with 10% of the labels flipped it perturbed 30% of the training labels, 28% of
// them wrong ones, and in the loop it did worse than the plain fit with two query strategies of
// three (docs/experiments.md, "Robust fits on Mistake's labels"); RobustEpsilon did better.

// r3mDelta returns the minimiser over δ of L(Δ + δ; μ) + λ|δ| for the logistic loss L.
func r3mDelta(delta, mu, lambda float64) float64 {
	g := sigmoid(delta) - mu
	switch {
	case g < -lambda: // the model under-predicts the label: push the logit up to σ = μ - λ
		return logit(mu-lambda) - delta
	case g > lambda:
		return logit(mu+lambda) - delta
	}
	return 0
}

// robustGrad is dL/dΔ of comparison with logit Δ and target μ under R3M with penalty λ.
func robustGrad(delta, mu, lambda float64) float64 {
	_, g := btLoss(delta+r3mDelta(delta, mu, lambda), mu, 0)
	return g
}

func logit(p float64) float64 { return math.Log(p / (1 - p)) }

// RobustMode names a robust fit (Config.RobustMode).
type RobustMode string

const (
	// RobustR3M is R3M's sparse per-label perturbations above; the zero RobustMode means it
	// too, as in model files written before the modes.
	RobustR3M RobustMode = "r3m"
	// RobustEpsilon learns the random-response ε of eq. 1 instead of fixing it.
	RobustEpsilon RobustMode = "epsilon"
)

// DefaultRobust is the robust fit that turning the robust setting on gives (`--robust`, the
// hub's project setting): the learned ε, which did better than R3M with Mistake's labels on
// CartPole with every query strategy and on Pendulum (README, "Sweeps over B-Pref's teachers").
const DefaultRobust = RobustEpsilon

// ParseRobustMode returns the robust fit named s ("" is R3M).
func ParseRobustMode(s string) (RobustMode, error) {
	switch m := RobustMode(s); m {
	case "", RobustR3M:
		return RobustR3M, nil
	case RobustEpsilon:
		return m, nil
	}
	return "", fmt.Errorf("reward: unknown robust fit %q (want r3m or epsilon)", s)
}

// RobustFit is the robust fit c asks for: "" when Robust is off, and RobustR3M for the zero
// RobustMode.
func (c Config) RobustFit() RobustMode {
	switch {
	case !c.Robust:
		return ""
	case c.RobustMode == "":
		return RobustR3M
	}
	return c.RobustMode
}

// The learned error rate (RobustEpsilon). Eq. 1 already predicts P = (1-ε)·σ(Δ) + ε/2, the
// likelihood of a rater who answers at random with chance ε (Christiano et al. 2017, §2.2.3,
// fix ε = 0.1). Its loss is redescending: as the model grows sure a label is wrong, P of that
// label tends to ε/2 and its pull on θ to 0, so a wrong label the other labels contradict
// stops counting, which R3M's capped pull (λ each, however sure) does not do. With ε fixed
// that holds only as far as ε matches the rater: B-Pref's Mistake flips 10% of its answers,
// ε = 0.2 in this model, and a rater without mistakes has ε = 0. RobustEpsilon learns ε per
// member, alternating as R3M does: θ steps with ε fixed, then at each validation check (every
// ValEvery epochs, the end of a Fit and each Update) ε is set to its maximum-likelihood value on
// the validation comparisons. Not on the training ones: a member memorises its 100-odd
// training labels, wrong ones included, and ε fitted on them went to its floor with 10% of the
// labels flipped. On held-out labels ε also takes in the model's own errors, which is what the
// likelihood should discount. ε starts at Config.Epsilon on each Fit and is not saved with the
// model (a loaded model starts from Config.Epsilon again).

// epsMin and epsMax bound the learned ε. Above ½ (a quarter of the labels wrong) the model
// would be told that most of what it cannot explain is noise and could stop learning from its
// own mistakes; the floor keeps log P finite.
const epsMin, epsMax = 1e-3, 0.5

// learnsEpsilon reports whether the members learn ε (RobustEpsilon).
func (m *Model) learnsEpsilon() bool { return m.cfg.RobustFit() == RobustEpsilon }

// epsilon is the member's ε in eq. 1: Config.Epsilon unless it is learned.
func (mb *member) epsilon(m *Model) float64 {
	if m.learnsEpsilon() {
		return mb.eps
	}
	return m.cfg.Epsilon
}

// fitEpsilon returns the ε in [epsMin, epsMax] that maximises Σ μ log P + (1-μ) log(1-P) with
// P = (1-ε)·σ(Δ) + ε/2 over the comparisons cs, whose logits are deltas. Each term is the log of
// a function affine in ε, so the sum is concave and its derivative
// Σ (μ/P - (1-μ)/(1-P))·(½ - σ(Δ)) falls with ε: bisection finds its zero.
func fitEpsilon(deltas []float64, cs []Comparison) float64 {
	slope := func(eps float64) float64 {
		g := 0.0
		for i, c := range cs {
			s, t := sigmoid(deltas[i]), sigmoid(-deltas[i])
			pl := (1-eps)*s + eps/2
			pr := (1-eps)*t + eps/2
			g += (c.Mu/pl - (1-c.Mu)/pr) * (0.5 - s)
		}
		return g
	}
	lo, hi := epsMin, epsMax
	switch {
	case slope(lo) <= 0:
		return lo
	case slope(hi) >= 0:
		return hi
	}
	for range 40 {
		mid := (lo + hi) / 2
		if slope(mid) > 0 {
			lo = mid
		} else {
			hi = mid
		}
	}
	return (lo + hi) / 2
}
