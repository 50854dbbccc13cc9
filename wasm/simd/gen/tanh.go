package main

import (
	"encoding/binary"
	"math"

	"github.com/prefer-rlhf/prefer/core/nn"
)

// More SIMD instructions, after opSIMD, for tanh.
const (
	simdF64x2Eq       = 0x47
	simdF64x2Gt       = 0x4a
	simdF64x2Ge       = 0x4c
	simdAnd           = 0x4e
	simdAndNot        = 0x4f
	simdOr            = 0x50
	simdBitselect     = 0x52
	simdI64x2ExtendLo = 0xc7 // i64x2.extend_low_i32x4_s
	simdI64x2Shl      = 0xcb
	simdI64x2Add      = 0xce
	simdF64x2Abs      = 0xec
	simdF64x2Sub      = 0xf1
	simdF64x2Div      = 0xf3
	simdTruncSat      = 0xfc // i32x4.trunc_sat_f64x2_s_zero
	simdConvertLo     = 0xfe // f64x2.convert_low_i32x4_s
)

// Parameters of the exported function tanh: y (an address in bytes) and n, an even number of
// float64s, each replaced by its tanh.
const (
	pY = iota
	pLen
	nTanhParams
)

// vec is an emitter of code that leaves one v128 on the stack.
type vec func()

// tanhFn builds tanh: core/nn's tanhSlice, two elements at a time. Each lane computes every
// case of tanhSlice with its operations in its order (one IEEE rounding each, as Go's wasm
// does them), and the case that holds is selected by masks, so the bits are tanhSlice's.
func tanhFn() *fn {
	f := &fn{params: nTanhParams}
	l := func() uint32 { return f.local(v128) }
	x, z, v, k, kf, hi, lo, r, t, c, w, e, s, res := l(), l(), l(), l(), l(), l(), l(), l(), l(), l(), l(), l(), l(), l()

	get := func(l uint32) vec { return func() { f.get(l) } }
	splat := func(v float64) vec {
		return func() {
			var b [16]byte
			binary.LittleEndian.PutUint64(b[:], math.Float64bits(v))
			binary.LittleEndian.PutUint64(b[8:], math.Float64bits(v))
			f.simd(simdConst)
			f.op(b[:]...)
		}
	}
	signBit := func() {
		f.simd(simdConst)
		f.op(0, 0, 0, 0, 0, 0, 0, 0x80, 0, 0, 0, 0, 0, 0, 0, 0x80)
	}
	bin := func(op uint32) func(a, b vec) vec {
		return func(a, b vec) vec { return func() { a(); b(); f.simd(op) } }
	}
	add, sub, mul, div := bin(simdF64x2Add), bin(simdF64x2Sub), bin(simdF64x2Mul), bin(simdF64x2Div)
	set := func(l uint32, e vec) { e(); f.set(l) }

	f.op(opBlock, blockVoid, opLoop, blockVoid)
	f.get(pLen)
	f.op(opI32Eqz)
	f.br(opBrIf, 1)
	set(x, func() { f.get(pY); f.simd(simdLoad, 3, 0) })
	set(z, func() { f.get(x); f.simd(simdF64x2Abs) })
	// |x| in [0.625, 22]: e = e^(-2|x|) by expNeg, then (1-e)/(1+e) with x's sign.
	const (
		ln2Hi, ln2Lo, log2e = nn.TanhLn2Hi, nn.TanhLn2Lo, nn.TanhLog2e
		e1, e2, e3, e4, e5  = nn.TanhE1, nn.TanhE2, nn.TanhE3, nn.TanhE4, nn.TanhE5
	)
	set(v, mul(splat(-2), get(z)))
	set(k, func() { sub(mul(splat(log2e), get(v)), splat(0.5))(); f.simd(simdTruncSat) }) // int(): toward zero
	set(kf, func() { f.get(k); f.simd(simdConvertLo) })
	set(hi, sub(get(v), mul(get(kf), splat(ln2Hi))))
	set(lo, mul(get(kf), splat(ln2Lo)))
	set(r, sub(get(hi), get(lo)))
	set(t, mul(get(r), get(r)))
	set(w, mul(get(t), splat(e5)))
	for _, ei := range []float64{e4, e3, e2} {
		set(w, mul(get(t), add(splat(ei), get(w))))
	}
	set(c, sub(get(r), mul(get(t), add(splat(e1), get(w)))))
	scale := func() { // 2^k: the bits (1023+k)<<52
		f.get(k)
		f.simd(simdI64x2ExtendLo)
		f.simd(simdConst)
		f.op(0xff, 0x03, 0, 0, 0, 0, 0, 0, 0xff, 0x03, 0, 0, 0, 0, 0, 0)
		f.simd(simdI64x2Add)
		f.i32(52)
		f.simd(simdI64x2Shl)
	}
	set(e, mul(sub(splat(1), sub(sub(get(lo), div(mul(get(r), get(c)), sub(splat(2), get(c)))), get(hi))), scale))
	withSign := func(m vec) vec { // m's magnitude (non-negative) with x's sign
		return func() { m(); get(x)(); signBit(); f.simd(simdAnd); f.simd(simdOr) }
	}
	set(e, withSign(div(sub(splat(1), get(e)), add(splat(1), get(e)))))
	// |x| < 0.625: Cephes' rational approximation.
	const (
		p0, p1, p2 = nn.TanhP0, nn.TanhP1, nn.TanhP2
		q0, q1, q2 = nn.TanhQ0, nn.TanhQ1, nn.TanhQ2
	)
	set(s, mul(get(x), get(x)))
	num := mul(mul(get(x), get(s)), add(mul(add(mul(splat(p0), get(s)), splat(p1)), get(s)), splat(p2)))
	den := add(mul(add(mul(add(get(s), splat(q0)), get(s)), splat(q1)), get(s)), splat(q2))
	set(res, add(get(x), div(num, den)))
	// Select: x itself where x is ±0, e where |x| ≥ 0.625, ±1 where |x| > 22.
	sel := func(a vec, cmp uint32, lhs uint32, rhs float64) {
		set(res, func() {
			a()
			f.get(res)
			f.get(lhs)
			splat(rhs)()
			f.simd(cmp)
			f.simd(simdBitselect)
		})
	}
	sel(get(x), simdF64x2Eq, x, 0)
	sel(get(e), simdF64x2Ge, z, 0.625)
	sel(withSign(splat(1)), simdF64x2Gt, z, 22)
	f.get(pY)
	f.get(res)
	f.simd(simdStore, 3, 0)
	f.get(pY)
	f.i32(16)
	f.op(opI32Add)
	f.set(pY)
	f.get(pLen)
	f.i32(2)
	f.op(opI32Sub)
	f.set(pLen)
	f.br(opBr, 0)
	f.op(opEnd, opEnd)
	return f
}
