package env

import "math"

// Correctly rounded sine and cosine.
//
// Gymnasium's dynamics call the C library's sin and cos (glibc's are correctly rounded in all
// but a vanishing share of cases), and Go's math.Sin and math.Cos differ from them in the last
// bit for about a quarter of all arguments. That matters: CartPole's upright pole and Acrobot's
// double pendulum are unstable, and they grow a one-bit difference into a visibly different
// trajectory within a few hundred steps. So the environments use sin and cos below, which
// reduce the argument and sum the Taylor series in double-double arithmetic (about 106 bits)
// and round once, and so agree with glibc bit for bit, on every platform (including wasm).
//
// Double-double arithmetic follows Dekker (1971) and Hida, Li and Bailey's QD library;
// every product is wrapped in float64(...) so that no compiler fuses it into an FMA, which
// would break the error-free transformations.

// dd is an unevaluated sum hi + lo with |lo| <= ulp(hi)/2.
type dd struct{ hi, lo float64 }

// twoSum returns s = fl(a+b) and the exact error a + b - s (Knuth).
func twoSum(a, b float64) (s, e float64) {
	s = a + b
	bb := s - a
	e = (a - (s - bb)) + (b - bb)
	return s, e
}

// quickTwoSum is twoSum for |a| >= |b| (Dekker).
func quickTwoSum(a, b float64) (s, e float64) {
	s = a + b
	e = b - (s - a)
	return s, e
}

// split cuts a into hi + lo with 26 significant bits each (Veltkamp).
func split(a float64) (hi, lo float64) {
	t := float64(134217729 * a) // 2^27 + 1
	hi = t - (t - a)
	lo = a - hi
	return hi, lo
}

// twoProd returns p = fl(a*b) and the exact error a*b - p (Dekker).
func twoProd(a, b float64) (p, e float64) {
	p = float64(a * b)
	ah, al := split(a)
	bh, bl := split(b)
	e = ((float64(ah*bh) - p) + float64(ah*bl) + float64(al*bh)) + float64(al*bl)
	return p, e
}

func ddAdd(a, b dd) dd {
	s, e := twoSum(a.hi, b.hi)
	t, f := twoSum(a.lo, b.lo)
	e += t
	s, e = quickTwoSum(s, e)
	e += f
	s, e = quickTwoSum(s, e)
	return dd{s, e}
}

func ddMul(a, b dd) dd {
	p, e := twoProd(a.hi, b.hi)
	e += float64(a.hi*b.lo) + float64(a.lo*b.hi)
	p, e = quickTwoSum(p, e)
	return dd{p, e}
}

// ddDiv returns a / b for a double b, to double-double precision (one Newton correction).
func ddDiv(a dd, b float64) dd {
	q1 := a.hi / b
	p, e := twoProd(q1, b)
	r := ddAdd(a, dd{-p, -e})
	q2 := r.hi / b
	p, e = twoProd(q2, b)
	r = ddAdd(r, dd{-p, -e})
	q3 := r.hi / b
	s, f := quickTwoSum(q1, q2)
	return ddAdd(dd{s, f}, dd{q3, 0})
}

// pi/2 in four parts (fdlibm's pio2_1, pio2_2, pio2_3 of 33 bits each, then the rest), so that
// k * each of the first three is exact for |k| < 2^20.
const (
	pio2a = 1.57079632673412561417e+00
	pio2b = 6.07710050630396597660e-11
	pio2c = 2.02226624871116645580e-21
	pio2d = 8.47842766036889956997e-32
)

// trigMax bounds the arguments that sin and cos reduce exactly; beyond it they fall back to
// math.Sin and math.Cos (Pendulum's angle would need millions of turns to get there).
const trigMax = 1 << 19 * math.Pi / 2

// Taylor coefficients: sinC[n] = (-1)^n / (2n+1)!, cosC[n] = (-1)^n / (2n)!, to double-double
// precision for the leading terms; the tail is summed in float64, where its rounding is far
// below the 106 bits kept.
const nDD = 8 // terms in double-double

var sinC, cosC [nDD]dd
var sinTail, cosTail [8]float64

func init() {
	f := dd{1, 0} // 1/m!, built by exact small divisions
	for m := 1; m <= 2*(nDD+len(sinTail))+1; m++ {
		f = ddDiv(f, float64(m))
		n := m / 2
		sign := 1.0
		if n%2 == 1 {
			sign = -1
		}
		v := dd{sign * f.hi, sign * f.lo}
		switch {
		case m%2 == 1 && n < nDD:
			sinC[n] = v
		case m%2 == 1 && n-nDD < len(sinTail):
			sinTail[n-nDD] = v.hi
		case m%2 == 0 && n < nDD:
			cosC[n] = v
		case m%2 == 0 && n-nDD < len(cosTail):
			cosTail[n-nDD] = v.hi
		}
	}
	cosC[0] = dd{1, 0}
}

// cSincos returns sin(x) and cos(x), each correctly rounded (see the top of this file).
func cSincos(x float64) (sin, cos float64) {
	ax := math.Abs(x)
	if x == 0 {
		return x, 1 // keeps the sign of zero, as C does
	}
	if ax > trigMax || math.IsNaN(x) {
		return math.Sin(x), math.Cos(x)
	}
	// Reduce: x = k pi/2 + r, |r| <= pi/4 (slightly more at ties), r as double-double.
	r := dd{x, 0}
	k := 0
	if ax > math.Pi/4 {
		k = int(math.Round(x * (2 / math.Pi)))
		fk := float64(k)
		t := x - float64(fk*pio2a) // exact: Sterbenz, and fk*pio2a is exact
		s, e := twoSum(t, -float64(fk*pio2b))
		r = ddAdd(dd{s, e}, dd{-float64(fk * pio2c), 0})
		p, pe := twoProd(fk, pio2d)
		r = ddAdd(r, dd{-p, -pe})
	}
	r2 := ddMul(r, r)
	s, c := sinCosDD(r, r2)
	switch k & 3 {
	case 0:
		return s, c
	case 1:
		return c, -s
	case 2:
		return -s, -c
	default:
		return -c, s
	}
}

// sinCosDD returns sin(r) and cos(r), rounded to double, for |r| <= pi/4 + a little.
func sinCosDD(r, r2 dd) (sin, cos float64) {
	z := r2.hi
	// Tails: sum_{n >= nDD} c_n z^(n-nDD), by Horner in float64.
	ts, tc := 0.0, 0.0
	for i := len(sinTail) - 1; i >= 0; i-- {
		ts = float64(ts*z) + sinTail[i]
		tc = float64(tc*z) + cosTail[i]
	}
	ps, pc := dd{ts, 0}, dd{tc, 0}
	for n := nDD - 1; n >= 0; n-- {
		ps = ddAdd(ddMul(ps, r2), sinC[n])
		pc = ddAdd(ddMul(pc, r2), cosC[n])
	}
	ps = ddMul(ps, r)
	return ps.hi + ps.lo, pc.hi + pc.lo
}

// cSin and cCos are the sine and cosine that the dynamics use in place of the C library's.
func cSin(x float64) float64 { s, _ := cSincos(x); return s }
func cCos(x float64) float64 { _, c := cSincos(x); return c }
