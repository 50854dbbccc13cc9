package lm

import (
	"math"
	"testing"
)

func TestCodecRoundTrip(t *testing.T) {
	m := perturbed(t, 21)
	b, _ := m.MarshalBinary()
	got, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if got.Config.Vocab != m.Config.Vocab || got.Config.Heads != m.Config.Heads || got.Config.Layers != m.Config.Layers {
		t.Fatalf("shape %+v, want %+v", got.Config, m.Config)
	}
	for i, v := range m.Params {
		if got.Params[i] != v {
			t.Fatalf("param %d: %v, want %v", i, got.Params[i], v)
		}
	}
	b32, _ := m.MarshalBinaryFloat32()
	got32, err := Decode(b32)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range m.Params {
		if got32.Params[i] != float64(float32(v)) {
			t.Fatalf("float32 param %d: %v, want %v", i, got32.Params[i], float32(v))
		}
	}
	// A decoded model computes: its sampler works.
	if err := got.NewSampler(1).Feed([]int{3}); err != nil {
		t.Fatal(err)
	}
}

func TestCodecRejects(t *testing.T) {
	m := perturbed(t, 22)
	good, _ := m.MarshalBinary()
	corrupt := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), good...)) }
	cases := map[string][]byte{
		"empty":     nil,
		"magic":     corrupt(func(b []byte) []byte { b[0] = 'X'; return b }),
		"version":   corrupt(func(b []byte) []byte { b[4] = 2; return b }),
		"width":     corrupt(func(b []byte) []byte { b[5] = 3; return b }),
		"heads":     corrupt(func(b []byte) []byte { b[24] = 3; return b }),
		"truncated": good[:len(good)-9],
		"trailing":  append(append([]byte(nil), good...), 0),
		"checksum":  corrupt(func(b []byte) []byte { b[100] ^= 1; return b }),
	}
	for name, b := range cases {
		if _, err := Decode(b); err == nil {
			t.Errorf("%s: decoded", name)
		}
	}
	m.Params[5] = math.NaN()
	nan, _ := m.MarshalBinary()
	if _, err := Decode(nan); err == nil {
		t.Error("NaN parameter decoded")
	}
}

func TestCloneIsIndependent(t *testing.T) {
	m, _ := New(tinyConfig(), 3)
	c := m.Clone()
	var a, b Workspace
	toks := []int{1, 2, 3, 4}
	m.Forward(&a, toks, 1, 4)
	c.Forward(&b, toks, 1, 4)
	for i := range a.Logits {
		if a.Logits[i] != b.Logits[i] {
			t.Fatalf("clone's logit %d = %v, original %v", i, b.Logits[i], a.Logits[i])
		}
	}
	c.Params[0] += 1
	if m.Params[0] == c.Params[0] {
		t.Fatal("changing the clone changed the original")
	}
}
