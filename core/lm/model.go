package lm

import (
	"math"
	"math/rand/v2"
)

// Model is the transformer: a Config and one flat parameter vector in layout's order.
type Model struct {
	Config Config
	Params []float64

	lay  layout
	zero []float64 // Vocab zeros: the tied output layer's bias when Config.OutBias is off
}

// outBias is the output layer's bias: Params' (Config.OutBias) or zeros.
func (m *Model) outBias() []float64 {
	if m.Config.OutBias {
		return m.Params[m.lay.bout : m.lay.bout+m.Config.Vocab]
	}
	return m.zero
}

// WithOutputBias returns a copy of m whose output layer has a bias (Config.OutBias): m's own
// bias if it has one, else zeros, so the copy computes the same distribution as m.
func (m *Model) WithOutputBias() *Model {
	c := m.Clone()
	if m.Config.OutBias {
		return c
	}
	c.Config.OutBias = true
	c.Params = append(c.Params, make([]float64, m.Config.Vocab)...)
	c.init()
	return c
}

// New returns a model initialised as nanoGPT does (GPT-2, Radford et al. 2019 §2.3): weights
// and embeddings from N(0, 0.02²), the residual projections from N(0, (0.02/√(2·Layers))²),
// biases 0, LayerNorm gains 1. The same seed gives the same parameters.
func New(c Config, seed uint64) (*Model, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	m := &Model{Config: c, Params: make([]float64, NumParams(c))}
	m.init()
	rng := rand.New(rand.NewPCG(seed, 0x6c6d))
	normal := func(off, n int, std float64) {
		for i := range n {
			m.Params[off+i] = rng.NormFloat64() * std
		}
	}
	d := c.Dim
	normal(m.lay.wte, c.Vocab*d, 0.02)
	normal(m.lay.wpe, c.Ctx*d, 0.02)
	proj := 0.02 / math.Sqrt(2*float64(c.Layers))
	for _, b := range m.lay.blocks {
		ones(m.Params[b.ln1g : b.ln1g+d])
		ones(m.Params[b.ln2g : b.ln2g+d])
		normal(b.wqkv, 3*d*d, 0.02)
		normal(b.wo, d*d, proj)
		normal(b.wfc, 4*d*d, 0.02)
		normal(b.wpr, 4*d*d, proj)
	}
	ones(m.Params[m.lay.lnfg : m.lay.lnfg+d])
	return m, nil
}

// init sets the derived fields after Config and Params are set.
func (m *Model) init() {
	m.lay = newLayout(m.Config)
	m.zero = make([]float64, m.Config.Vocab)
}

func ones(v []float64) {
	for i := range v {
		v[i] = 1
	}
}

// DecayMask marks the parameters AdamW decays: the weight matrices of the blocks, not
// LayerNorm parameters, biases or embeddings (the split of minGPT and nanoGPT's first
// configure_optimizers; the tied output layer is the token embedding, so it is not decayed).
func (m *Model) DecayMask() []bool {
	mask := make([]bool, len(m.Params))
	d := m.Config.Dim
	set := func(off, n int) {
		for i := range n {
			mask[off+i] = true
		}
	}
	for _, b := range m.lay.blocks {
		set(b.wqkv, 3*d*d)
		set(b.wo, d*d)
		set(b.wfc, 4*d*d)
		set(b.wpr, 4*d*d)
	}
	return mask
}

// Temper divides the model's logits by temp for good: the final LayerNorm's gain and bias
// feed nothing but the tied output layer, so dividing them by temp makes the logits z/temp
// (up to rounding) and softmax of the result is temperature sampling at temp from m. A
// tempered reference is then a model like any other: the sampler at temperature 1, LogProbs,
// PPO's ratio and KL penalty and DPO all read the one softmax that is sampled from, with no
// temperature to carry through them. The final hidden state (a value head's input) is divided
// by temp too.
func (m *Model) Temper(temp float64) error {
	if !(temp > 0) || math.IsInf(temp, 0) {
		return errorf("lm: temperature %v is not positive and finite", temp)
	}
	d := m.Config.Dim
	for i := range m.Params[m.lay.lnfg : m.lay.lnfg+d] {
		m.Params[m.lay.lnfg+i] /= temp
		m.Params[m.lay.lnfb+i] /= temp
	}
	if m.Config.OutBias {
		for i := range m.Config.Vocab {
			m.Params[m.lay.bout+i] /= temp
		}
	}
	return nil
}

// Clone returns an independent copy of m: the same shape and parameters. RL fine-tuning
// starts its policy as a clone of the frozen reference.
func (m *Model) Clone() *Model {
	c := &Model{Config: m.Config, Params: append([]float64(nil), m.Params...)}
	c.init()
	return c
}
