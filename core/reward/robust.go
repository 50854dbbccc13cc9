package reward

import "math"

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
