package ppo

import (
	"math"
	"sync"

	"github.com/prefer-rlhf/prefer/core/nn"
)

// shardRows is the smallest number of rows a gradient shard gets; maxShards caps the number
// of shards of a minibatch. Both are fixed, not tied to the number of cores, so the sum of the
// shards' gradients, taken in shard order, is the same whatever Config.Workers or GOMAXPROCS
// is. (nn.Parallel shards by its number of workers instead, and has one tape per shard where a
// shard here runs two networks, hence this loop of its own.)
const (
	shardRows = 64
	maxShards = 8
)

// update runs UpdateEpochs passes of minibatch gradient steps on the rollout (Schulman et al.
// 2017, Algorithm 1; CleanRL's "Optimizing the policy and value network" loop) and returns the
// mean losses over its minibatches.
func (tr *Trainer) update(lr float64) Stats {
	c, p := &tr.cfg, tr.pol
	n := c.BatchSize()
	M := n / c.NumMinibatches
	nShards := max(1, min(maxShards, M/shardRows))
	tr.ensureShards(nShards, M)
	tr.adam.LR = lr

	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	var sums lossSums
	var count int
	for epoch := 0; epoch < c.UpdateEpochs; epoch++ {
		tr.rng.Shuffle(n, func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
		var epochKL float64
		for start := 0; start < n; start += M {
			tr.gather(idx[start : start+M])
			if c.NormAdv {
				normalizeAdvantages(tr.mb.adv)
			}
			s := tr.minibatchGrad(nShards, M)
			if c.MaxGradNorm > 0 {
				nn.ClipGradNorm(tr.grad, c.MaxGradNorm)
			}
			tr.adam.Step(p.params, tr.grad)
			sums.add(s)
			count += M
			epochKL = s.approxKL / float64(M)
		}
		if c.TargetKL > 0 && epochKL > c.TargetKL {
			break
		}
	}
	f := 1 / float64(count)
	return Stats{
		PolicyLoss: sums.policy * f, ValueLoss: sums.value * f, Entropy: sums.entropy * f,
		ApproxKL: sums.approxKL * f, ClipFrac: sums.clipped * f,
	}
}

// ensureShards sizes the per-shard buffers.
func (tr *Trainer) ensureShards(nShards, M int) {
	np, k := len(tr.pol.params), tr.pol.outDim()
	rows := (M + nShards - 1) / nShards
	for len(tr.grads) < nShards {
		tr.grads = append(tr.grads, make([]float64, np))
		tr.dOut = append(tr.dOut, nil)
		tr.dVal = append(tr.dVal, nil)
	}
	for s := 0; s < nShards; s++ {
		tr.dOut[s] = grow(tr.dOut[s], rows*k)
		tr.dVal[s] = grow(tr.dVal[s], rows)
	}
	od, ad := tr.roll.ObsDim, tr.roll.ActDim
	b := &tr.mb
	b.obs, b.act = grow(b.obs, M*od), grow(b.act, M*ad)
	b.logp, b.adv, b.ret, b.val = grow(b.logp, M), grow(b.adv, M), grow(b.ret, M), grow(b.val, M)
}

// gather copies the rows idx of the rollout into the minibatch buffers.
func (tr *Trainer) gather(idx []int) {
	od, ad := tr.roll.ObsDim, tr.roll.ActDim
	b := &tr.mb
	for j, i := range idx {
		copy(b.obs[j*od:(j+1)*od], tr.obsN[i*od:(i+1)*od])
		copy(b.act[j*ad:(j+1)*ad], tr.rawAct[i*ad:(i+1)*ad])
		b.logp[j], b.adv[j], b.ret[j], b.val[j] = tr.logp[i], tr.adv[i], tr.ret[i], tr.values[i]
	}
}

// normalizeAdvantages rescales a to zero mean and unit standard deviation (the unbiased
// estimate, as torch.std), plus 1e-8 against division by zero, as CleanRL's norm_adv.
func normalizeAdvantages(a []float64) {
	n := float64(len(a))
	if len(a) < 2 {
		return
	}
	m := 0.0
	for _, v := range a {
		m += v
	}
	m /= n
	ss := 0.0
	for _, v := range a {
		ss += (v - m) * (v - m)
	}
	inv := 1 / (math.Sqrt(ss/(n-1)) + 1e-8)
	for i, v := range a {
		a[i] = (v - m) * inv
	}
}

// minibatchGrad computes the gradient of the mean loss over the gathered minibatch of M rows
// into tr.grad, with the rows split into nShards fixed shards computed in parallel, and
// returns the loss sums.
func (tr *Trainer) minibatchGrad(nShards, M int) lossSums {
	sums := make([]lossSums, nShards)
	w := min(tr.cfg.workers(), nShards)
	run := func(k int) {
		for s := k; s < nShards; s += w {
			sums[s] = tr.shardGrad(s, s*M/nShards, (s+1)*M/nShards, &tr.tapes[k], 1/float64(M))
		}
	}
	if w == 1 {
		run(0)
	} else {
		var wg sync.WaitGroup
		for k := 1; k < w; k++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				run(k)
			}()
		}
		run(0)
		wg.Wait()
	}
	// Reduce in shard order.
	copy(tr.grad, tr.grads[0])
	for s := 1; s < nShards; s++ {
		for i, g := range tr.grads[s] {
			tr.grad[i] += g
		}
	}
	var tot lossSums
	for _, s := range sums {
		tot.add(s)
	}
	return tot
}

// shardGrad computes rows [lo, hi) of the minibatch: forward both networks, the loss and its
// gradient with respect to the outputs, then backward into the shard's gradient buffer.
func (tr *Trainer) shardGrad(s, lo, hi int, tapes *workerTapes, scale float64) lossSums {
	p, b := tr.pol, &tr.mb
	od, ad, k := tr.roll.ObsDim, tr.roll.ActDim, p.outDim()
	na, nc := len(p.Actor.Params), len(p.Critic.Params)
	g := tr.grads[s]
	clear(g)
	m := hi - lo
	x := b.obs[lo*od : hi*od]
	out := p.Actor.Forward(&tapes.actor, x, m)
	val := p.Critic.Forward(&tapes.critic, x, m)
	dOut, dVal := tr.dOut[s][:m*k], tr.dVal[s][:m]
	sums := lossGrad(&tr.cfg, minibatch{
		out: out, values: val, logStd: p.LogStd, actions: b.act[lo*ad : hi*ad],
		oldLogp: b.logp[lo:hi], adv: b.adv[lo:hi], ret: b.ret[lo:hi], oldValues: b.val[lo:hi],
	}, scale, dOut, dVal, g[na+nc:])
	p.Actor.BackwardParams(&tapes.actor, dOut, g[:na])
	p.Critic.BackwardParams(&tapes.critic, dVal, g[na:na+nc])
	return sums
}
