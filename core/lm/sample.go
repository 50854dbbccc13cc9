package lm

import (
	"math"
	"math/rand/v2"
	"sync"

	"github.com/prefer-rlhf/prefer/core/nn"
)

// Sampler generates from a Model one position at a time for a batch of sequences, keeping
// every block's keys and values (the KV cache) so that each new token costs one row of
// work per layer rather than a forward pass over the whole prefix. Its logits are those
// Forward computes for the same prefix, up to rounding.
type Sampler struct {
	m      *Model
	nb     int
	pos    int // positions filled so far
	shards []*shard
	// Logits (nb×Vocab) and Hidden (nb×Dim) at the last fed position.
	Logits, Hidden []float64
	lp, ex         []float64
}

// shard is the cache and scratch of a contiguous range of the batch's sequences: shards
// compute concurrently, each on its own rows.
type shard struct {
	nb                                int
	k                                 [][]float64 // per block: nb×Ctx×Dim keys
	v                                 [][]float64 // per block: nb×Ctx×Dim values
	x, h, qkv, y, f, th, g, xh, rs, p []float64
	logits, hidden                    []float64 // views of the Sampler's rows
	tape                              nn.Tape
}

// NewSampler returns a Sampler for nb sequences that computes on one goroutine.
func (m *Model) NewSampler(nb int) *Sampler { return m.NewParallelSampler(nb, 1) }

// NewParallelSampler returns a Sampler for nb sequences split over up to workers goroutines
// at each position. Draws stay sequential on one generator, so the samples do not depend on
// workers (the rows' arithmetic is the same; only the dense kernels' row blocking changes).
func (m *Model) NewParallelSampler(nb, workers int) *Sampler {
	c := m.Config
	d := c.Dim
	s := &Sampler{m: m, nb: nb}
	s.Logits, s.Hidden = make([]float64, nb*c.Vocab), make([]float64, nb*d)
	s.lp, s.ex = make([]float64, c.Vocab), make([]float64, c.Vocab)
	w := max(1, min(workers, nb))
	for i := range w {
		lo, hi := i*nb/w, (i+1)*nb/w
		n := hi - lo
		sh := &shard{nb: n}
		for range c.Layers {
			sh.k = append(sh.k, make([]float64, n*c.Ctx*d))
			sh.v = append(sh.v, make([]float64, n*c.Ctx*d))
		}
		sh.x, sh.h, sh.y = make([]float64, n*d), make([]float64, n*d), make([]float64, n*d)
		sh.qkv = make([]float64, n*3*d)
		sh.f, sh.th, sh.g = make([]float64, n*4*d), make([]float64, n*4*d), make([]float64, n*4*d)
		sh.xh, sh.rs, sh.p = make([]float64, n*d), make([]float64, n), make([]float64, c.Ctx)
		sh.logits, sh.hidden = s.Logits[lo*c.Vocab:hi*c.Vocab], s.Hidden[lo*d:hi*d]
		s.shards = append(s.shards, sh)
	}
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
	c, nb := m.Config, s.nb
	if len(tokens) != nb {
		return errorf("lm: %d tokens for a batch of %d", len(tokens), nb)
	}
	if s.pos >= c.Ctx {
		return errorf("lm: context of %d positions is full", c.Ctx)
	}
	if err := m.checkTokens(tokens, nb); err != nil {
		return err
	}
	if len(s.shards) == 1 {
		s.shards[0].feed(s.m, tokens, s.pos)
	} else {
		var wg sync.WaitGroup
		lo := 0
		for _, sh := range s.shards {
			toks := tokens[lo : lo+sh.nb]
			wg.Go(func() { sh.feed(s.m, toks, s.pos) })
			lo += sh.nb
		}
		wg.Wait()
	}
	s.pos++
	return nil
}

