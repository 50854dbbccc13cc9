package main

import (
	"bytes"
	"os"
	"testing"
)

// TestModuleFile checks that the committed module is what this program writes, so that
// gemm.wasm is never edited by hand or left behind by a change here.
func TestModuleFile(t *testing.T) {
	b, err := os.ReadFile("../gemm.wasm")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, module()) {
		t.Fatal("wasm/simd/gemm.wasm differs from what gen writes: run go run ./wasm/simd/gen")
	}
}

// TestLEB128 checks the integer encodings against the core spec's examples and edges.
func TestLEB128(t *testing.T) {
	for _, c := range []struct {
		v    uint32
		want []byte
	}{{0, []byte{0}}, {127, []byte{0x7f}}, {128, []byte{0x80, 1}}, {624485, []byte{0xe5, 0x8e, 0x26}}} {
		if got := uleb(nil, c.v); !bytes.Equal(got, c.want) {
			t.Errorf("uleb(%d) = % x, want % x", c.v, got, c.want)
		}
	}
	for _, c := range []struct {
		v    int32
		want []byte
	}{{0, []byte{0}}, {63, []byte{0x3f}}, {64, []byte{0xc0, 0}}, {-1, []byte{0x7f}}, {-64, []byte{0x40}}, {-65, []byte{0xbf, 0x7f}}, {-123456, []byte{0xc0, 0xbb, 0x78}}} {
		if got := sleb(nil, c.v); !bytes.Equal(got, c.want) {
			t.Errorf("sleb(%d) = % x, want % x", c.v, got, c.want)
		}
	}
}
