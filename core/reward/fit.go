package reward

import (
	"fmt"
	"math"
	"sync"

	"github.com/prefer-rlhf/prefer/core/nn"
)

// Stats reports a Fit or Update. Losses are the Bradley-Terry cross-entropy with the
// random-response ε, without the L2 term.
type Stats struct {
	TrainLoss   float64 // mean over members of their minibatch losses in the last epoch (Fit) or the Update's steps
	ValLoss     float64 // mean over members of their loss on Dataset.Val; NaN if Val is empty
	ValAccuracy float64 // share of Val comparisons with a strict preference (μ ≠ ½) that the ensemble's P(left) gets on the right side of ½; NaN if none
	L2          float64 // mean over members of the L2 coefficient after adaptation
	Steps       int     // minibatch steps, summed over members
	Train, Val  int     // comparisons in each share
}

// Metrics returns s under the project's metric names (reward/...).
func (s Stats) Metrics() map[string]float64 {
	return map[string]float64{
		"reward/train_loss":   s.TrainLoss,
		"reward/val_loss":     s.ValLoss,
		"reward/val_accuracy": s.ValAccuracy,
		"reward/l2":           s.L2,
		"reward/steps":        float64(s.Steps),
		"reward/train_size":   float64(s.Train),
		"reward/val_size":     float64(s.Val),
	}
}

// Fit refits the ensemble from scratch on d: fresh weights and optimisers, a fresh bootstrap
// resample per member, cfg.Epochs passes over it (more if that is fewer than cfg.MinSteps
// minibatch steps), L2 adapted every cfg.ValEvery epochs and at the end, then output
// normalisation. L2 coefficients carry over from earlier fits.
func (m *Model) Fit(d *Dataset) (Stats, error) {
	if err := m.checkFit(d); err != nil {
		return Stats{}, err
	}
	steps := make([]int, len(m.members))
	m.each(func(i int, mb *member) { steps[i] = mb.fit(m, d) })
	return m.Assemble(d, sumInts(steps)), nil
}

// checkFit validates d for a Fit.
func (m *Model) checkFit(d *Dataset) error {
	if err := m.checkData(d, 0, 0); err != nil {
		return err
	}
	if len(d.Train) == 0 {
		return fmt.Errorf("reward: no training comparisons")
	}
	return nil
}

// fit is one member's share of Fit; it returns its minibatch steps.
func (mb *member) fit(m *Model, d *Dataset) (steps int) {
	mb.init()
	mb.counts = mb.counts[:0]
	mb.fitted = 0
	mb.drawCounts(len(d.Train))
	order := mb.expand(0)
	epochs := m.cfg.Epochs
	if nb := (len(order) + m.cfg.Batch - 1) / m.cfg.Batch; m.cfg.MinSteps > 0 && nb > 0 {
		epochs = max(epochs, (m.cfg.MinSteps+nb-1)/nb)
	}
	mb.eps = m.cfg.Epsilon
	loss := 0.0
	for e := 0; e < epochs; e++ {
		mb.rng.Shuffle(len(order), func(a, b int) { order[a], order[b] = order[b], order[a] })
		loss = 0
		nb := 0
		for lo := 0; lo < len(order); lo += m.cfg.Batch {
			hi := min(lo+m.cfg.Batch, len(order))
			loss += mb.step(m, d.Train, order[lo:hi])
			nb++
		}
		loss /= float64(max(nb, 1))
		steps += nb
		if m.cfg.ValEvery > 0 && (e+1)%m.cfg.ValEvery == 0 && e+1 < epochs {
			mb.adapt(m, d.Val, loss)
		}
	}
	mb.trainLoss = loss
	mb.adapt(m, d.Val, loss)
	mb.fitted = len(d.Train)
	return steps
}

