package nn

import (
	"math"
	"math/rand/v2"
)

// InitOrthogonal sets every weight matrix to a random (semi-)orthogonal matrix scaled by a gain
// (Saxe et al. 2014), hiddenGain for the hidden layers and outputGain for the last, and every
// bias to zero, as CleanRL's layer_init does (gains √2 or 1 for hidden layers, 0.01 for a
// policy head, 1 for a value head).
func (m *MLP) InitOrthogonal(rng *rand.Rand, hiddenGain, outputGain float64) {
	L := len(m.Sizes) - 1
	for l := 0; l < L; l++ {
		w, b := m.Layer(l)
		gain := hiddenGain
		if l == L-1 {
			gain = outputGain
		}
		orthogonal(rng, w, m.Sizes[l+1], m.Sizes[l], gain)
		clear(b)
	}
}

// orthogonal fills w (rows×cols, row-major) with a random matrix whose rows (if rows <= cols)
// or columns (otherwise) are orthonormal, times gain: a Gaussian matrix orthonormalised by
// modified Gram-Schmidt, which gives the same (Haar) distribution as QR with sign correction.
func orthogonal(rng *rand.Rand, w []float64, rows, cols int, gain float64) {
	for i := range w {
		w[i] = rng.NormFloat64()
	}
	// Orthonormalise the shorter side's vectors: rows if rows <= cols, else columns.
	nv, dim := rows, cols
	at := func(v, k int) *float64 { return &w[v*cols+k] }
	if rows > cols {
		nv, dim = cols, rows
		at = func(v, k int) *float64 { return &w[k*cols+v] }
	}
	for v := 0; v < nv; v++ {
		for u := 0; u < v; u++ {
			dot := 0.0
			for k := 0; k < dim; k++ {
				dot += *at(v, k) * *at(u, k)
			}
			for k := 0; k < dim; k++ {
				*at(v, k) -= dot * *at(u, k)
			}
		}
		norm := 0.0
		for k := 0; k < dim; k++ {
			norm += *at(v, k) * *at(v, k)
		}
		norm = math.Sqrt(norm)
		for k := 0; k < dim; k++ {
			*at(v, k) /= norm
		}
	}
	for i := range w {
		w[i] *= gain
	}
}
