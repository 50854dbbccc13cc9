package ppo

import "math"

// minibatch is a shard of a minibatch as the loss sees it: the networks' outputs for its
// observations and what the rollout recorded. Row i of every slice is one transition.
type minibatch struct {
	out       []float64 // actor outputs, rows of K logits or means
	values    []float64 // critic outputs V_θ(s)
	logStd    []float64 // Gaussian log σ; nil for a categorical
	actions   []float64 // the rollout's raw actions, rows of 1 (index) or Dim
	oldLogp   []float64 // log π_old(a|s) from the rollout
	adv       []float64 // advantages, already normalised if NormAdv
	ret       []float64 // value targets (λ-returns)
	oldValues []float64 // V_old(s) from the rollout
}

// lossSums are sums over a shard's rows (divide by the minibatch size for means).
type lossSums struct {
	policy, value, entropy, approxKL, clipped float64
}

func (s *lossSums) add(o lossSums) {
	s.policy += o.policy
	s.value += o.value
	s.entropy += o.entropy
	s.approxKL += o.approxKL
	s.clipped += o.clipped
}

// lossGrad evaluates the PPO objective of Schulman et al. 2017, eq. 9, as a loss to minimise
// (CleanRL's loss = pg_loss − c2·entropy + c1·v_loss), on the rows of b, and writes its
// gradient with respect to the actor outputs (dOut, same shape as b.out) and the values
// (dValue), and adds its gradient with respect to logStd to dLogStd. Each row contributes
// scale times its loss: scale is 1/minibatch size, so shards of one minibatch add up to the
// gradient of the mean.
//
//	policy  max(−Â·r, −Â·clip(r, 1−ε, 1+ε)), r = π(a|s)/π_old(a|s)     (eq. 7, negated)
//	value   ½·max((V − R)², (V_old + clip(V − V_old, −ε, ε) − R)²)      (clipped value loss)
//	entropy H(π(·|s))                                                   (eq. 9's S term)
func lossGrad(c *Config, b minibatch, scale float64, dOut, dValue, dLogStd []float64) lossSums {
	var s lossSums
	n := len(b.values)
	k := len(b.out) / n
	eps := c.ClipCoef
	var ent float64
	if b.logStd != nil {
		ent = gaussianEntropy(b.logStd)
	}
	for i := 0; i < n; i++ {
		out := b.out[i*k : (i+1)*k]
		dout := dOut[i*k : (i+1)*k]
		// New log-probability and entropy of the recorded action.
		var logp float64
		if b.logStd == nil {
			a := int(b.actions[i])
			lse := logSumExp(out)
			logp = out[a] - lse
			ent = 0
			for _, z := range out {
				lp := z - lse
				ent -= math.Exp(lp) * lp
			}
		} else {
			logp = gaussianLogProb(out, b.logStd, b.actions[i*k:(i+1)*k])
		}

		logRatio := logp - b.oldLogp[i]
		ratio := math.Exp(logRatio)
		// http://joschu.net/blog/kl-approx.html: (r − 1) − log r, unbiased and non-negative.
		s.approxKL += (ratio - 1) - logRatio
		if math.Abs(ratio-1) > eps {
			s.clipped++
		}

		a := b.adv[i]
		pg1 := -a * ratio
		pg2 := -a * max(1-eps, min(1+eps, ratio))
		dLogp := 0.0 // d policy-loss / d log π
		if pg1 >= pg2 {
			s.policy += pg1
			dLogp = -a * ratio
		} else {
			s.policy += pg2 // the clipped term is constant in θ
		}
		s.entropy += ent

		v, r := b.values[i], b.ret[i]
		dv := v - r
		vl := dv * dv
		if c.ClipVLoss {
			vo := b.oldValues[i]
			vc := vo + max(-eps, min(eps, v-vo))
			if lc := (vc - r) * (vc - r); lc > vl {
				vl = lc
				dv = 0
				if math.Abs(v-vo) < eps {
					dv = vc - r
				}
			}
		}
		s.value += 0.5 * vl
		dValue[i] = scale * c.VFCoef * dv

		g := scale * dLogp      // weight of ∇log π
		h := -scale * c.EntCoef // weight of ∇H
		if b.logStd == nil {
			// ∂log p_a/∂z_j = 1[j=a] − p_j;  ∂H/∂z_j = −p_j (log p_j + H).
			act := int(b.actions[i])
			lse := logSumExp(out)
			for j, z := range out {
				lp := z - lse
				p := math.Exp(lp)
				d := -g * p
				if j == act {
					d += g
				}
				dout[j] = d - h*p*(lp+ent)
			}
		} else {
			// ∂log p/∂μ_j = (a_j − μ_j)/σ_j²;  ∂log p/∂log σ_j = z_j² − 1;  ∂H/∂log σ_j = 1.
			act := b.actions[i*k : (i+1)*k]
			for j, m := range out {
				inv := math.Exp(-b.logStd[j])
				z := (act[j] - m) * inv
				dout[j] = g * z * inv
				dLogStd[j] += g*(z*z-1) + h
			}
		}
	}
	return s
}
