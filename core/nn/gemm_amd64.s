//go:build !purego

// The AVX panels of gemmNN (gemm_nn.go). Multiplies and adds are separate instructions (no
// FMA), so every element of C is rounded exactly as gemmNNGo's c += float64(a*b) rounds it,
// and results do not depend on the CPU. The four panels differ only in their tile (rows of C ×
// columns of C); keep them in step when editing.

#include "textflag.h"

// func cpuHasAVX() bool
TEXT ·cpuHasAVX(SB), NOSPLIT, $0-1
	MOVL $1, AX
	XORL CX, CX
	CPUID
	// OSXSAVE (bit 27) and AVX (bit 28) of ECX.
	MOVL CX, DX
	ANDL $0x18000000, DX
	CMPL DX, $0x18000000
	JNE no
	// The OS saves the XMM and YMM state: XCR0 bits 1 and 2.
	XORL CX, CX
	XGETBV
	ANDL $6, AX
	CMPL AX, $6
	JNE no
	MOVB $1, ret+0(FP)
	RET
no:
	MOVB $0, ret+0(FP)
	RET

// The 4-row panels start each tile's sums from s (rows lds apart) instead of from C: s = C,
// lds = ldc adds to C; lds = 0 starts every row from the same vector (a bias, or zeros).
// R14 and R15 hold s and lds: these ABI0 functions touch no globals.

// func panel4x8(c *float64, ldc int, a *float64, ra, ca int, b *float64, ldb, k, nb int, s *float64, lds int)
TEXT ·panel4x8(SB), NOSPLIT, $0-88
	MOVQ c+0(FP), DI
	MOVQ ldc+8(FP), DX
	SHLQ $3, DX
	MOVQ ca+32(FP), CX
	SHLQ $3, CX
	MOVQ b+40(FP), R13
	MOVQ ldb+48(FP), BX
	SHLQ $3, BX
	MOVQ nb+64(FP), R12
	MOVQ s+72(FP), R14
	MOVQ lds+80(FP), R15
	SHLQ $3, R15
block:
	TESTQ R12, R12
	JZ done
	MOVQ a+16(FP), R8
	MOVQ ra+24(FP), AX
	SHLQ $3, AX
	LEAQ (R8)(AX*1), R9
	LEAQ (R9)(AX*1), R10
	LEAQ (R10)(AX*1), R11
	LEAQ (R15)(R15*2), AX
	VMOVUPD (R14), Y0
	VMOVUPD 32(R14), Y1
	VMOVUPD (R14)(R15*1), Y2
	VMOVUPD 32(R14)(R15*1), Y3
	VMOVUPD (R14)(R15*2), Y4
	VMOVUPD 32(R14)(R15*2), Y5
	VMOVUPD (R14)(AX*1), Y6
	VMOVUPD 32(R14)(AX*1), Y7
	MOVQ R13, SI
	MOVQ k+56(FP), AX
	TESTQ AX, AX
	JZ store
loop:
	VMOVUPD (SI), Y8
	VMOVUPD 32(SI), Y9
	VBROADCASTSD (R8), Y12
	VMULPD Y8, Y12, Y14
	VADDPD Y14, Y0, Y0
	VMULPD Y9, Y12, Y15
	VADDPD Y15, Y1, Y1
	VBROADCASTSD (R9), Y13
	VMULPD Y8, Y13, Y14
	VADDPD Y14, Y2, Y2
	VMULPD Y9, Y13, Y15
	VADDPD Y15, Y3, Y3
	VBROADCASTSD (R10), Y12
	VMULPD Y8, Y12, Y14
	VADDPD Y14, Y4, Y4
	VMULPD Y9, Y12, Y15
	VADDPD Y15, Y5, Y5
	VBROADCASTSD (R11), Y13
	VMULPD Y8, Y13, Y14
	VADDPD Y14, Y6, Y6
	VMULPD Y9, Y13, Y15
	VADDPD Y15, Y7, Y7
	ADDQ CX, R8
	ADDQ CX, R9
	ADDQ CX, R10
	ADDQ CX, R11
	ADDQ BX, SI
	DECQ AX
	JNZ loop
store:
	LEAQ (DX)(DX*2), AX
	VMOVUPD Y0, (DI)
	VMOVUPD Y1, 32(DI)
	VMOVUPD Y2, (DI)(DX*1)
	VMOVUPD Y3, 32(DI)(DX*1)
	VMOVUPD Y4, (DI)(DX*2)
	VMOVUPD Y5, 32(DI)(DX*2)
	VMOVUPD Y6, (DI)(AX*1)
	VMOVUPD Y7, 32(DI)(AX*1)
	ADDQ $64, DI
	ADDQ $64, R14
	ADDQ $64, R13
	DECQ R12
	JMP block
done:
	VZEROUPPER
	RET

