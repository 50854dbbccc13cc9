package lm

import (
	"math"

	"github.com/prefer-rlhf/prefer/core/nn"
)

// lnEps is LayerNorm's ε (Ba et al. 2016), PyTorch's default.
const lnEps = 1e-5

// layerNorm normalises each of the n rows of x (width d) to zero mean and unit variance,
// then scales by g and shifts by b: y = x̂·g + b. It keeps x̂ and 1/σ for the backward pass.
func layerNorm(y, xhat, rstd, x, g, b []float64, n, d int) {
	for i := range n {
		row := x[i*d : (i+1)*d]
		mean := 0.0
		for _, v := range row {
			mean += v
		}
		mean /= float64(d)
		vr := 0.0
		for _, v := range row {
			vr += (v - mean) * (v - mean)
		}
		r := 1 / math.Sqrt(vr/float64(d)+lnEps)
		rstd[i] = r
		xh, yr := xhat[i*d:(i+1)*d], y[i*d:(i+1)*d]
		for j, v := range row {
			h := (v - mean) * r
			xh[j] = h
			yr[j] = h*g[j] + b[j]
		}
	}
}

// layerNormBack adds to dx the gradient through layerNorm of dy, and to dg and db the
// gradients of its gain and shift: with ĝ = dy·g, dx = (ĝ − mean(ĝ) − x̂·mean(ĝ·x̂))/σ.
func layerNormBack(dx, dg, db, dy, xhat, rstd, g []float64, n, d int) {
	for i := range n {
		dyr, xh, dxr := dy[i*d:(i+1)*d], xhat[i*d:(i+1)*d], dx[i*d:(i+1)*d]
		m1, m2 := 0.0, 0.0
		for j, v := range dyr {
			gh := v * g[j]
			m1 += gh
			m2 += gh * xh[j]
			dg[j] += v * xh[j]
			db[j] += v
		}
		m1 /= float64(d)
		m2 /= float64(d)
		r := rstd[i]
		for j, v := range dyr {
			dxr[j] += (v*g[j] - m1 - xh[j]*m2) * r
		}
	}
}

// GELU in GPT-2's tanh form (Hendrycks & Gimpel 2016, §2):
// gelu(x) = x/2·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
const (
	geluC = 0.7978845608028654 // √(2/π)
	geluA = 0.044715
)

// gelu sets y = gelu(x) elementwise and keeps t = tanh(·) for the backward pass.
func gelu(y, t, x []float64) {
	t = t[:len(x)]
	y = y[:len(x)]
	for i, v := range x {
		th := nn.FastTanh(geluC * (v + geluA*v*v*v))
		t[i] = th
		y[i] = 0.5 * v * (1 + th)
	}
}

// geluBack sets dx = dy·gelu'(x) from x and the kept tanh t.
func geluBack(dx, dy, x, t []float64) {
	dy = dy[:len(x)]
	t = t[:len(x)]
	dx = dx[:len(x)]
	for i, v := range x {
		th := t[i]
		dx[i] = dy[i] * (0.5*(1+th) + 0.5*v*(1-th*th)*geluC*(1+3*geluA*v*v))
	}
}

// addBias adds b to each of the n rows of g's bias gradient: gb += Σ rows of dy.
func addBias(gb, dy []float64, n, w int) {
	gb = gb[:w]
	for i := range n {
		for j, v := range dy[i*w : (i+1)*w] {
			gb[j] += v
		}
	}
}

// attnScratch holds one head's operands, gathered contiguous for the dense kernels.
type attnScratch struct {
	q, k, v, o, dq, dk, dv, zero, dp []float64
	tape                             nn.Tape
}

func (a *attnScratch) size(t, hd int) {
	a.q, a.k, a.v, a.o = grow(a.q, t*hd), grow(a.k, t*hd), grow(a.v, t*hd), grow(a.o, t*hd)
	a.dq, a.dk, a.dv = grow(a.dq, t*hd), grow(a.dk, t*hd), grow(a.dv, t*hd)
	a.zero = grow(a.zero, t)
	a.dp = grow(a.dp, t*t)
	clear(a.zero)
}

// gather copies head h's columns [off+h·hd, off+(h+1)·hd) of t rows of width w into dst (t×hd).
func gather(dst, src []float64, t, w, off, hd int) {
	for i := range t {
		copy(dst[i*hd:(i+1)*hd], src[i*w+off:i*w+off+hd])
	}
}

