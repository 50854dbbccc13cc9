package reward

import "fmt"

// The flat parameter vector of a reward ensemble, as a private model update's delta is laid out
// (docs/api.md; the hub merges deltas, the browser's fitter makes them): the members in order, each member's network parameters in core/nn's order.
// Output normalisation is not part of it: the hub renormalises after merging.

// NumParams returns the length of m's flat parameter vector.
func NumParams(m *Model) int {
	n := 0
	for i := 0; i < m.Members(); i++ {
		n += len(m.Net(i).Params)
	}
	return n
}

// Params returns a copy of m's flat parameter vector.
func Params(m *Model) []float64 {
	out := make([]float64, 0, NumParams(m))
	for i := 0; i < m.Members(); i++ {
		out = append(out, m.Net(i).Params...)
	}
	return out
}

// AddParams adds delta to m's parameters in place.
func AddParams(m *Model, delta []float64) error {
	if len(delta) != NumParams(m) {
		return fmt.Errorf("reward: delta has %d values, the model %d parameters", len(delta), NumParams(m))
	}
	off := 0
	for i := 0; i < m.Members(); i++ {
		p := m.Net(i).Params
		for j := range p {
			p[j] += delta[off+j]
		}
		off += len(p)
	}
	return nil
}
