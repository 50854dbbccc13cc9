package main

import "math"

// The few pieces of the WebAssembly binary format (core spec §5, SIMD proposal's
// BinarySIMD.md) that the kernel needs.

// Value types.
const (
	i32  byte = 0x7f
	f64  byte = 0x7c
	v128 byte = 0x7b
)

// Instructions without immediates or with the immediates written by the methods below.
const (
	opBlock   = 0x02
	opLoop    = 0x03
	opIf      = 0x04
	opElse    = 0x05
	opEnd     = 0x0b
	opBr      = 0x0c
	opBrIf    = 0x0d
	opGet     = 0x20
	opSet     = 0x21
	opTee     = 0x22
	opF64Load = 0x2b
	opF64St   = 0x39
	opI32     = 0x41
	opF64     = 0x44
	opI32Eqz  = 0x45
	opI32Eq   = 0x46
	opI32LtS  = 0x48
	opI32Add  = 0x6a
	opI32Sub  = 0x6b
	opI32Mul  = 0x6c
	opI32Shl  = 0x74
	opF64Add  = 0xa0
	opF64Mul  = 0xa2
	opSIMD    = 0xfd // prefix of the SIMD instructions, each then a u32 LEB128
	blockVoid = 0x40
)

// SIMD instructions, after opSIMD.
const (
	simdLoad      = 0x00 // v128.load
	simdLoadSplat = 0x0a // v128.load64_splat
	simdStore     = 0x0b // v128.store
	simdConst     = 0x0c // v128.const
	simdF64x2Add  = 0xf0 // f64x2.add
	simdF64x2Mul  = 0xf2 // f64x2.mul
)

// uleb appends v in unsigned LEB128.
func uleb(b []byte, v uint32) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v == 0 {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

// sleb appends v in signed LEB128.
func sleb(b []byte, v int32) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

// name appends a string as a vector of bytes.
func name(b []byte, s string) []byte { return append(uleb(b, uint32(len(s))), s...) }

// section appends section id with its contents, prefixed by their size.
func section(b []byte, id byte, contents []byte) []byte {
	return append(uleb(append(b, id), uint32(len(contents))), contents...)
}

// fn builds one function body: its parameters are locals 0..params-1, the locals it
// declares follow in the order local returns them.
type fn struct {
	params int
	locals []byte // the type of each declared local
	code   []byte
}

// local declares a local of type t and returns its index.
func (f *fn) local(t byte) uint32 {
	f.locals = append(f.locals, t)
	return uint32(f.params + len(f.locals) - 1)
}

func (f *fn) op(b ...byte)             { f.code = append(f.code, b...) }
func (f *fn) get(l uint32)             { f.op(opGet); f.code = uleb(f.code, l) }
func (f *fn) set(l uint32)             { f.op(opSet); f.code = uleb(f.code, l) }
func (f *fn) tee(l uint32)             { f.op(opTee); f.code = uleb(f.code, l) }
func (f *fn) i32(v int32)              { f.op(opI32); f.code = sleb(f.code, v) }
func (f *fn) br(op byte, depth uint32) { f.op(op); f.code = uleb(f.code, depth) }

// mem appends a memory instruction with its alignment (log2 of bytes) and offset.
func (f *fn) mem(op byte, align, offset uint32) {
	f.op(op)
	f.code = uleb(uleb(f.code, align), offset)
}

// simd appends a SIMD instruction; memory ones take align and offset too.
func (f *fn) simd(op uint32, memarg ...uint32) {
	f.op(opSIMD)
	f.code = uleb(f.code, op)
	for _, v := range memarg {
		f.code = uleb(f.code, v)
	}
}

// f64 appends f64.const v.
func (f *fn) f64(v float64) {
	f.op(opF64)
	u := math.Float64bits(v)
	for i := 0; i < 8; i++ {
		f.op(byte(u >> (8 * i)))
	}
}

// addTo appends l += v for an i32 local l and an i32 local v.
func (f *fn) addTo(l, v uint32) {
	f.get(l)
	f.get(v)
	f.op(opI32Add)
	f.set(l)
}

// body returns the function's code entry: its locals, grouped by runs of one type, and code.
func (f *fn) body() []byte {
	var groups [][2]int // type, count
	for _, t := range f.locals {
		if n := len(groups); n > 0 && groups[n-1][0] == int(t) {
			groups[n-1][1]++
		} else {
			groups = append(groups, [2]int{int(t), 1})
		}
	}
	b := uleb(nil, uint32(len(groups)))
	for _, g := range groups {
		b = append(uleb(b, uint32(g[1])), byte(g[0]))
	}
	b = append(append(b, f.code...), opEnd)
	return append(uleb(nil, uint32(len(b))), b...)
}
