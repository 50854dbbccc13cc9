package nn

import "math"

// Adam is the Adam optimiser (Kingma & Ba 2015, Algorithm 1) over a flat parameter vector.
type Adam struct {
	LR    float64 // step size α
	Beta1 float64 // decay of the first moment, 0.9
	Beta2 float64 // decay of the second moment, 0.999
	Eps   float64 // ε; 1e-5 as CleanRL's PPO, 1e-8 as the paper
	M, V  []float64
	T     int // steps taken
}

// NewAdam returns Adam for n parameters with PyTorch's defaults but the given step size.
func NewAdam(n int, lr float64) *Adam {
	return &Adam{LR: lr, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, M: make([]float64, n), V: make([]float64, n)}
}

// Step updates params in place by one Adam step on grad.
func (a *Adam) Step(params, grad []float64) {
	a.T++
	c1 := 1 - math.Pow(a.Beta1, float64(a.T))
	c2 := 1 - math.Pow(a.Beta2, float64(a.T))
	step := a.LR * math.Sqrt(c2) / c1
	for i, g := range grad {
		m := a.Beta1*a.M[i] + (1-a.Beta1)*g
		v := a.Beta2*a.V[i] + (1-a.Beta2)*g*g
		a.M[i], a.V[i] = m, v
		params[i] -= step * m / (math.Sqrt(v) + a.Eps*math.Sqrt(c2))
	}
}

// ClipGradNorm scales grad in place so its L2 norm is at most max, and returns the norm it had.
func ClipGradNorm(grad []float64, max float64) float64 {
	s := 0.0
	for _, g := range grad {
		s += g * g
	}
	norm := math.Sqrt(s)
	if norm > max && norm > 0 {
		f := max / norm
		for i := range grad {
			grad[i] *= f
		}
	}
	return norm
}