// panel4x16 is panel4x8 on 512-bit registers (AVX-512F): 16 columns a tile, the same
// multiply and add per element in the same order, so the same bits.

// func panel4x16(c *float64, ldc int, a *float64, ra, ca int, b *float64, ldb, k, nb int, s *float64, lds int)
TEXT ·panel4x16(SB), NOSPLIT, $0-88
	MOVQ c+0(FP), DI
	MOVQ ldc+8(FP), DX
	SHLQ $3, DX
	MOVQ ca+32(FP), CX
	SHLQ $3, CX
	MOVQ b+40(FP), R13
	MOVQ ldb+48(FP), BX
	SHLQ $3, BX
	MOVQ nb+64(FP), R12
	MOVQ s+72(FP), R14
	MOVQ lds+80(FP), R15
	SHLQ $3, R15
block:
	TESTQ R12, R12
	JZ done
	MOVQ a+16(FP), R8
	MOVQ ra+24(FP), AX
	SHLQ $3, AX
	LEAQ (R8)(AX*1), R9
	LEAQ (R9)(AX*1), R10
	LEAQ (R10)(AX*1), R11
	LEAQ (R15)(R15*2), AX
	VMOVUPD (R14), Z0
	VMOVUPD 64(R14), Z1
	VMOVUPD (R14)(R15*1), Z2
	VMOVUPD 64(R14)(R15*1), Z3
	VMOVUPD (R14)(R15*2), Z4
	VMOVUPD 64(R14)(R15*2), Z5
	VMOVUPD (R14)(AX*1), Z6
	VMOVUPD 64(R14)(AX*1), Z7
	MOVQ R13, SI
	MOVQ k+56(FP), AX
	TESTQ AX, AX
	JZ store
loop:
	VMOVUPD (SI), Z8
	VMOVUPD 64(SI), Z9
	VBROADCASTSD (R8), Z12
	VMULPD Z8, Z12, Z14
	VADDPD Z14, Z0, Z0
	VMULPD Z9, Z12, Z15
	VADDPD Z15, Z1, Z1
	VBROADCASTSD (R9), Z13
	VMULPD Z8, Z13, Z14
	VADDPD Z14, Z2, Z2
	VMULPD Z9, Z13, Z15
	VADDPD Z15, Z3, Z3
	VBROADCASTSD (R10), Z12
	VMULPD Z8, Z12, Z14
	VADDPD Z14, Z4, Z4
	VMULPD Z9, Z12, Z15
	VADDPD Z15, Z5, Z5
	VBROADCASTSD (R11), Z13
	VMULPD Z8, Z13, Z14
	VADDPD Z14, Z6, Z6
	VMULPD Z9, Z13, Z15
	VADDPD Z15, Z7, Z7
	ADDQ CX, R8
	ADDQ CX, R9
	ADDQ CX, R10
	ADDQ CX, R11
	ADDQ BX, SI
	DECQ AX
	JNZ loop
store:
	LEAQ (DX)(DX*2), AX
	VMOVUPD Z0, (DI)
	VMOVUPD Z1, 64(DI)
	VMOVUPD Z2, (DI)(DX*1)
	VMOVUPD Z3, 64(DI)(DX*1)
	VMOVUPD Z4, (DI)(DX*2)
	VMOVUPD Z5, 64(DI)(DX*2)
	VMOVUPD Z6, (DI)(AX*1)
	VMOVUPD Z7, 64(DI)(AX*1)
	ADDQ $128, DI
	ADDQ $128, R14
	ADDQ $128, R13
	DECQ R12
	JMP block
done:
	VZEROUPPER
	RET

// func cpuHasAVX512() bool: AVX-512F (CPUID leaf 7, EBX bit 16) with the OS saving the
// opmask and ZMM state (XCR0 bits 5-7) besides XMM and YMM (bits 1-2). Call only when
// cpuHasAVX is true (XGETBV needs OSXSAVE).
TEXT ·cpuHasAVX512(SB), NOSPLIT, $0-1
	MOVL $0, AX
	CPUID
	CMPL AX, $7
	JLT no512
	MOVL $7, AX
	XORL CX, CX
	CPUID
	ANDL $0x10000, BX
	JZ no512
	XORL CX, CX
	XGETBV
	ANDL $0xe6, AX
	CMPL AX, $0xe6
	JNE no512
	MOVB $1, ret+0(FP)
	RET
no512:
	MOVB $0, ret+0(FP)
	RET

// func panel4x4(c *float64, ldc int, a *float64, ra, ca int, b *float64, ldb, k, nb int)
TEXT ·panel4x4(SB), NOSPLIT, $0-72
	MOVQ c+0(FP), DI
	MOVQ ldc+8(FP), DX
	SHLQ $3, DX
	MOVQ ca+32(FP), CX
	SHLQ $3, CX
	MOVQ b+40(FP), R13
	MOVQ ldb+48(FP), BX
	SHLQ $3, BX
	MOVQ nb+64(FP), R12
