package sweep

import (
	"fmt"
	"math"
)

// Gao is Gao et al. 2022's functional form for the true ("gold") reward of a policy
// optimised by RL against a learned reward, as a function of d = √KL(π ‖ π_init)
// ("Scaling Laws for Reward Model Overoptimization", eq. 2, RL):
//
//	R(d) = d (α - β log d)
//
// measured from the initial policy's reward (R(0) = 0). It rises, peaks at d* = exp(α/β - 1)
// with R(d*) = β d*, and falls after: the over-optimisation.
type Gao struct {
	Alpha, Beta float64
}

// At is R(d); R(0) = 0.
func (g Gao) At(d float64) float64 {
	if d == 0 {
		return 0
	}
	return d * (g.Alpha - g.Beta*math.Log(d))
}

// Peak returns d* = exp(α/β - 1), where dR/dd = α - β - β log d = 0, and R(d*) = β d*. With
// β <= 0 the curve never turns down and ok is false.
func (g Gao) Peak() (d, r float64, ok bool) {
	if !(g.Beta > 0) {
		return math.NaN(), math.NaN(), false
	}
	d = math.Exp(g.Alpha/g.Beta - 1)
	return d, g.Beta * d, true
}

// FitGao fits α and β by least squares to points (dᵢ, Rᵢ) with dᵢ > 0: R is linear in them,
// R = α·d + β·(-d log d), so the fit solves the 2×2 normal equations. Rᵢ should be measured
// from the initial policy's reward.
func FitGao(d, r []float64) (Gao, error) {
	if len(d) != len(r) {
		return Gao{}, fmt.Errorf("sweep: %d distances and %d rewards", len(d), len(r))
	}
	var s11, s12, s22, b1, b2 float64
	n := 0
	for i := range d {
		if !(d[i] > 0) || math.IsNaN(r[i]) || math.IsInf(d[i], 0) || math.IsInf(r[i], 0) {
			continue
		}
		x1, x2 := d[i], -d[i]*math.Log(d[i])
		s11 += x1 * x1
		s12 += x1 * x2
		s22 += x2 * x2
		b1 += x1 * r[i]
		b2 += x2 * r[i]
		n++
	}
	det := s11*s22 - s12*s12
	if n < 2 || !(math.Abs(det) > 1e-12*s11*s22) {
		return Gao{}, fmt.Errorf("sweep: need points at two or more distinct positive distances, got %d", n)
	}
	return Gao{Alpha: (b1*s22 - b2*s12) / det, Beta: (s11*b2 - s12*b1) / det}, nil
}
