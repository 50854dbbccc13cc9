package ppo

import "math"

// RunningStat tracks the mean and variance of a stream of vectors, merged a batch at a time
// with Chan et al.'s parallel algorithm, as Gymnasium's RunningMeanStd (which starts from
// count 1e-4, mean 0, variance 1 so that the first normalisations are gentle).
type RunningStat struct {
	Mean  []float64
	Var   []float64 // population variance, > 0
	Count float64
}

// NewRunningStat returns a RunningStat of dim coordinates in Gymnasium's initial state.
func NewRunningStat(dim int) *RunningStat {
	s := &RunningStat{Mean: make([]float64, dim), Var: make([]float64, dim), Count: 1e-4}
	for i := range s.Var {
		s.Var[i] = 1
	}
	return s
}

// Clone returns a deep copy of s.
func (s *RunningStat) Clone() *RunningStat {
	return &RunningStat{Mean: append([]float64(nil), s.Mean...), Var: append([]float64(nil), s.Var...), Count: s.Count}
}

// Update merges n rows of x (row-major, n×len(Mean)) into the statistics.
func (s *RunningStat) Update(x []float64, n int) {
	if n == 0 {
		return
	}
	d := len(s.Mean)
	for j := 0; j < d; j++ {
		mean := 0.0
		for i := 0; i < n; i++ {
			mean += x[i*d+j]
		}
		mean /= float64(n)
		m2 := 0.0
		for i := 0; i < n; i++ {
			v := x[i*d+j] - mean
			m2 += v * v
		}
		// Chan, Golub & LeVeque 1979: combine (count, mean, M2) of the two parts.
		tot := s.Count + float64(n)
		delta := mean - s.Mean[j]
		s.Mean[j] += delta * float64(n) / tot
		s.Var[j] = (s.Var[j]*s.Count + m2 + delta*delta*s.Count*float64(n)/tot) / tot
	}
	s.Count += float64(n)
}

// Normalize writes (x − mean)/√(var + 1e-8), clipped to ±clip when clip > 0, for n rows of
// x to out, as Gymnasium's NormalizeObservation followed by CleanRL's clip.
func (s *RunningStat) Normalize(x, out []float64, n int, clip float64) {
	d := len(s.Mean)
	for j := 0; j < d; j++ {
		m, inv := s.Mean[j], 1/math.Sqrt(s.Var[j]+1e-8)
		for i := 0; i < n; i++ {
			v := (x[i*d+j] - m) * inv
			if clip > 0 {
				v = max(-clip, min(clip, v))
			}
			out[i*d+j] = v
		}
	}
}
