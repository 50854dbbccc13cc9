package lm

import (
	"math"
	"math/rand/v2"

	"github.com/prefer-rlhf/prefer/core/nn"
)

// AdamW is Adam with decoupled weight decay (Loshchilov & Hutter 2019, Algorithm 2): before
// each Adam step, the masked parameters shrink by LR·Decay·θ.
type AdamW struct {
	*nn.Adam
	Decay float64 // decoupled weight decay λ
	Mask  []bool  // which parameters decay
}

// Step updates params by one AdamW step on grad.
func (a *AdamW) Step(params, grad []float64) {
	f := 1 - a.LR*a.Decay
	for i, ok := range a.Mask {
		if ok {
			params[i] *= f
		}
	}
	a.Adam.Step(params, grad)
}

// Trainer pretrains a Model on a token stream by next-token prediction.
type Trainer struct {
	Model *Model
	Opt   *AdamW

	par  *nn.Parallel
	ws   []Workspace
	grad []float64
	rng  *rand.Rand
	in   []int
	tg   []int
}

// NewTrainer returns a Trainer for m with m.Config's hyperparameters; seed fixes the batches.
func NewTrainer(m *Model, seed uint64) *Trainer {
	c := m.Config
	adam := nn.NewAdam(len(m.Params), c.LR)
	adam.Beta2 = c.Beta2
	return &Trainer{
		Model: m,
		Opt:   &AdamW{Adam: adam, Decay: c.WeightDecay, Mask: m.DecayMask()},
		par:   nn.NewParallel(c.Workers),
		ws:    make([]Workspace, max(1, c.Workers)),
		grad:  make([]float64, len(m.Params)),
		rng:   rand.New(rand.NewPCG(seed, 0x747261696e)),
	}
}

// Batch draws Batch windows of Ctx+1 tokens from stream at random offsets and returns the
// inputs and the next-token targets, each Batch×Ctx.
func (tr *Trainer) Batch(stream []int) (inputs, targets []int) {
	c := tr.Model.Config
	T := min(c.Ctx, len(stream)-1)
	tr.in, tr.tg = tr.in[:0], tr.tg[:0]
	for range c.Batch {
		o := tr.rng.IntN(len(stream) - T)
		tr.in = append(tr.in, stream[o:o+T]...)
		tr.tg = append(tr.tg, stream[o+1:o+T+1]...)
	}
	return tr.in, tr.tg
}

// Step takes one AdamW step on the mean cross-entropy of targets given inputs (nb×t each) and
// returns the loss before the step and the gradient norm before clipping.
func (tr *Trainer) Step(inputs, targets []int, nb, t int) (loss, norm float64, err error) {
	m := tr.Model
	if err := m.checkTokens(inputs, nb*t); err != nil {
		return 0, 0, err
	}
	if err := m.checkTokens(targets, nb*t); err != nil {
		return 0, 0, err
	}
	if t < 1 || t > m.Config.Ctx {
		return 0, 0, errorf("lm: sequence length %d outside [1, %d]", t, m.Config.Ctx)
	}
	clear(tr.grad)
	scale := 1 / float64(nb*t)
	w := max(1, min(tr.par.Workers, nb))
	loss = tr.par.Run(nb, tr.grad, func(lo, hi int, _ *nn.Tape, g []float64) float64 {
		ws := &tr.ws[shardOf(lo, nb, w)]
		return m.nll(ws, inputs[lo*t:hi*t], targets[lo*t:hi*t], hi-lo, t, scale, g)
	})
	clip := m.Config.Clip
	if clip <= 0 {
		clip = math.Inf(1)
	}
	norm = nn.ClipGradNorm(tr.grad, clip)
	tr.Opt.Step(m.Params, tr.grad)
	return loss, norm, nil
}

// shardOf is the index s of the shard nn.Parallel starts at item lo (lo = s·n/w).
func shardOf(lo, n, w int) int {
	for s := range w {
		if s*n/w == lo {
			return s
		}
	}
	return 0
}
