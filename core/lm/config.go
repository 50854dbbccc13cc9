// Package lm is a small decoder-only transformer language model in the shape of nanoGPT
// (Karpathy 2022; GPT-2, Radford et al. 2019): token and position embeddings, pre-LayerNorm
// blocks of causal multi-head self-attention and a GELU MLP, a final LayerNorm and an output
// layer tied to the token embedding. Forward and backward are written by hand over one flat
// parameter vector, as in core/nn, and use core/nn's dense kernels.
package lm

import "fmt"

// Config is the model's shape and training hyperparameters.
type Config struct {
	Vocab  int // number of token ids, the BPE vocabulary size
	Ctx    int // context length: the most positions a sequence may have
	Dim    int // width d of the residual stream
	Layers int // number of transformer blocks
	Heads  int // attention heads per block; Dim must be a multiple of it
	// OutBias gives the output layer a bias, one per token, after the final LayerNorm's γ β in
	// Params. Pretraining leaves it off (nanoGPT's tied layer has none); a policy tuned by RL
	// may start from its reference with a zero bias (Model.WithOutputBias): a reward that adds
	// up over tokens is best served, within a KL budget, by a policy whose logits move by
	// about each token's reward over β (the optimal KL-regularised policy π_ref·exp(r/β)), which
	// a per-token bias states exactly and the tied layer only within Dim dimensions.
	OutBias bool

	Batch       int     // sequences per training step
	LR          float64 // AdamW peak step size
	MinLR       float64 // step size at the end of Pretrain's cosine decay (nanoGPT: LR/10)
	Warmup      int     // Pretrain's steps of linear warm-up to LR
	WeightDecay float64 // AdamW decoupled decay, only on the weight matrices (as nanoGPT)
	Beta2       float64 // AdamW second-moment decay; 0.99 as nanoGPT's small models
	Clip        float64 // global gradient-norm clip; 0 turns it off
	Workers     int     // gradient shards over the batch (core/nn Parallel); fixed for reproducibility
}

// DefaultConfig is the anchor shape of issue 12: vocabulary 512, context 64, width 64,
// 2 layers, 4 heads, batch 32, about 137k parameters.
func DefaultConfig() Config {
	return Config{
		Vocab: 512, Ctx: 64, Dim: 64, Layers: 2, Heads: 4,
		Batch: 32, LR: 2e-3, MinLR: 2e-4, Warmup: 100, WeightDecay: 0.1, Beta2: 0.99, Clip: 1, Workers: 2,
	}
}

// Validate reports a shape the model cannot have.
func (c Config) Validate() error {
	switch {
	case c.Vocab < 2:
		return fmt.Errorf("lm: vocab %d < 2", c.Vocab)
	case c.Ctx < 1:
		return fmt.Errorf("lm: ctx %d < 1", c.Ctx)
	case c.Dim < 1 || c.Heads < 1 || c.Dim%c.Heads != 0:
		return fmt.Errorf("lm: dim %d is not a positive multiple of heads %d", c.Dim, c.Heads)
	case c.Layers < 1:
		return fmt.Errorf("lm: layers %d < 1", c.Layers)
	case c.Vocab > 1<<20 || c.Ctx > 1<<16 || c.Dim > 1<<14 || c.Layers > 256:
		return fmt.Errorf("lm: shape too large")
	}
	return nil
}

// block is where one transformer block's parameters start in the flat vector.
type block struct {
	ln1g, ln1b, wqkv, bqkv, wo, bo, ln2g, ln2b, wfc, bfc, wpr, bpr int
}

// layout is the offset of every parameter tensor in Params, in this order: wte (Vocab×Dim),
// wpe (Ctx×Dim), each block (ln1 γ β, attention QKV weight 3d×d and bias, output projection
// d×d and bias, ln2 γ β, MLP weight 4d×d and bias, MLP projection d×4d and bias), final γ β.
// Weights are out×in, row-major, as core/nn's layers.
type layout struct {
	wte, wpe   int
	blocks     []block
	lnfg, lnfb int
	bout       int // the output bias (Config.OutBias); n when there is none
	n          int
}

func newLayout(c Config) layout {
	d := c.Dim
	var l layout
	o := 0
	take := func(n int) int { s := o; o += n; return s }
	l.wte = take(c.Vocab * d)
	l.wpe = take(c.Ctx * d)
	for range c.Layers {
		var b block
		b.ln1g, b.ln1b = take(d), take(d)
		b.wqkv, b.bqkv = take(3*d*d), take(3*d)
		b.wo, b.bo = take(d*d), take(d)
		b.ln2g, b.ln2b = take(d), take(d)
		b.wfc, b.bfc = take(4*d*d), take(4*d)
		b.wpr, b.bpr = take(4*d*d), take(d)
		l.blocks = append(l.blocks, b)
	}
	l.lnfg, l.lnfb = take(d), take(d)
	l.bout = o
	if c.OutBias {
		take(c.Vocab)
	}
	l.n = o
	return l
}

// NumParams is the length of the parameter vector for c.
func NumParams(c Config) int { return newLayout(c).n }