// Update is the incremental fit: a warm start from the current weights on a dataset that has
// grown since the last Fit or Update, cheap enough to run after every label in a browser.
// Each member draws bootstrap counts for the new training comparisons (the online Poisson(1)
// bootstrap, so resamples extend rather than restart), takes cfg.UpdateSteps minibatch steps in
// which half of each batch replays the new comparisons and the rest is drawn from the whole
// resample (so old labels are not forgotten), adapts L2 and renormalises.
func (m *Model) Update(d *Dataset) (Stats, error) {
	if err := m.checkUpdate(d, m.members[0].fitted); err != nil {
		return Stats{}, err
	}
	steps := make([]int, len(m.members))
	m.each(func(i int, mb *member) { steps[i] = mb.update(m, d) })
	return m.Assemble(d, sumInts(steps)), nil
}

// checkUpdate validates d for an Update of members that have taken in fitted comparisons.
func (m *Model) checkUpdate(d *Dataset, fitted int) error {
	if err := m.checkData(d, fitted, 0); err != nil {
		return err
	}
	if len(d.Train) < fitted {
		return fmt.Errorf("reward: the dataset shrank from %d to %d training comparisons; Fit it instead", fitted, len(d.Train))
	}
	if len(d.Train) == 0 {
		return fmt.Errorf("reward: no training comparisons")
	}
	return nil
}

// update is one member's share of Update; it returns its minibatch steps.
func (mb *member) update(m *Model, d *Dataset) (steps int) {
	mb.drawCounts(len(d.Train))
	all := mb.expand(0)
	fresh := mb.expand(mb.fitted)
	mb.rng.Shuffle(len(fresh), func(a, b int) { fresh[a], fresh[b] = fresh[b], fresh[a] })
	batch := make([]int32, 0, m.cfg.Batch)
	loss := 0.0
	next := 0
	for s := 0; s < m.cfg.UpdateSteps && len(all) > 0; s++ {
		batch = batch[:0]
		for k := 0; k < max(m.cfg.Batch/2, 1) && k < len(fresh) && len(batch) < m.cfg.Batch; k++ {
			batch = append(batch, fresh[next%len(fresh)])
			next++
		}
		for len(batch) < m.cfg.Batch {
			batch = append(batch, all[mb.rng.IntN(len(all))])
		}
		loss += mb.step(m, d.Train, batch)
		steps++
	}
	if steps > 0 {
		mb.trainLoss = loss / float64(steps)
	}
	mb.adapt(m, d.Val, mb.trainLoss)
	mb.fitted = len(d.Train)
	return steps
}

// checkData validates the comparisons of d from index train in Train and val in Val on.
func (m *Model) checkData(d *Dataset, train, val int) error {
	if d == nil {
		return fmt.Errorf("reward: nil dataset")
	}
	check := func(share string, cs []Comparison, from int) error {
		for i := from; i < len(cs); i++ {
			c := &cs[i]
			if !(c.Mu >= 0 && c.Mu <= 1) {
				return fmt.Errorf("reward: %s comparison %d: mu must be in [0, 1], got %v", share, i, c.Mu)
			}
			if err := m.checkSegment(c.Left); err != nil {
				return fmt.Errorf("%s comparison %d, left: %w", share, i, err)
			}
			if err := m.checkSegment(c.Right); err != nil {
				return fmt.Errorf("%s comparison %d, right: %w", share, i, err)
			}
		}
		return nil
	}
	if err := check("train", d.Train, train); err != nil {
		return err
	}
	return check("val", d.Val, val)
}

// each runs f for every member, concurrently if cfg.Parallel. Members share nothing mutable,
// so the result does not depend on scheduling.
func (m *Model) each(f func(i int, mb *member)) {
	if !m.cfg.Parallel || len(m.members) == 1 {
		for i, mb := range m.members {
			f(i, mb)
		}
		return
	}
	var wg sync.WaitGroup
	for i, mb := range m.members {
		wg.Add(1)
		go func() { defer wg.Done(); f(i, mb) }()
	}
	wg.Wait()
}

