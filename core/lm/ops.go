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

// attention is causal multi-head self-attention (Vaswani et al. 2017, eq. 1) over nb
// sequences of t positions. qkv holds each position's query, key and value (3d wide, heads
// side by side in each); y gets the n×d concatenated head outputs and p the attention weights
// (nb×heads×t×t, row i using only columns ≤ i).
func attention(y, p, qkv []float64, nb, t, d, heads int) {
	hd := d / heads
	scale := 1 / math.Sqrt(float64(hd))
	w := 3 * d
	for s := range nb {
		base := s * t
		for h := range heads {
			ph := p[(s*heads+h)*t*t:]
			for i := range t {
				q := qkv[(base+i)*w+h*hd : (base+i)*w+h*hd+hd]
				row := ph[i*t : i*t+i+1]
				mx := math.Inf(-1)
				for j := range row {
					k := qkv[(base+j)*w+d+h*hd : (base+j)*w+d+h*hd+hd][:len(q)]
					sc := 0.0
					for c, v := range q {
						sc += v * k[c]
					}
					sc *= scale
					row[j] = sc
					mx = max(mx, sc)
				}
				softmaxInPlace(row, mx)
				out := y[(base+i)*d+h*hd : (base+i)*d+h*hd+hd]
				clear(out)
				for j, pj := range row {
					v := qkv[(base+j)*w+2*d+h*hd : (base+j)*w+2*d+h*hd+hd][:len(out)]
					for c := range out {
						out[c] += pj * v[c]
					}
				}
			}
		}
	}
}

// attentionBack sets dqkv from dy through attention, given its kept weights p.
func attentionBack(dqkv, dy, p, qkv []float64, nb, t, d, heads int) {
	hd := d / heads
	scale := 1 / math.Sqrt(float64(hd))
	w := 3 * d
	clear(dqkv[:nb*t*w])
	dp := make([]float64, t)
	for s := range nb {
		base := s * t
		for h := range heads {
			ph := p[(s*heads+h)*t*t:]
			for i := range t {
				row := ph[i*t : i*t+i+1]
				dyi := dy[(base+i)*d+h*hd : (base+i)*d+h*hd+hd]
				// dp_j = dy_i·v_j and dv_j += p_ij·dy_i
				dot := 0.0
				for j, pj := range row {
					vo := (base+j)*w + 2*d + h*hd
					v := qkv[vo : vo+hd][:len(dyi)]
					dv := dqkv[vo : vo+hd][:len(dyi)]
					s := 0.0
					for c, g := range dyi {
						s += g * v[c]
						dv[c] += pj * g
					}
					dp[j] = s
					dot += pj * s
				}
				// softmax: ds_j = p_j·(dp_j − Σ p·dp); scores = q·k·scale
				qo := (base+i)*w + h*hd
				q := qkv[qo : qo+hd]
				dq := dqkv[qo : qo+hd][:len(q)]
				for j, pj := range row {
					ds := pj * (dp[j] - dot) * scale
					if ds == 0 {
						continue
					}
					ko := (base+j)*w + d + h*hd
					k := qkv[ko : ko+hd][:len(q)]
					dk := dqkv[ko : ko+hd][:len(q)]
					for c, v := range q {
						dq[c] += ds * k[c]
						dk[c] += ds * v
					}
				}
			}
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
