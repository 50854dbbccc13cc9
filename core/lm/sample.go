package lm

import (
	"math"
	"math/rand/v2"

	"github.com/prefer-rlhf/prefer/core/nn"
)

// Sampler generates from a Model one position at a time for a batch of sequences, keeping
// every block's keys and values (the KV cache) so that each new token costs one row of
// work per layer rather than a forward pass over the whole prefix. Its logits are those
// Forward computes for the same prefix, up to rounding.
type Sampler struct {
	m   *Model
	nb  int
	pos int         // positions filled so far
	k   [][]float64 // per block: nb×Ctx×Dim keys
	v   [][]float64 // per block: nb×Ctx×Dim values

	x, h, qkv, y, f, th, g, xh, rs, p []float64
	// Logits (nb×Vocab) and Hidden (nb×Dim) at the last fed position.
	Logits, Hidden []float64
	lp             []float64
	tape           nn.Tape
}

// NewSampler returns a Sampler for nb sequences.
func (m *Model) NewSampler(nb int) *Sampler {
	c := m.Config
	d := c.Dim
	s := &Sampler{m: m, nb: nb}
	for range c.Layers {
		s.k = append(s.k, make([]float64, nb*c.Ctx*d))
		s.v = append(s.v, make([]float64, nb*c.Ctx*d))
	}
	s.x, s.h, s.y = make([]float64, nb*d), make([]float64, nb*d), make([]float64, nb*d)
	s.qkv = make([]float64, nb*3*d)
	s.f, s.th, s.g = make([]float64, nb*4*d), make([]float64, nb*4*d), make([]float64, nb*4*d)
	s.xh, s.rs, s.p = make([]float64, nb*d), make([]float64, nb), make([]float64, c.Ctx)
	s.Logits, s.Hidden, s.lp = make([]float64, nb*c.Vocab), make([]float64, nb*d), make([]float64, c.Vocab)
	return s
}

// Reset empties the cache for new sequences.
func (s *Sampler) Reset() { s.pos = 0 }

// Pos is the number of positions fed since Reset.
func (s *Sampler) Pos() int { return s.pos }

// Feed appends one token to each sequence (tokens has nb entries) and computes the logits
// for the next position into s.Logits.
func (s *Sampler) Feed(tokens []int) error {
	m := s.m
	c, P, L := m.Config, m.Params, m.lay
	d, nb := c.Dim, s.nb
	if len(tokens) != nb {
		return errorf("lm: %d tokens for a batch of %d", len(tokens), nb)
	}
	if s.pos >= c.Ctx {
		return errorf("lm: context of %d positions is full", c.Ctx)
	}
	if err := m.checkTokens(tokens, nb); err != nil {
		return err
	}
	pos := s.pos
	for i, tok := range tokens {
		e, p, x := P[L.wte+tok*d:L.wte+tok*d+d], P[L.wpe+pos*d:L.wpe+pos*d+d], s.x[i*d:i*d+d]
		for j := range x {
			x[j] = e[j] + p[j]
		}
	}
	hd := d / c.Heads
	scale := 1 / math.Sqrt(float64(hd))
	for l, b := range L.blocks {
		layerNorm(s.h, s.xh, s.rs, s.x, P[b.ln1g:], P[b.ln1b:], nb, d)
		nn.DenseForward(s.qkv, s.h, P[b.wqkv:b.wqkv+3*d*d], P[b.bqkv:b.bqkv+3*d], nb, d, 3*d, &s.tape)
		K, Vc := s.k[l], s.v[l]
		for i := range nb {
			o := (i*c.Ctx + pos) * d
			copy(K[o:o+d], s.qkv[i*3*d+d:i*3*d+2*d])
			copy(Vc[o:o+d], s.qkv[i*3*d+2*d:i*3*d+3*d])
			for h := range c.Heads {
				q := s.qkv[i*3*d+h*hd : i*3*d+h*hd+hd]
				row := s.p[:pos+1]
				mx := math.Inf(-1)
				for j := range row {
					k := K[(i*c.Ctx+j)*d+h*hd : (i*c.Ctx+j)*d+h*hd+hd][:len(q)]
					sc := 0.0
					for cc, v := range q {
						sc += v * k[cc]
					}
					sc *= scale
					row[j] = sc
					mx = max(mx, sc)
				}
				softmaxInPlace(row, mx)
				out := s.y[i*d+h*hd : i*d+h*hd+hd]
				clear(out)
				for j, pj := range row {
					v := Vc[(i*c.Ctx+j)*d+h*hd : (i*c.Ctx+j)*d+h*hd+hd][:len(out)]
					for cc := range out {
						out[cc] += pj * v[cc]
					}
				}
			}
		}
		nn.DenseForward(s.h, s.y, P[b.wo:b.wo+d*d], P[b.bo:b.bo+d], nb, d, d, &s.tape)
		for i, v := range s.h {
			s.x[i] += v
		}
		layerNorm(s.h, s.xh, s.rs, s.x, P[b.ln2g:], P[b.ln2b:], nb, d)
		nn.DenseForward(s.f, s.h, P[b.wfc:b.wfc+4*d*d], P[b.bfc:b.bfc+4*d], nb, d, 4*d, &s.tape)
		gelu(s.g, s.th, s.f)
		nn.DenseForward(s.h, s.g, P[b.wpr:b.wpr+4*d*d], P[b.bpr:b.bpr+d], nb, 4*d, d, &s.tape)
		for i, v := range s.h {
			s.x[i] += v
		}
	}
	layerNorm(s.Hidden, s.xh, s.rs, s.x, P[L.lnfg:], P[L.lnfb:], nb, d)
	nn.DenseForward(s.Logits, s.Hidden, P[L.wte:L.wte+c.Vocab*d], m.zero, nb, d, c.Vocab, &s.tape)
	s.pos++
	return nil
}

