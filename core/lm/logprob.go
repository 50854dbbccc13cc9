package lm

import "math"

// LogProbs runs the model on nb sequences of t tokens and sets dst (nb×(t−1)) to each token's
// log-probability under the policy at temperature temp given the tokens before it:
// dst[i·(t−1)+j] = log p(tokens[i·t+j+1] | tokens[i·t : i·t+j+1]). ws.Hidden then holds the
// hidden state at every position (nb×t×Dim), for a value head. PPO and DPO score given
// continuations with it; Sampler draws from the same distribution (LogSoftmax).
func (m *Model) LogProbs(ws *Workspace, tokens []int, nb, t int, temp float64, dst []float64) error {
	if t < 2 {
		return errorf("lm: sequence length %d < 2 has no next token to score", t)
	}
	if !(temp > 0) || math.IsInf(temp, 0) {
		return errorf("lm: temperature %v is not positive and finite", temp)
	}
	if len(dst) != nb*(t-1) {
		return errorf("lm: dst has %d elements for %d×%d", len(dst), nb, t-1)
	}
	if err := m.Forward(ws, tokens, nb, t); err != nil {
		return err
	}
	V := m.Config.Vocab
	ws.dlog = grow(ws.dlog, V)
	for i := range nb {
		for j := range t - 1 {
			r := i*t + j
			LogSoftmax(ws.dlog, ws.Logits[r*V:(r+1)*V], temp)
			dst[i*(t-1)+j] = ws.dlog[tokens[r+1]]
		}
	}
	return nil
}

// LogProbsBackward adds to grad the gradient of Σ dLogp·logp + Σ dHidden·Hidden for the
// log-probabilities of the last LogProbs call on ws (same tokens and temp): dLogp is
// nb×(t−1), dHidden nb×t×Dim or nil. With z the logits and p = softmax(z/temp),
// ∂log p_y/∂z = (onehot(y) − p)/temp.
func (m *Model) LogProbsBackward(ws *Workspace, temp float64, dLogp, dHidden, grad []float64) error {
	return m.LogProbsBackwardLogits(ws, temp, dLogp, nil, dHidden, grad)
}

// LogProbsBackwardLogits is LogProbsBackward for a loss that also reads the whole next-token
// distribution, such as an exact KL to a reference: dLogits (nb·t × Vocab, or nil), the loss's
// gradient with respect to the last LogProbs call's logits, is added to the log-probabilities',
// in place: it is scratch, and holds the logits' whole gradient on return.
func (m *Model) LogProbsBackwardLogits(ws *Workspace, temp float64, dLogp, dLogits, dHidden, grad []float64) error {
	nb, t := ws.nb, ws.t
	if len(dLogp) != nb*(t-1) {
		return errorf("lm: dLogp has %d elements for %d×%d", len(dLogp), nb, t-1)
	}
	V := m.Config.Vocab
	n := nb * t
	if dLogits != nil && len(dLogits) != n*V {
		return errorf("lm: dLogits has %d elements for %d×%d", len(dLogits), n, V)
	}
	dl := dLogits
	if dl == nil {
		dl = make([]float64, n*V)
	}
	for i := range nb {
		for j := range t - 1 {
			r := i*t + j
			w := dLogp[i*(t-1)+j]
			if w == 0 {
				continue
			}
			row := dl[r*V : (r+1)*V]
			ws.dlog = grow(ws.dlog, V)
			LogSoftmax(ws.dlog, ws.Logits[r*V:(r+1)*V], temp)
			for k, v := range ws.dlog {
				row[k] -= math.Exp(v) * w / temp
			}
			row[ws.tokens[r+1]] += w / temp
		}
	}
	m.Backward(ws, dl, dHidden, grad)
	return nil
}