// scatter adds src (t×hd) into those columns of dst.
func scatter(dst, src []float64, t, w, off, hd int) {
	for i := range t {
		d := dst[i*w+off : i*w+off+hd]
		for c, v := range src[i*hd : (i+1)*hd] {
			d[c] += v
		}
	}
}

// attention is causal multi-head self-attention (Vaswani et al. 2017, eq. 1) over nb
// sequences of t positions. qkv holds each position's query, key and value (3d wide, heads
// side by side in each); y gets the n×d concatenated head outputs and p the attention weights
// (nb×heads×t×t, zero above the diagonal). Each head's products go through core/nn's dense
// kernels over the full t×t square: twice the arithmetic of the causal triangle, but several
// times the speed of scalar loops.
func attention(y, p, qkv []float64, nb, t, d, heads int, a *attnScratch) {
	hd := d / heads
	scale := 1 / math.Sqrt(float64(hd))
	w := 3 * d
	a.size(t, hd)
	for s := range nb {
		rows := qkv[s*t*w : (s+1)*t*w]
		for h := range heads {
			gather(a.q, rows, t, w, h*hd, hd)
			gather(a.k, rows, t, w, d+h*hd, hd)
			gather(a.v, rows, t, w, 2*d+h*hd, hd)
			ph := p[(s*heads+h)*t*t : (s*heads+h+1)*t*t]
			nn.DenseForward(ph, a.q, a.k, a.zero, t, hd, t, &a.tape) // scores q·kᵀ
			for i := range t {
				row := ph[i*t : (i+1)*t]
				mx := math.Inf(-1)
				for j := range row[:i+1] {
					row[j] *= scale
					mx = max(mx, row[j])
				}
				softmaxInPlace(row[:i+1], mx)
				clear(row[i+1:])
			}
			nn.DenseInputs(a.o, ph, a.v, t, hd, t, &a.tape) // o = p·v
			for i := range t {
				copy(y[(s*t+i)*d+h*hd:(s*t+i)*d+h*hd+hd], a.o[i*hd:(i+1)*hd])
			}
		}
	}
}

// attentionBack sets dqkv from dy through attention, given its kept weights p.
func attentionBack(dqkv, dy, p, qkv []float64, nb, t, d, heads int, a *attnScratch) {
	hd := d / heads
	scale := 1 / math.Sqrt(float64(hd))
	w := 3 * d
	a.size(t, hd)
	clear(dqkv[:nb*t*w])
	dp := a.dp
	for s := range nb {
		rows := qkv[s*t*w : (s+1)*t*w]
		drows := dqkv[s*t*w : (s+1)*t*w]
		for h := range heads {
			gather(a.q, rows, t, w, h*hd, hd)
			gather(a.k, rows, t, w, d+h*hd, hd)
			gather(a.v, rows, t, w, 2*d+h*hd, hd)
			gather(a.o, dy[s*t*d:(s+1)*t*d], t, d, h*hd, hd) // dO
			ph := p[(s*heads+h)*t*t : (s*heads+h+1)*t*t]
			nn.DenseForward(dp, a.o, a.v, a.zero, t, hd, t, &a.tape) // dp = dO·vᵀ
			clear(a.dv)
			nn.DenseWeights(a.dv, ph, a.o, t, hd, t, &a.tape) // dv = pᵀ·dO
			// softmax: ds_ij = p_ij·(dp_ij − Σ_j p_ij·dp_ij), times the score scale
			for i := range t {
				pr, dr := ph[i*t:(i+1)*t], dp[i*t:(i+1)*t]
				dot := 0.0
				for j, pj := range pr[:i+1] {
					dot += pj * dr[j]
				}
				for j, pj := range pr[:i+1] {
					dr[j] = pj * (dr[j] - dot) * scale
				}
				clear(dr[i+1:])
			}
			nn.DenseInputs(a.dq, dp, a.k, t, hd, t, &a.tape) // dq = ds·k
			clear(a.dk)
			nn.DenseWeights(a.dk, dp, a.q, t, hd, t, &a.tape) // dk = dsᵀ·q
			scatter(drows, a.dq, t, w, h*hd, hd)
			scatter(drows, a.dk, t, w, d+h*hd, hd)
			scatter(drows, a.dv, t, w, 2*d+h*hd, hd)
		}
	}
}

// softmaxInPlace replaces x by softmax(x) given its maximum.
func softmaxInPlace(x []float64, mx float64) {
	sum := 0.0
	for j, v := range x {
		e := math.Exp(v - mx)
		x[j] = e
		sum += e
	}
	inv := 1 / sum
	for j := range x {
		x[j] *= inv
	}
}