block:
	TESTQ R12, R12
	JZ done
	MOVQ a+16(FP), R8
	MOVQ ra+24(FP), AX
	SHLQ $3, AX
	LEAQ (R8)(AX*1), R9
	LEAQ (R9)(AX*1), R10
	LEAQ (R10)(AX*1), R11
	LEAQ (DX)(DX*2), AX
	VMOVUPD (DI), Y0
	VMOVUPD (DI)(DX*1), Y1
	VMOVUPD (DI)(DX*2), Y2
	VMOVUPD (DI)(AX*1), Y3
	MOVQ R13, SI
	MOVQ k+56(FP), AX
	TESTQ AX, AX
	JZ store
loop:
	VMOVUPD (SI), Y8
	VBROADCASTSD (R8), Y12
	VMULPD Y8, Y12, Y14
	VADDPD Y14, Y0, Y0
	VBROADCASTSD (R9), Y13
	VMULPD Y8, Y13, Y14
	VADDPD Y14, Y1, Y1
	VBROADCASTSD (R10), Y12
	VMULPD Y8, Y12, Y14
	VADDPD Y14, Y2, Y2
	VBROADCASTSD (R11), Y13
	VMULPD Y8, Y13, Y14
	VADDPD Y14, Y3, Y3
	ADDQ CX, R8
	ADDQ CX, R9
	ADDQ CX, R10
	ADDQ CX, R11
	ADDQ BX, SI
	DECQ AX
	JNZ loop
store:
	LEAQ (DX)(DX*2), AX
	VMOVUPD Y0, (DI)
	VMOVUPD Y1, (DI)(DX*1)
	VMOVUPD Y2, (DI)(DX*2)
	VMOVUPD Y3, (DI)(AX*1)
	ADDQ $32, DI
	ADDQ $32, R13
	DECQ R12
	JMP block
done:
	VZEROUPPER
	RET

// func panel1x8(c *float64, ldc int, a *float64, ra, ca int, b *float64, ldb, k, nb int)
TEXT ·panel1x8(SB), NOSPLIT, $0-72
	MOVQ c+0(FP), DI
	MOVQ ldc+8(FP), DX
	SHLQ $3, DX
	MOVQ ca+32(FP), CX
	SHLQ $3, CX
	MOVQ b+40(FP), R13
	MOVQ ldb+48(FP), BX
	SHLQ $3, BX
	MOVQ nb+64(FP), R12
block:
	TESTQ R12, R12
	JZ done
	MOVQ a+16(FP), R8
	LEAQ (DX)(DX*2), AX
	VMOVUPD (DI), Y0
	VMOVUPD 32(DI), Y1
	MOVQ R13, SI
	MOVQ k+56(FP), AX
	TESTQ AX, AX
	JZ store
loop:
	VMOVUPD (SI), Y8
	VMOVUPD 32(SI), Y9
	VBROADCASTSD (R8), Y12
	VMULPD Y8, Y12, Y14
	VADDPD Y14, Y0, Y0
	VMULPD Y9, Y12, Y15
	VADDPD Y15, Y1, Y1
	ADDQ CX, R8
	ADDQ BX, SI
	DECQ AX
	JNZ loop
store:
	LEAQ (DX)(DX*2), AX
	VMOVUPD Y0, (DI)
	VMOVUPD Y1, 32(DI)
	ADDQ $64, DI
	ADDQ $64, R13
	DECQ R12
	JMP block
done:
	VZEROUPPER
	RET

// func panel1x4(c *float64, ldc int, a *float64, ra, ca int, b *float64, ldb, k, nb int)
TEXT ·panel1x4(SB), NOSPLIT, $0-72
	MOVQ c+0(FP), DI
	MOVQ ldc+8(FP), DX
	SHLQ $3, DX
	MOVQ ca+32(FP), CX
	SHLQ $3, CX
	MOVQ b+40(FP), R13
	MOVQ ldb+48(FP), BX
	SHLQ $3, BX
	MOVQ nb+64(FP), R12
block:
	TESTQ R12, R12
	JZ done
	MOVQ a+16(FP), R8
	LEAQ (DX)(DX*2), AX
	VMOVUPD (DI), Y0
	MOVQ R13, SI
	MOVQ k+56(FP), AX
	TESTQ AX, AX
	JZ store
loop:
	VMOVUPD (SI), Y8
	VBROADCASTSD (R8), Y12
	VMULPD Y8, Y12, Y14
	VADDPD Y14, Y0, Y0
	ADDQ CX, R8
	ADDQ BX, SI
	DECQ AX
	JNZ loop
store:
	LEAQ (DX)(DX*2), AX
	VMOVUPD Y0, (DI)
	ADDQ $32, DI
	ADDQ $32, R13
	DECQ R12
	JMP block
done:
	VZEROUPPER
	RET
