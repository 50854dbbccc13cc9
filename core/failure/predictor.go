package failure

import (
	"fmt"
	"math"
)

// Predictor is a failure-probability predictor over x: logistic regression on the features
// (1, x, x²), so that it can learn both a direction (a push one way) and a size (any large
// push). Uesato et al. 2018 (§3.2) learn such a predictor from the failures of weaker agents,
// which fail often enough to learn from, and use it to find the target agent's rare failures.
type Predictor struct {
	W []float64 // weights of (1, x_1..x_d, x_1²..x_d²)
}

func features(x, phi []float64) {
	phi[0] = 1
	for i, v := range x {
		phi[1+i] = v
		phi[1+len(x)+i] = v * v
	}
}

// Prob returns the predicted failure probability of the episode x decides.
func (p *Predictor) Prob(x []float64) float64 {
	z := p.W[0]
	d := len(x)
	for i, v := range x {
		z += p.W[1+i]*v + p.W[1+d+i]*v*v
	}
	return 1 / (1 + math.Exp(-z))
}

// FitPredictor fits the predictor to episodes xs with outcomes fails by Newton's method
// (iteratively reweighted least squares) with an L2 penalty l2 on the non-constant weights.
func FitPredictor(xs [][]float64, fails []bool, l2 float64) (*Predictor, error) {
	if len(xs) == 0 || len(xs) != len(fails) {
		return nil, fmt.Errorf("failure: predictor needs episodes and outcomes of one length, got %d and %d", len(xs), len(fails))
	}
	d := len(xs[0])
	k := 1 + 2*d
	w := make([]float64, k)
	// Start the bias at the observed log-odds, so that few failures need few steps.
	pos := 0
	for _, f := range fails {
		if f {
			pos++
		}
	}
	rate := (float64(pos) + 0.5) / (float64(len(fails)) + 1)
	w[0] = math.Log(rate / (1 - rate))
	phi := make([]float64, k)
	for iter := 0; iter < 30; iter++ {
		g := make([]float64, k)
		h := make([]float64, k*k)
		for n, x := range xs {
			features(x, phi)
			z := 0.0
			for j, v := range phi {
				z += w[j] * v
			}
			p := 1 / (1 + math.Exp(-z))
			y := 0.0
			if fails[n] {
				y = 1
			}
			s := p * (1 - p)
			for a := 0; a < k; a++ {
				g[a] += (p - y) * phi[a]
				for b := 0; b <= a; b++ {
					h[a*k+b] += s * phi[a] * phi[b]
				}
			}
		}
		for a := 0; a < k; a++ {
			for b := 0; b < a; b++ {
				h[b*k+a] = h[a*k+b]
			}
			if a > 0 {
				g[a] += l2 * w[a]
				h[a*k+a] += l2
			}
			h[a*k+a] += 1e-9
		}
		step, err := solve(h, g, k)
		if err != nil {
			return nil, err
		}
		big := 0.0
		for j := range w {
			w[j] -= step[j]
			big = max(big, math.Abs(step[j]))
		}
		if big < 1e-8 {
			break
		}
	}
	return &Predictor{W: w}, nil
}

// solve solves the k×k system a·x = b by Gaussian elimination with partial pivoting; a and b
// are overwritten.
func solve(a, b []float64, k int) ([]float64, error) {
	for c := 0; c < k; c++ {
		piv := c
		for r := c + 1; r < k; r++ {
			if math.Abs(a[r*k+c]) > math.Abs(a[piv*k+c]) {
				piv = r
			}
		}
		if a[piv*k+c] == 0 {
			return nil, fmt.Errorf("failure: singular system fitting the predictor")
		}
		if piv != c {
			for j := 0; j < k; j++ {
				a[c*k+j], a[piv*k+j] = a[piv*k+j], a[c*k+j]
			}
			b[c], b[piv] = b[piv], b[c]
		}
		for r := c + 1; r < k; r++ {
			f := a[r*k+c] / a[c*k+c]
			for j := c; j < k; j++ {
				a[r*k+j] -= f * a[c*k+j]
			}
			b[r] -= f * b[c]
		}
	}
	x := make([]float64, k)
	for r := k - 1; r >= 0; r-- {
		s := b[r]
		for j := r + 1; j < k; j++ {
			s -= a[r*k+j] * x[j]
		}
		x[r] = s / a[r*k+r]
	}
	return x, nil
}