// stats gathers the members' losses and the ensemble's validation accuracy from their last
// validation check.
func (m *Model) stats(d *Dataset, steps int) Stats {
	s := Stats{Steps: steps, Train: len(d.Train), Val: len(d.Val)}
	k := float64(len(m.members))
	for _, mb := range m.members {
		s.TrainLoss += mb.trainLoss / k
		s.ValLoss += mb.valLoss / k
		s.L2 += mb.l2 / k
	}
	s.ValAccuracy = math.NaN()
	right, total := 0, 0
	for j, c := range d.Val {
		if c.Mu == 0.5 {
			continue
		}
		p := 0.0
		for _, mb := range m.members {
			p += sigmoid(mb.valDelta[j]) / k
		}
		total++
		if (p > 0.5) == (c.Mu > 0.5) {
			right++
		}
	}
	if total > 0 {
		s.ValAccuracy = float64(right) / float64(total)
	}
	return s
}

// drawCounts extends the member's bootstrap resample to n training comparisons: each new one
// appears Poisson(1) times, the online bootstrap (Oza & Russell 2001), which for a full fit is
// the usual resample of the training set with replacement in distribution.
func (mb *member) drawCounts(n int) {
	for len(mb.counts) < n {
		mb.counts = append(mb.counts, int32(poisson1(mb.rng.Float64)))
	}
}

// poisson1 draws from Poisson(1) by Knuth's product of uniforms.
func poisson1(u func() float64) int {
	k, p := 0, u()
	for p > 1/math.E {
		k++
		p *= u()
	}
	return k
}

// expand lists the training indices from index from on, each as often as its bootstrap count.
func (mb *member) expand(from int) []int32 {
	var order []int32
	for i := from; i < len(mb.counts); i++ {
		for c := int32(0); c < mb.counts[i]; c++ {
			order = append(order, int32(i))
		}
	}
	return order
}

// step takes one Adam step on the minibatch of comparisons train[idx] and returns its mean
// loss before the step.
func (mb *member) step(m *Model, train []Comparison, idx []int32) float64 {
	grad := grow(mb.grad, len(mb.net.Params))
	clear(grad)
	mb.grad = grad
	loss := mb.lossGrad(m, train, idx, grad, nil)
	// L2 on the weights, not the biases: d/dθ (λ/2)‖W‖² = λW.
	p := mb.net.Params
	off := 0
	for l := 0; l+1 < len(mb.net.Sizes); l++ {
		nw := mb.net.Sizes[l] * mb.net.Sizes[l+1]
		for k := off; k < off+nw; k++ {
			grad[k] += mb.l2 * p[k]
		}
		off += nw + mb.net.Sizes[l+1]
	}
	if m.cfg.MaxGradNorm > 0 {
		nn.ClipGradNorm(grad, m.cfg.MaxGradNorm)
	}
	mb.opt.Step(p, grad)
	return loss
}

// lossGrad returns the mean Bradley-Terry loss of the comparisons train[idx] and, if grad is
// not nil, adds its gradient with respect to the member's parameters to grad. If deltas is not
// nil it receives each comparison's Δ.
//
// Both segments of every comparison go through the network as one batch of rows; a segment's
// predicted return is the sum of its rows' outputs, and by eq. 1 the loss depends on the pair
// only through Δ = R(left) - R(right), so every row of the left segment gets dL/dΔ and every
// row of the right one -dL/dΔ.
func (mb *member) lossGrad(m *Model, train []Comparison, idx []int32, grad, deltas []float64) float64 {
	rows := 0
	for _, j := range idx {
		rows += train[j].Left.Len + train[j].Right.Len
	}
	w := m.width
	mb.x = grow(mb.x, rows*w)
	r := 0
	f := m.cfg.Features
	for _, j := range idx {
		c := &train[j]
		m.shape.features(f, m.cfg.ObsScale, c.Left.Obs, c.Left.Act, c.Left.Next, c.Left.Len, mb.x[r*w:])
		r += c.Left.Len
		m.shape.features(f, m.cfg.ObsScale, c.Right.Obs, c.Right.Act, c.Right.Next, c.Right.Len, mb.x[r*w:])
		r += c.Right.Len
	}
	y := mb.forward(&mb.tape, &mb.ptape, mb.x, rows)
	if grad != nil {
		mb.dy = grow(mb.dy, rows)
	}
	total := 0.0
	inv := 1 / float64(len(idx))
	r = 0
	for k, j := range idx {
		c := &train[j]
		left := y[r : r+c.Left.Len]
		right := y[r+c.Left.Len : r+c.Left.Len+c.Right.Len]
		delta := sum(left) - sum(right)
		if deltas != nil {
			deltas[k] = delta
		}
		loss, g := btLoss(delta, c.Mu, mb.epsilon(m))
		if m.cfg.RobustFit() == RobustR3M {
			g = robustGrad(delta, c.Mu, m.cfg.RobustLambda) // robust.go; the loss reported stays the plain one
		}
		total += loss
		if grad != nil {
			fill(mb.dy[r:r+c.Left.Len], g*inv)
			fill(mb.dy[r+c.Left.Len:r+c.Left.Len+c.Right.Len], -g*inv)
		}
		r += c.Left.Len + c.Right.Len
	}
	if grad != nil {
		mb.net.BackwardParams(&mb.tape, mb.dy, grad)
	}
	return total * inv
}

