package failure

import "math"

// ClopperPearson is the exact two-sided confidence interval at level 1-alpha for a binomial
// proportion with k successes in n trials (Clopper and Pearson 1934): the p at which seeing k
// or fewer (or k or more) has probability alpha/2. With k = 0 the upper end is instead the
// one-sided 1-alpha bound 1-alpha^(1/n), about 3/n at alpha = 0.05 (the rule of three).
func ClopperPearson(k, n int, alpha float64) (lo, hi float64) {
	if n <= 0 {
		return 0, 1
	}
	if k == 0 {
		return 0, 1 - math.Pow(alpha, 1/float64(n))
	}
	if k < n {
		// P(X >= k+1 | p) = I_p(k+1, n-k) = 1 - alpha/2 at the upper end.
		hi = bisect(func(p float64) float64 { return betaInc(float64(k+1), float64(n-k), p) }, 1-alpha/2)
	} else {
		hi = 1
	}
	// P(X >= k | p) = I_p(k, n-k+1) = alpha/2 at the lower end.
	lo = bisect(func(p float64) float64 { return betaInc(float64(k), float64(n-k+1), p) }, alpha/2)
	return lo, hi
}

// bisect finds p in [0, 1] with f(p) = y for f increasing.
func bisect(f func(float64) float64, y float64) float64 {
	a, b := 0.0, 1.0
	for i := 0; i < 200 && b-a > 1e-15*max(a, 1e-300); i++ {
		m := 0.5 * (a + b)
		if f(m) < y {
			a = m
		} else {
			b = m
		}
	}
	return 0.5 * (a + b)
}

// betaInc is the regularized incomplete beta function I_x(a, b), by Lentz's continued
// fraction (Numerical Recipes, 3rd ed., §6.4).
func betaInc(a, b, x float64) float64 {
	switch {
	case x <= 0:
		return 0
	case x >= 1:
		return 1
	}
	la, _ := math.Lgamma(a + b)
	lb, _ := math.Lgamma(a)
	lc, _ := math.Lgamma(b)
	front := math.Exp(la - lb - lc + a*math.Log(x) + b*math.Log1p(-x))
	if x < (a+1)/(a+b+2) {
		return front * betaCF(a, b, x) / a
	}
	return 1 - front*betaCF(b, a, 1-x)/b
}

func betaCF(a, b, x float64) float64 {
	const tiny = 1e-300
	qab, qap, qam := a+b, a+1, a-1
	c, d := 1.0, 1-qab*x/qap
	if math.Abs(d) < tiny {
		d = tiny
	}
	d = 1 / d
	h := d
	for m := 1; m <= 10000; m++ {
		fm := float64(m)
		aa := fm * (b - fm) * x / ((qam + 2*fm) * (a + 2*fm))
		d = 1 + aa*d
		if math.Abs(d) < tiny {
			d = tiny
		}
		c = 1 + aa/c
		if math.Abs(c) < tiny {
			c = tiny
		}
		d = 1 / d
		h *= d * c
		aa = -(a + fm) * (qab + fm) * x / ((a + 2*fm) * (qap + 2*fm))
		d = 1 + aa*d
		if math.Abs(d) < tiny {
			d = tiny
		}
		c = 1 + aa/c
		if math.Abs(c) < tiny {
			c = tiny
		}
		d = 1 / d
		del := d * c
		h *= del
		if math.Abs(del-1) < 1e-15 {
			break
		}
	}
	return h
}
