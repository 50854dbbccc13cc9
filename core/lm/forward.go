package lm

import (
	"fmt"

	"github.com/prefer-rlhf/prefer/core/nn"
)

// Workspace holds one forward pass's activations for the backward pass, and scratch. A
// Workspace serves one goroutine; reuse it across calls to avoid allocation.
type Workspace struct {
	nb, t  int   // sequences and positions of the last Forward
	tokens []int // nb×t token ids

	// Logits (nb·t × Vocab) and Hidden (nb·t × Dim, the final LayerNorm's output, what the
	// tied output layer reads: the features for a value or reward head) of the last Forward.
	Logits, Hidden []float64

	x0    []float64 // embeddings
	lay   []acts
	xhatF []float64
	rstdF []float64

	dx, dh, dbig, dqkv, dy, dlog, ex []float64 // backward scratch
	tape                             nn.Tape
	attn                             attnScratch
}

// acts are one block's saved activations.
type acts struct {
	xin, xhat1, rstd1, h1, qkv, p, y, xmid, xhat2, rstd2, h2, f, th, g, out []float64
}

func grow(b []float64, n int) []float64 {
	if cap(b) < n {
		return make([]float64, n)
	}
	return b[:n]
}

// Forward runs the model on nb sequences of t tokens each (tokens is nb×t, row-major) and
// leaves the logits and final hidden states in ws.Logits and ws.Hidden, position i's logits
// predicting token i+1.
func (m *Model) Forward(ws *Workspace, tokens []int, nb, t int) error {
	c := m.Config
	if t < 1 || t > c.Ctx {
		return fmt.Errorf("lm: sequence length %d outside [1, %d]", t, c.Ctx)
	}
	if len(tokens) != nb*t {
		return fmt.Errorf("lm: %d tokens for %d×%d", len(tokens), nb, t)
	}
	for _, tok := range tokens {
		if tok < 0 || tok >= c.Vocab {
			return fmt.Errorf("lm: token %d outside [0, %d)", tok, c.Vocab)
		}
	}
	m.forward(ws, tokens, nb, t)
	return nil
}

func (m *Model) forward(ws *Workspace, tokens []int, nb, t int) {
	c, P, L := m.Config, m.Params, m.lay
	d, n := c.Dim, nb*t
	ws.nb, ws.t, ws.tokens = nb, t, append(ws.tokens[:0], tokens...)
	ws.x0 = grow(ws.x0, n*d)
	for i, tok := range tokens {
		pos := i % t
		e, p, x := P[L.wte+tok*d:L.wte+tok*d+d], P[L.wpe+pos*d:L.wpe+pos*d+d], ws.x0[i*d:i*d+d]
		for j := range x {
			x[j] = e[j] + p[j]
		}
	}
	for len(ws.lay) < c.Layers {
		ws.lay = append(ws.lay, acts{})
	}
	x := ws.x0
	for l, b := range L.blocks {
		a := &ws.lay[l]
		a.xin = x
		a.xhat1, a.rstd1, a.h1 = grow(a.xhat1, n*d), grow(a.rstd1, n), grow(a.h1, n*d)
		layerNorm(a.h1, a.xhat1, a.rstd1, x, P[b.ln1g:], P[b.ln1b:], n, d)
		a.qkv = grow(a.qkv, n*3*d)
		nn.DenseForward(a.qkv, a.h1, P[b.wqkv:b.wqkv+3*d*d], P[b.bqkv:b.bqkv+3*d], n, d, 3*d, &ws.tape)
		a.p, a.y = grow(a.p, nb*c.Heads*t*t), grow(a.y, n*d)
		attention(a.y, a.p, a.qkv, nb, t, d, c.Heads, &ws.attn)
		a.xmid = grow(a.xmid, n*d)
		nn.DenseForward(a.xmid, a.y, P[b.wo:b.wo+d*d], P[b.bo:b.bo+d], n, d, d, &ws.tape)
		for i, v := range x[:n*d] {
			a.xmid[i] += v
		}
		a.xhat2, a.rstd2, a.h2 = grow(a.xhat2, n*d), grow(a.rstd2, n), grow(a.h2, n*d)
		layerNorm(a.h2, a.xhat2, a.rstd2, a.xmid, P[b.ln2g:], P[b.ln2b:], n, d)
		a.f, a.th, a.g = grow(a.f, n*4*d), grow(a.th, n*4*d), grow(a.g, n*4*d)
		nn.DenseForward(a.f, a.h2, P[b.wfc:b.wfc+4*d*d], P[b.bfc:b.bfc+4*d], n, d, 4*d, &ws.tape)
		gelu(a.g, a.th, a.f)
		a.out = grow(a.out, n*d)
		next := a.out
		nn.DenseForward(next, a.g, P[b.wpr:b.wpr+4*d*d], P[b.bpr:b.bpr+d], n, 4*d, d, &ws.tape)
		for i, v := range a.xmid[:n*d] {
			next[i] += v
		}
		x = next
	}
	ws.xhatF, ws.rstdF, ws.Hidden = grow(ws.xhatF, n*d), grow(ws.rstdF, n), grow(ws.Hidden, n*d)
	layerNorm(ws.Hidden, ws.xhatF, ws.rstdF, x, P[L.lnfg:], P[L.lnfb:], n, d)
	ws.Logits = grow(ws.Logits, n*c.Vocab)
	nn.DenseForward(ws.Logits, ws.Hidden, P[L.wte:L.wte+c.Vocab*d], m.outBias(), n, d, c.Vocab, &ws.tape)
}

