package main

// Parameters of the exported function gemm, all i32 (see nn.Gemm): c += a·b, with c m×n
// (rows ldc apart), a(i, p) at a + i*sai + p*sap, b k×n (rows ldb apart); addresses in bytes
// of Go's memory, strides in float64s; first says whether each sum starts from its first
// product instead of 0.
const (
	pC = iota
	pLdc
	pA
	pSai
	pSap
	pB
	pLdb
	pM
	pN
	pK
	pFirst
	nParams
)

// tileRows is the height of the register tile; it is tileRows×4 elements of C, in
// 2·tileRows f64x2 accumulators, plus two vectors of B and one of A: 11 of the 16 xmm
// registers of x86-64, which V8 allocates to wasm locals.
const tileRows = 4

// kernel builds gemm. For each block of rows of C (tileRows, then single rows) and each block
// of columns (4, then 2, then 1), it keeps the block in registers while p runs over k: each
// step loads a row of B's block once and each A element once (splatted to both lanes), and
// multiplies and adds lane by lane, so each element of C is its own sum in the order of p,
// as in the Go kernels, and is added to C once at the end.
type kernel struct {
	fn
	kb, ccol, bcol, cols, pb, pbEnd, tmp uint32
	pa                                   [tileRows]uint32
	acc                                  [tileRows][2]uint32 // v128
	bv                                   [2]uint32           // v128
	av                                   uint32              // v128
	sacc                                 [tileRows]uint32    // f64, the one-column tiles
	sb, sa                               uint32              // f64
}

func newKernel() *kernel {
	k := &kernel{fn: fn{params: nParams}}
	for _, l := range []*uint32{&k.kb, &k.ccol, &k.bcol, &k.cols, &k.pb, &k.pbEnd, &k.tmp} {
		*l = k.local(i32)
	}
	for r := range k.pa {
		k.pa[r] = k.local(i32)
	}
	for r := range k.acc {
		k.acc[r] = [2]uint32{k.local(v128), k.local(v128)}
	}
	k.bv = [2]uint32{k.local(v128), k.local(v128)}
	k.av = k.local(v128)
	for r := range k.sacc {
		k.sacc[r] = k.local(f64)
	}
	k.sb, k.sa = k.local(f64), k.local(f64)
	return k
}

// build writes gemm's code.
func (k *kernel) build() {
	for _, l := range []uint32{pLdc, pSai, pSap, pLdb} { // strides in bytes
		k.get(l)
		k.i32(3)
		k.op(opI32Shl)
		k.set(l)
	}
	k.get(pK)
	k.get(pLdb)
	k.op(opI32Mul)
	k.set(k.kb)
	// pC and pA walk down the blocks of rows, pM counts the rows left.
	k.while(pM, tileRows, func() { k.rowBlock(tileRows) })
	k.while(pM, 1, func() { k.rowBlock(1) })
}

// while repeats body while local counter ≥ step, and after each pass subtracts step from it.
func (k *kernel) while(counter uint32, step int32, body func()) {
	k.op(opBlock, blockVoid, opLoop, blockVoid)
	k.get(counter)
	k.i32(step)
	k.op(opI32LtS)
	k.br(opBrIf, 1)
	body()
	k.get(counter)
	k.i32(step)
	k.op(opI32Sub)
	k.set(counter)
	k.br(opBr, 0)
	k.op(opEnd, opEnd)
}

// advance adds step×stride to local l.
func (k *kernel) advance(l, stride uint32, step int32) {
	k.get(l)
	k.get(stride)
	k.i32(step)
	k.op(opI32Mul, opI32Add)
	k.set(l)
}

// rowBlock does rows of C from pC on, and then moves pC and pA down past them.
func (k *kernel) rowBlock(rows int) {
	k.get(pC)
	k.set(k.ccol)
	k.get(pB)
	k.set(k.bcol)
	k.get(pN)
	k.set(k.cols)
	for _, vecs := range []int{2, 1, 0} {
		cols := int32(max(2*vecs, 1))
		k.while(k.cols, cols, func() {
			k.tile(rows, vecs)
			for _, l := range []uint32{k.ccol, k.bcol} {
				k.get(l)
				k.i32(8 * cols)
				k.op(opI32Add)
				k.set(l)
			}
		})
	}
	k.advance(pC, pLdc, int32(rows))
	k.advance(pA, pSai, int32(rows))
}

