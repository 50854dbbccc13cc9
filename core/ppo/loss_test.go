package ppo

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/prefer-rlhf/prefer/core/nn"
)

// lossValue is the scalar loss that lossGrad differentiates.
func lossValue(c *Config, b minibatch, scale float64) float64 {
	k := len(b.out) / len(b.values)
	s := lossGrad(c, b, scale, make([]float64, len(b.values)*k), make([]float64, len(b.values)), make([]float64, len(b.logStd)))
	return scale * (s.policy - c.EntCoef*s.entropy + c.VFCoef*s.value)
}

// randomMinibatch builds n rows whose ratios and value changes land on both sides of the
// clipping range, for a categorical (k logits) or a Gaussian (k means) policy.
func randomMinibatch(rng *rand.Rand, n, k int, gaussian bool) minibatch {
	b := minibatch{
		out: make([]float64, n*k), values: make([]float64, n), oldLogp: make([]float64, n),
		adv: make([]float64, n), ret: make([]float64, n), oldValues: make([]float64, n),
	}
	for i := range b.out {
		b.out[i] = rng.NormFloat64()
	}
	if gaussian {
		b.logStd = []float64{-0.3, 0.2, 0.5}[:k]
		b.actions = make([]float64, n*k)
		for i := range b.actions {
			b.actions[i] = b.out[i] + rng.NormFloat64()
		}
	} else {
		b.actions = make([]float64, n)
		for i := range b.actions {
			b.actions[i] = float64(rng.IntN(k))
		}
	}
	for i := 0; i < n; i++ {
		var logp float64
		if gaussian {
			logp = gaussianLogProb(b.out[i*k:(i+1)*k], b.logStd, b.actions[i*k:(i+1)*k])
		} else {
			logp = categoricalLogProb(b.out[i*k:(i+1)*k], int(b.actions[i]))
		}
		// log ratios in [−0.6, 0.6]: some inside, some outside [log 0.8, log 1.2].
		b.oldLogp[i] = logp - (rng.Float64()*1.2 - 0.6)
		b.adv[i] = rng.NormFloat64()
		b.values[i] = rng.NormFloat64()
		b.oldValues[i] = b.values[i] + (rng.Float64()*0.8 - 0.4)
		b.ret[i] = rng.NormFloat64() * 2
	}
	return b
}

// TestLossGradFiniteDifferences checks the gradient of the clipped surrogate, the clipped
// value loss and the entropy bonus against central finite differences, for both policies.
func TestLossGradFiniteDifferences(t *testing.T) {
	for _, tc := range []struct {
		name     string
		k        int
		gaussian bool
		clipV    bool
	}{
		{"categorical", 3, false, true},
		{"categorical-unclipped-value", 2, false, false},
		{"gaussian", 2, true, true},
		{"gaussian-3d", 3, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(7, uint64(tc.k)))
			c := CleanRLConfig("CartPole-v1")
			c.ClipVLoss, c.EntCoef = tc.clipV, 0.05
			const n = 40
			b := randomMinibatch(rng, n, tc.k, tc.gaussian)
			scale := 1.0 / n
			dOut, dVal := make([]float64, n*tc.k), make([]float64, n)
			dLogStd := make([]float64, len(b.logStd))
			lossGrad(&c, b, scale, dOut, dVal, dLogStd)

			const h = 1e-6
			check := func(what string, x []float64, i int, got float64) {
				t.Helper()
				old := x[i]
				x[i] = old + h
				lp := lossValue(&c, b, scale)
				x[i] = old - h
				lm := lossValue(&c, b, scale)
				x[i] = old
				want := (lp - lm) / (2 * h)
				if math.Abs(got-want) > 1e-6+1e-5*math.Abs(want) {
					t.Errorf("d loss/d %s[%d] = %.9g, finite differences %.9g", what, i, got, want)
				}
			}
			for i := range b.out {
				check("out", b.out, i, dOut[i])
			}
			for i := range b.values {
				check("value", b.values, i, dVal[i])
			}
			for i := range b.logStd {
				check("logStd", b.logStd, i, dLogStd[i])
			}
		})
	}
}

