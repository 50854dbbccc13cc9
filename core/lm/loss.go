package lm

import (
	"math"
)

// LogSoftmax sets dst to log softmax(logits/temp), the policy's log-probabilities at one
// position. Scoring (LogProbs, the loss) and sampling (Sampler) both go through it, so a
// sampled token's log-probability is exactly the one the policy scores it with.
func LogSoftmax(dst, logits []float64, temp float64) { logSoftmax(dst, nil, logits, temp) }

// logSoftmax is LogSoftmax that also leaves exp(logits/temp − max) in ex (if non-nil) and
// returns their sum, for sampling without a second exponential.
func logSoftmax(dst, ex, logits []float64, temp float64) float64 {
	inv := 1 / temp
	mx := math.Inf(-1)
	for _, v := range logits {
		mx = max(mx, v*inv)
	}
	sum := 0.0
	if ex != nil {
		ex = ex[:len(logits)]
		for i, v := range logits {
			e := math.Exp(v*inv - mx)
			ex[i] = e
			sum += e
		}
	} else {
		for _, v := range logits {
			sum += math.Exp(v*inv - mx)
		}
	}
	lse := mx + math.Log(sum)
	dst = dst[:len(logits)]
	for i, v := range logits {
		dst[i] = v*inv - lse
	}
	return sum
}

// nll runs Forward on inputs (nb×t) and returns scale times the summed negative
// log-likelihood of targets (nb×t, the next tokens); with grad non-nil it also adds the
// gradient of that scaled sum.
func (m *Model) nll(ws *Workspace, inputs, targets []int, nb, t int, scale float64, grad []float64) float64 {
	m.forward(ws, inputs, nb, t)
	V := m.Config.Vocab
	n := nb * t
	ws.dlog = grow(ws.dlog, n*V)
	ws.ex = grow(ws.ex, V)
	loss := 0.0
	for i := range n {
		lp := ws.dlog[i*V : (i+1)*V]
		sum := logSoftmax(lp, ws.ex, ws.Logits[i*V:(i+1)*V], 1)
		loss -= lp[targets[i]]
		if grad != nil {
			// d(−log p_y)/dz = softmax(z) − onehot(y)
			f := scale / sum
			for j, e := range ws.ex {
				lp[j] = e * f
			}
			lp[targets[i]] -= scale
		}
	}
	if grad != nil {
		m.Backward(ws, ws.dlog[:n*V], nil, grad)
	}
	return loss * scale
}

// Loss returns the mean next-token cross-entropy (nats per token) of targets given inputs,
// both nb×t, and adds its gradient to grad when grad is non-nil.
func (m *Model) Loss(ws *Workspace, inputs, targets []int, nb, t int, grad []float64) (float64, error) {
	if err := m.Forward(ws, inputs, nb, t); err != nil {
		return 0, err
	}
	if err := m.checkTokens(targets, nb*t); err != nil {
		return 0, err
	}
	return m.nll(ws, inputs, targets, nb, t, 1/float64(nb*t), grad), nil
}

func (m *Model) checkTokens(tokens []int, n int) error {
	if len(tokens) != n {
		return errorf("lm: %d targets for %d positions", len(tokens), n)
	}
	for _, tok := range tokens {
		if tok < 0 || tok >= m.Config.Vocab {
			return errorf("lm: token %d outside [0, %d)", tok, m.Config.Vocab)
		}
	}
	return nil
}