// Backward adds to grad the gradient of a loss whose gradient with respect to the last
// Forward's logits is dLogits (n×Vocab) and with respect to its hidden states dHidden
// (n×Dim, or nil when the loss does not read them). Both are left unchanged.
func (m *Model) Backward(ws *Workspace, dLogits, dHidden, grad []float64) {
	c, P, L := m.Config, m.Params, m.lay
	d, n, nb, t := c.Dim, ws.nb*ws.t, ws.nb, ws.t
	V := c.Vocab
	ws.dh = grow(ws.dh, n*d)
	if dLogits != nil {
		nn.DenseWeights(grad[L.wte:L.wte+V*d], dLogits, ws.Hidden, n, d, V, &ws.tape)
		nn.DenseInputs(ws.dh, dLogits, P[L.wte:L.wte+V*d], n, d, V, &ws.tape)
		if c.OutBias {
			addBias(grad[L.bout:], dLogits, n, V)
		}
	} else {
		clear(ws.dh)
	}
	if dHidden != nil {
		for i, v := range dHidden[:n*d] {
			ws.dh[i] += v
		}
	}
	ws.dx = grow(ws.dx, n*d)
	clear(ws.dx)
	layerNormBack(ws.dx, grad[L.lnfg:], grad[L.lnfb:], ws.dh, ws.xhatF, ws.rstdF, P[L.lnfg:], n, d)
	dx := ws.dx // gradient of the residual stream, updated in place going down
	ws.dbig = grow(ws.dbig, n*4*d)
	ws.dqkv = grow(ws.dqkv, n*3*d)
	ws.dy = grow(ws.dy, n*d)
	for l := len(L.blocks) - 1; l >= 0; l-- {
		b, a := L.blocks[l], &ws.lay[l]
		// MLP: out = xmid + W_pr·gelu(W_fc·ln2(xmid))
		nn.DenseWeights(grad[b.wpr:b.wpr+4*d*d], dx, a.g, n, 4*d, d, &ws.tape)
		addBias(grad[b.bpr:], dx, n, d)
		nn.DenseInputs(ws.dbig, dx, P[b.wpr:b.wpr+4*d*d], n, 4*d, d, &ws.tape)
		geluBack(ws.dbig, ws.dbig, a.f, a.th)
		nn.DenseWeights(grad[b.wfc:b.wfc+4*d*d], ws.dbig, a.h2, n, d, 4*d, &ws.tape)
		addBias(grad[b.bfc:], ws.dbig, n, 4*d)
		nn.DenseInputs(ws.dh, ws.dbig, P[b.wfc:b.wfc+4*d*d], n, d, 4*d, &ws.tape)
		layerNormBack(dx, grad[b.ln2g:], grad[b.ln2b:], ws.dh, a.xhat2, a.rstd2, P[b.ln2g:], n, d)
		// attention: xmid = xin + W_o·attn(W_qkv·ln1(xin))
		nn.DenseWeights(grad[b.wo:b.wo+d*d], dx, a.y, n, d, d, &ws.tape)
		addBias(grad[b.bo:], dx, n, d)
		nn.DenseInputs(ws.dy, dx, P[b.wo:b.wo+d*d], n, d, d, &ws.tape)
		attentionBack(ws.dqkv, ws.dy, a.p, a.qkv, nb, t, d, c.Heads, &ws.attn)
		nn.DenseWeights(grad[b.wqkv:b.wqkv+3*d*d], ws.dqkv, a.h1, n, d, 3*d, &ws.tape)
		addBias(grad[b.bqkv:], ws.dqkv, n, 3*d)
		nn.DenseInputs(ws.dh, ws.dqkv, P[b.wqkv:b.wqkv+3*d*d], n, d, 3*d, &ws.tape)
		layerNormBack(dx, grad[b.ln1g:], grad[b.ln1b:], ws.dh, a.xhat1, a.rstd1, P[b.ln1g:], n, d)
	}
	for i, tok := range ws.tokens {
		pos := i % t
		g := dx[i*d : i*d+d]
		ge, gp := grad[L.wte+tok*d:L.wte+tok*d+d], grad[L.wpe+pos*d:L.wpe+pos*d+d]
		for j, v := range g {
			ge[j] += v
			gp[j] += v
		}
	}
}

func errorf(format string, a ...any) error { return fmt.Errorf(format, a...) }