// tile adds to the block of rows×(2·vecs) elements of C at ccol (rows×1 if vecs is 0) its
// products over all of k.
func (k *kernel) tile(rows, vecs int) {
	for r := 0; r < rows; r++ {
		k.get(pA)
		if r > 0 {
			k.get(pSai)
			k.i32(int32(r))
			k.op(opI32Mul, opI32Add)
		}
		k.set(k.pa[r])
	}
	k.get(k.bcol)
	k.tee(k.pb)
	k.get(k.kb)
	k.op(opI32Add)
	k.set(k.pbEnd)
	k.get(pFirst)
	k.op(opIf, blockVoid)
	k.step(rows, vecs, true)
	k.op(opElse)
	for r := 0; r < rows; r++ {
		if vecs == 0 {
			k.f64(0)
			k.set(k.sacc[r])
			continue
		}
		for v := 0; v < vecs; v++ {
			k.simd(simdConst)
			k.op(make([]byte, 16)...)
			k.set(k.acc[r][v])
		}
	}
	k.op(opEnd)
	k.op(opBlock, blockVoid, opLoop, blockVoid)
	k.get(k.pb)
	k.get(k.pbEnd)
	k.op(opI32Eq)
	k.br(opBrIf, 1)
	k.step(rows, vecs, false)
	k.br(opBr, 0)
	k.op(opEnd, opEnd)
	// c += s, row by row.
	for r := 0; r < rows; r++ {
		k.get(k.ccol)
		if r > 0 {
			k.get(pLdc)
			k.i32(int32(r))
			k.op(opI32Mul, opI32Add)
		}
		k.set(k.tmp)
		if vecs == 0 {
			k.get(k.tmp)
			k.get(k.tmp)
			k.mem(opF64Load, 3, 0)
			k.get(k.sacc[r])
			k.op(opF64Add)
			k.mem(opF64St, 3, 0)
			continue
		}
		for v := 0; v < vecs; v++ {
			k.get(k.tmp)
			k.get(k.tmp)
			k.simd(simdLoad, 3, uint32(16*v))
			k.get(k.acc[r][v])
			k.simd(simdF64x2Add)
			k.simd(simdStore, 3, uint32(16*v))
		}
	}
}

// step does one p: s = a(i,p)·b(p,j) if first, else s += a(i,p)·b(p,j), for the tile's
// elements; then it moves the tile's pointers to p+1.
func (k *kernel) step(rows, vecs int, first bool) {
	if vecs == 0 {
		k.get(k.pb)
		k.mem(opF64Load, 3, 0)
		k.set(k.sb)
	}
	for v := 0; v < vecs; v++ {
		k.get(k.pb)
		k.simd(simdLoad, 3, uint32(16*v))
		k.set(k.bv[v])
	}
	for r := 0; r < rows; r++ {
		k.get(k.pa[r])
		if vecs == 0 {
			k.mem(opF64Load, 3, 0)
			k.set(k.sa)
			if !first {
				k.get(k.sacc[r])
			}
			k.get(k.sa)
			k.get(k.sb)
			k.op(opF64Mul)
			if !first {
				k.op(opF64Add)
			}
			k.set(k.sacc[r])
		} else {
			k.simd(simdLoadSplat, 3, 0)
			k.set(k.av)
			for v := 0; v < vecs; v++ {
				if !first {
					k.get(k.acc[r][v])
				}
				k.get(k.av)
				k.get(k.bv[v])
				k.simd(simdF64x2Mul)
				if !first {
					k.simd(simdF64x2Add)
				}
				k.set(k.acc[r][v])
			}
		}
		k.addTo(k.pa[r], pSap)
	}
	k.addTo(k.pb, pLdb)
}

// module returns the binary module: it imports Go's memory as env.mem and exports gemm and
// tanh.
func module() []byte {
	k := newKernel()
	k.build()
	b := []byte{0x00, 'a', 's', 'm', 0x01, 0x00, 0x00, 0x00}
	typ := []byte{2}
	for _, params := range []int{nParams, nTanhParams} {
		typ = append(typ, 0x60, byte(params))
		for i := 0; i < params; i++ {
			typ = append(typ, i32)
		}
		typ = append(typ, 0) // no results
	}
	b = section(b, 1, typ)
	imp := name(name([]byte{1}, "env"), "mem")
	imp = append(imp, 0x02, 0x00, 0x00) // a memory with at least 0 pages and no maximum
	b = section(b, 2, imp)
	b = section(b, 3, []byte{2, 0, 1}) // two functions, of types 0 and 1
	exp := append(name([]byte{2}, "gemm"), 0x00, 0)
	exp = append(name(exp, "tanh"), 0x00, 1)
	b = section(b, 7, exp)
	code := append([]byte{2}, k.body()...)
	code = append(code, tanhFn().body()...)
	b = section(b, 10, code)
	return b
}