// Draw samples one token per sequence from the last Feed's logits at temperature temp,
// writing the tokens and their log-probabilities (LogSoftmax, as LogProbs scores them).
func (s *Sampler) Draw(rng *rand.Rand, temp float64, tokens []int, logp []float64) {
	V := s.m.Config.Vocab
	for i := range s.nb {
		tokens[i], logp[i] = draw(rng, s.lp, s.Logits[i*V:(i+1)*V], temp)
	}
}

// draw samples an index from softmax(logits/temp) by inversion with one uniform number.
func draw(rng *rand.Rand, lp, logits []float64, temp float64) (int, float64) {
	LogSoftmax(lp, logits, temp)
	u := rng.Float64()
	acc := 0.0
	last := 0
	for k, v := range lp[:len(logits)] {
		if math.IsInf(v, -1) {
			continue
		}
		acc += math.Exp(v)
		last = k
		if u < acc {
			return k, v
		}
	}
	return last, lp[last] // rounding left u above the total
}

// Generate feeds each of the nb prompts (all of the same length, row-major in prompts) and
// then samples n tokens for each at temperature temp. It returns the sampled tokens and
// their log-probabilities, nb×n each. The prompt length plus n must fit in the context.
func (s *Sampler) Generate(rng *rand.Rand, prompts []int, n int, temp float64) (tokens []int, logp []float64, err error) {
	nb := s.nb
	if nb == 0 || len(prompts)%nb != 0 || len(prompts) == 0 {
		return nil, nil, errorf("lm: %d prompt tokens for a batch of %d", len(prompts), nb)
	}
	if !(temp > 0) || math.IsInf(temp, 0) {
		return nil, nil, errorf("lm: temperature %v is not positive and finite", temp)
	}
	tp := len(prompts) / nb
	if tp+n-1 > s.m.Config.Ctx {
		return nil, nil, errorf("lm: prompt %d + %d tokens exceed the context of %d", tp, n, s.m.Config.Ctx)
	}
	s.Reset()
	col := make([]int, nb)
	for j := range tp {
		for i := range nb {
			col[i] = prompts[i*tp+j]
		}
		if err := s.Feed(col); err != nil {
			return nil, nil, err
		}
	}
	tokens, logp = make([]int, nb*n), make([]float64, nb*n)
	lp := make([]float64, nb)
	for j := range n {
		if j > 0 {
			if err := s.Feed(col); err != nil {
				return nil, nil, err
			}
		}
		s.Draw(rng, temp, col, lp)
		for i := range nb {
			tokens[i*n+j], logp[i*n+j] = col[i], lp[i]
		}
	}
	return tokens, logp, nil
}