// btLoss is the cross-entropy between the target μ and the predicted probability that the
// left segment is better, for Δ = R(left) - R(right) (§2.2.3):
//
//	P = (1-ε)·σ(Δ) + ε/2   (eq. 1, with the chance ε of a uniformly random answer)
//	L = -μ log P - (1-μ) log(1-P)
//
// It returns L and dL/dΔ. With ε = 0 it uses log σ(Δ) = -softplus(-Δ), exact for any Δ.
func btLoss(delta, mu, eps float64) (loss, dDelta float64) {
	if eps == 0 {
		return mu*softplus(-delta) + (1-mu)*softplus(delta), sigmoid(delta) - mu
	}
	s, t := sigmoid(delta), sigmoid(-delta) // t = 1-s, computed without cancellation
	p := (1-eps)*s + eps/2
	q := (1-eps)*t + eps/2 // 1-p
	loss = -mu*math.Log(p) - (1-mu)*math.Log(q)
	dDelta = (-mu/p + (1-mu)/q) * (1 - eps) * s * t
	return loss, dDelta
}

// softplus is log(1 + eˣ) without overflow.
func softplus(x float64) float64 {
	if x > 0 {
		return x + math.Log1p(math.Exp(-x))
	}
	return math.Log1p(math.Exp(x))
}

// adapt measures the member's loss on the validation comparisons and moves its L2 coefficient
// to keep val/train within [RatioLow, RatioHigh] (App. A): a larger ratio means overfitting, so
// more regularisation; a smaller one means room to fit more. Without validation data it only
// records NaN.
func (mb *member) adapt(m *Model, val []Comparison, trainLoss float64) {
	mb.valLoss = math.NaN()
	mb.valDelta = grow(mb.valDelta, len(val))
	if len(val) == 0 {
		return
	}
	total := 0.0
	idx := make([]int32, 0, m.cfg.Batch)
	for lo := 0; lo < len(val); lo += m.cfg.Batch {
		hi := min(lo+m.cfg.Batch, len(val))
		idx = idx[:0]
		for j := lo; j < hi; j++ {
			idx = append(idx, int32(j))
		}
		// Keep each comparison's Δ for the ensemble's accuracy.
		total += mb.lossGrad(m, val, idx, nil, mb.valDelta[lo:hi]) * float64(hi-lo)
	}
	mb.valLoss = total / float64(len(val))
	if m.learnsEpsilon() {
		mb.eps = fitEpsilon(mb.valDelta, val) // robust.go
	}
	if !(trainLoss > 0) {
		return // no training loss to compare with (no steps yet)
	}
	ratio := mb.valLoss / trainLoss
	switch {
	case ratio > m.cfg.RatioHigh:
		mb.l2 = math.Min(math.Max(mb.l2, m.cfg.L2Min)*m.cfg.L2Factor, m.cfg.L2Max)
	case ratio < m.cfg.RatioLow:
		mb.l2 = math.Max(mb.l2/m.cfg.L2Factor, m.cfg.L2Min)
	}
}

func sum(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s
}

func sumInts(v []int) int {
	s := 0
	for _, x := range v {
		s += x
	}
	return s
}

func fill(v []float64, x float64) {
	for i := range v {
		v[i] = x
	}
}