// Draw samples one token per sequence from the last Feed's logits at temperature temp,
// writing the tokens and their log-probabilities (LogSoftmax, as LogProbs scores them).
func (s *Sampler) Draw(rng *rand.Rand, temp float64, tokens []int, logp []float64) {
	V := s.m.Config.Vocab
	for i := range s.nb {
		tokens[i], logp[i] = draw(rng, s.lp, s.ex, s.Logits[i*V:(i+1)*V], temp)
	}
}

// draw samples an index from softmax(logits/temp) by inversion with one uniform number and
// returns it with its log-probability as LogSoftmax gives it. ex is scratch.
func draw(rng *rand.Rand, lp, ex, logits []float64, temp float64) (int, float64) {
	sum := logSoftmax(lp, ex, logits, temp)
	u := rng.Float64() * sum
	acc := 0.0
	last := 0
	for k, e := range ex[:len(logits)] {
		if e == 0 {
			continue
		}
		acc += e
		last = k
		if u < acc {
			return k, lp[k]
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

// feed is Feed on the shard's rows.
func (sh *shard) feed(m *Model, tokens []int, pos int) {
	c, P, L := m.Config, m.Params, m.lay
	d, nb := c.Dim, sh.nb
	for i, tok := range tokens {
		e, p, x := P[L.wte+tok*d:L.wte+tok*d+d], P[L.wpe+pos*d:L.wpe+pos*d+d], sh.x[i*d:i*d+d]
		for j := range x {
			x[j] = e[j] + p[j]
		}
	}
	hd := d / c.Heads
	scale := 1 / math.Sqrt(float64(hd))
	for l, b := range L.blocks {
		layerNorm(sh.h, sh.xh, sh.rs, sh.x, P[b.ln1g:], P[b.ln1b:], nb, d)
		nn.DenseForward(sh.qkv, sh.h, P[b.wqkv:b.wqkv+3*d*d], P[b.bqkv:b.bqkv+3*d], nb, d, 3*d, &sh.tape)
		K, Vc := sh.k[l], sh.v[l]
		for i := range nb {
			o := (i*c.Ctx + pos) * d
			copy(K[o:o+d], sh.qkv[i*3*d+d:i*3*d+2*d])
			copy(Vc[o:o+d], sh.qkv[i*3*d+2*d:i*3*d+3*d])
			for h := range c.Heads {
				q := sh.qkv[i*3*d+h*hd : i*3*d+h*hd+hd]
				row := sh.p[:pos+1]
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
				out := sh.y[i*d+h*hd : i*d+h*hd+hd]
				clear(out)
				for j, pj := range row {
					v := Vc[(i*c.Ctx+j)*d+h*hd : (i*c.Ctx+j)*d+h*hd+hd][:len(out)]
					for cc := range out {
						out[cc] += pj * v[cc]
					}
				}
			}
		}
		nn.DenseForward(sh.h, sh.y, P[b.wo:b.wo+d*d], P[b.bo:b.bo+d], nb, d, d, &sh.tape)
		for i, v := range sh.h {
			sh.x[i] += v
		}
		layerNorm(sh.h, sh.xh, sh.rs, sh.x, P[b.ln2g:], P[b.ln2b:], nb, d)
		nn.DenseForward(sh.f, sh.h, P[b.wfc:b.wfc+4*d*d], P[b.bfc:b.bfc+4*d], nb, d, 4*d, &sh.tape)
		gelu(sh.g, sh.th, sh.f)
		nn.DenseForward(sh.h, sh.g, P[b.wpr:b.wpr+4*d*d], P[b.bpr:b.bpr+d], nb, 4*d, d, &sh.tape)
		for i, v := range sh.h {
			sh.x[i] += v
		}
	}
	layerNorm(sh.hidden, sh.xh, sh.rs, sh.x, P[L.lnfg:], P[L.lnfb:], nb, d)
	nn.DenseForward(sh.logits, sh.hidden, P[L.wte:L.wte+c.Vocab*d], m.outBias(), nb, d, c.Vocab, &sh.tape)
}