// TestLossClipping checks the clipped surrogate's value in the regimes of Schulman et al.
// 2017, Figure 1: a ratio beyond 1+ε with a positive advantage gains nothing more (and has no
// gradient), while a ratio beyond 1+ε with a negative advantage keeps its full penalty.
func TestLossClipping(t *testing.T) {
	c := CleanRLConfig("CartPole-v1")
	c.EntCoef, c.VFCoef = 0, 0
	out := []float64{0, 0} // uniform: log π(a) = log ½
	for _, tc := range []struct {
		ratio, adv, wantLoss float64
		wantGrad             bool
	}{
		{1.5, 1, -1.2, false}, // clipped at 1+ε
		{1.5, -1, 1.5, true},  // unclipped: pessimistic bound
		{0.5, -1, 0.8, false}, // clipped at 1−ε
		{0.5, 1, -0.5, true},  // unclipped
		{1.1, 2, -2.2, true},  // inside the range
	} {
		b := minibatch{
			out: append([]float64(nil), out...), values: []float64{0}, actions: []float64{1},
			oldLogp: []float64{math.Log(0.5) - math.Log(tc.ratio)}, adv: []float64{tc.adv},
			ret: []float64{0}, oldValues: []float64{0},
		}
		dOut := make([]float64, 2)
		s := lossGrad(&c, b, 1, dOut, make([]float64, 1), nil)
		if math.Abs(s.policy-tc.wantLoss) > 1e-12 {
			t.Errorf("ratio %v adv %v: policy loss %v, want %v", tc.ratio, tc.adv, s.policy, tc.wantLoss)
		}
		if hasGrad := dOut[0] != 0 || dOut[1] != 0; hasGrad != tc.wantGrad {
			t.Errorf("ratio %v adv %v: gradient %v, want nonzero=%v", tc.ratio, tc.adv, dOut, tc.wantGrad)
		}
	}
}

// TestMinibatchGradThroughNetworks checks the gradient of a whole minibatch with respect to
// the flat parameters (actor, critic and log σ, summed over parallel shards) against finite
// differences of the loss computed through the networks.
func TestMinibatchGradThroughNetworks(t *testing.T) {
	for _, name := range []string{"CartPole-v1", "Pendulum-v1"} {
		c := smallConfig(name)
		c.Hidden, c.NumMinibatches, c.EntCoef = []int{6, 5}, 1, 0.01
		tr := mustTrainer(t, c, 9)
		if err := tr.Train(2*c.BatchSize(), nil); err != nil {
			t.Fatal(err)
		}
		M := c.BatchSize()
		idx := make([]int, M)
		for i := range idx {
			idx[i] = (i * 7) % M
		}
		tr.ensureShards(4, M)
		tr.gather(idx)
		normalizeAdvantages(tr.mb.adv)
		// Move the policy so that ratios and value changes are not all 1 and 0.
		p := tr.pol
		for i := range p.params {
			p.params[i] += 0.05 * math.Sin(float64(3*i))
		}
		tr.minibatchGrad(4, M)
		grad := append([]float64(nil), tr.grad...)

		loss := func() float64 {
			b := tr.mb
			out := append([]float64(nil), p.Actor.Forward(new(nn.Tape), b.obs, M)...)
			val := p.Critic.Forward(new(nn.Tape), b.obs, M)
			return lossValue(&tr.cfg, minibatch{out: out, values: val, logStd: p.LogStd, actions: b.act,
				oldLogp: b.logp, adv: b.adv, ret: b.ret, oldValues: b.val}, 1/float64(M))
		}
		const h = 1e-6
		rng := rand.New(rand.NewPCG(1, 1))
		check := func(i int) {
			old := p.params[i]
			p.params[i] = old + h
			lp := loss()
			p.params[i] = old - h
			lm := loss()
			p.params[i] = old
			want := (lp - lm) / (2 * h)
			if math.Abs(grad[i]-want) > 1e-6+1e-4*math.Abs(want) {
				t.Errorf("%s: d loss/d θ[%d] = %.9g, finite differences %.9g", name, i, grad[i], want)
			}
		}
		for k := 0; k < 60; k++ {
			check(rng.IntN(len(p.params)))
		}
		for i := len(p.Actor.Params) + len(p.Critic.Params); i < len(p.params); i++ {
			check(i) // every log σ
		}
	}
}
