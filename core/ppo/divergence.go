package ppo

import (
	"errors"
	"fmt"
	"math"

	"github.com/prefer-rlhf/prefer/core/nn"
)

// PolicyKL returns the mean over the raw observation rows obs of the exact KL(p‖q) between the
// two policies' action distributions, in nats per step: how far p has moved from q on those
// states. It is the quantity Ziegler et al. 2019 (eq. 1) penalise and the classroom's
// reward-hacking view charts next to the returns (KL from the initial policy), but computed in
// closed form rather than estimated from sampled actions, so it is exactly 0 for p == q and
// never negative. Each policy normalises the observations with its own statistics, as it
// would when acting. For a Gaussian, the KL is that of the unclipped distributions.
//
// PolicyKL only reads p and q; it is safe to call while neither is being trained.
func PolicyKL(p, q *Policy, obs []float64) (float64, error) {
	if p == nil || q == nil {
		return 0, errors.New("ppo: PolicyKL of a nil policy")
	}
	if p.ObsDim != q.ObsDim || p.Action.Discrete() != q.Action.Discrete() || p.outDim() != q.outDim() {
		return 0, fmt.Errorf("ppo: PolicyKL of policies with different shapes (obs %d vs %d, out %d vs %d)",
			p.ObsDim, q.ObsDim, p.outDim(), q.outDim())
	}
	if p.ObsDim == 0 || len(obs) == 0 || len(obs)%p.ObsDim != 0 {
		return 0, fmt.Errorf("ppo: PolicyKL got %d observation numbers, want a positive multiple of %d", len(obs), p.ObsDim)
	}
	n, k := len(obs)/p.ObsDim, p.outDim()
	forward := func(pol *Policy) []float64 {
		x := make([]float64, len(obs))
		pol.normalize(obs, x, n)
		var tape nn.Tape
		return append([]float64(nil), pol.Actor.Forward(&tape, x, n)...)
	}
	op, oq := forward(p), forward(q)
	s := 0.0
	for i := 0; i < n; i++ {
		zp, zq := op[i*k:(i+1)*k], oq[i*k:(i+1)*k]
		if p.Action.Discrete() {
			s += categoricalKL(zp, zq)
		} else {
			s += gaussianKL(zp, p.LogStd, zq, q.LogStd)
		}
	}
	return s / float64(n), nil
}

// categoricalKL returns KL(softmax(zp) ‖ softmax(zq)) = Σ_j p_j (log p_j − log q_j).
func categoricalKL(zp, zq []float64) float64 {
	lp, lq := logSumExp(zp), logSumExp(zq)
	kl := 0.0
	for j := range zp {
		a, b := zp[j]-lp, zq[j]-lq
		kl += math.Exp(a) * (a - b)
	}
	return max(kl, 0) // rounding can leave −1e-17 for equal distributions
}

// gaussianKL returns KL(N(μp, σp²) ‖ N(μq, σq²)) for diagonal Gaussians:
// Σ_j log(σq/σp) + (σp² + (μp − μq)²)/(2σq²) − ½.
func gaussianKL(mp, lsp, mq, lsq []float64) float64 {
	kl := 0.0
	for j := range mp {
		d := mp[j] - mq[j]
		kl += lsq[j] - lsp[j] + (math.Exp(2*lsp[j])+d*d)/(2*math.Exp(2*lsq[j])) - 0.5
	}
	return max(kl, 0)
}
