package env

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

// bigPi is pi to 300 bits, from Machin's formula pi = 16 atan(1/5) - 4 atan(1/239).
func bigPi(prec uint) *big.Float {
	atanInv := func(n int64) *big.Float {
		x := new(big.Float).SetPrec(prec).Quo(big.NewFloat(1), new(big.Float).SetInt64(n))
		x2 := new(big.Float).SetPrec(prec).Mul(x, x)
		sum := new(big.Float).SetPrec(prec).Set(x)
		term := new(big.Float).SetPrec(prec).Set(x)
		for k := int64(1); k < 220; k++ {
			term.Mul(term, x2)
			t := new(big.Float).SetPrec(prec).Quo(term, new(big.Float).SetInt64(2*k+1))
			if k%2 == 1 {
				sum.Sub(sum, t)
			} else {
				sum.Add(sum, t)
			}
		}
		return sum
	}
	p := new(big.Float).SetPrec(prec).Mul(atanInv(5), big.NewFloat(16))
	return p.Sub(p, new(big.Float).SetPrec(prec).Mul(atanInv(239), big.NewFloat(4)))
}

// bigSinCos returns sin(x) and cos(x) rounded to float64 from 300-bit arithmetic: reduce x
// modulo 2 pi, then sum both Taylor series.
func bigSinCos(x float64, pi *big.Float) (float64, float64) {
	const prec = 300
	bx := new(big.Float).SetPrec(prec).SetFloat64(x)
	twoPi := new(big.Float).SetPrec(prec).Mul(pi, big.NewFloat(2))
	q, _ := new(big.Float).SetPrec(prec).Quo(bx, twoPi).Int(nil)
	bx.Sub(bx, new(big.Float).SetPrec(prec).Mul(twoPi, new(big.Float).SetInt(q)))
	x2 := new(big.Float).SetPrec(prec).Mul(bx, bx)
	s := new(big.Float).SetPrec(prec).Set(bx)
	c := new(big.Float).SetPrec(prec).SetInt64(1)
	ts := new(big.Float).SetPrec(prec).Set(bx)
	tc := new(big.Float).SetPrec(prec).SetInt64(1)
	for k := int64(1); k < 60; k++ {
		ts.Mul(ts, x2).Quo(ts, new(big.Float).SetInt64(-(2*k)*(2*k+1)))
		tc.Mul(tc, x2).Quo(tc, new(big.Float).SetInt64(-(2*k-1)*(2*k)))
		s.Add(s, ts)
		c.Add(c, tc)
	}
	fs, _ := s.Float64()
	fc, _ := c.Float64()
	return fs, fc
}

// TestSinCosCorrectlyRounded checks cSincos against 300-bit values: every result must be the
// float64 nearest to the true sine and cosine (glibc's, which Gymnasium's CartPole uses, agree
// with these in all but about 0.1% of arguments; Go's math.Sin and math.Cos in about 75%).
func TestSinCosCorrectlyRounded(t *testing.T) {
	pi := bigPi(300)
	rng := rand.New(rand.NewPCG(7, 7))
	xs := []float64{0.1, 1e-9, -1e-300, math.Pi / 4, math.Pi / 2, math.Pi, -math.Pi, 2.4, 12345.678, 8e5}
	for _, r := range []float64{0.25, 1, 4, 30, 1000} {
		for range 200 {
			xs = append(xs, uniformTest(rng, -r, r))
		}
	}
	mathDiff := 0
	for _, x := range xs {
		ws, wc := bigSinCos(x, pi)
		s, c := cSincos(x)
		if s != ws || c != wc {
			t.Fatalf("cSincos(%v) = %v, %v; correctly rounded %v, %v", x, s, c, ws, wc)
		}
		if math.Sin(x) != ws || math.Cos(x) != wc {
			mathDiff++
		}
	}
	if s, c := cSincos(math.Copysign(0, -1)); !math.Signbit(s) || c != 1 {
		t.Errorf("cSincos(-0) = %v, %v; want -0, 1", s, c)
	}
	if s, c := cSincos(1e300); s != math.Sin(1e300) || c != math.Cos(1e300) {
		t.Errorf("huge arguments should fall back to math.Sincos")
	}
	t.Logf("math.Sin or math.Cos not correctly rounded for %d of %d arguments", mathDiff, len(xs))
}

func BenchmarkSincos(b *testing.B) {
	x := 0.0
	for i := 0; b.Loop(); i++ {
		s, c := cSincos(float64(i%1000) * 0.003)
		x += s + c
	}
	_ = x
}
