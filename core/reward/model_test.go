package reward

import (
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/prefer-rlhf/prefer/core/oracle"
)

// fitted returns a quickly fitted model reading obs, one-hot actions and next obs.
func fitted(t *testing.T) (*Model, *Dataset) {
	t.Helper()
	d, _ := cartData(12, 60, 10, oracle.Rater{})
	c := smallConfig(12)
	c.Features = Obs | Act | Next
	c.Epochs = 5
	c.MinSteps = 7
	m, err := New(c, cartShape)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Fit(d); err != nil {
		t.Fatal(err)
	}
	return m, d
}

func TestPredictions(t *testing.T) {
	m, d := fitted(t)
	a, b := d.Train[0].Left, d.Train[1].Right
	// Return is the sum of Rewards over the segment's transitions.
	r := make([]float64, a.Len)
	m.Rewards(a.Obs, a.Act, a.Next, a.Len, r)
	if got, want := m.Return(a), sum(r); math.Abs(got-want) > 1e-9 {
		t.Errorf("Return = %v, sum of Rewards = %v", got, want)
	}
	// Prefer is antisymmetric with a symmetric spread.
	p, s := m.Prefer(a, b)
	q, s2 := m.Prefer(b, a)
	if math.Abs(p+q-1) > 1e-12 || math.Abs(s-s2) > 1e-12 || s <= 0 {
		t.Errorf("Prefer(a,b) = %v±%v, Prefer(b,a) = %v±%v", p, s, q, s2)
	}
	// It matches the members' raw returns through eq. 1.
	ra, rb := make([]float64, m.Members()), make([]float64, m.Members())
	m.MemberReturns(a, ra)
	m.MemberReturns(b, rb)
	mean := 0.0
	for i := range ra {
		mean += 1 / (1 + math.Exp(rb[i]-ra[i])) / float64(m.Members())
	}
	if math.Abs(mean-p) > 1e-12 {
		t.Errorf("Prefer = %v, mean of σ(Rᵢ(a)-Rᵢ(b)) = %v", p, mean)
	}
	// A segment against itself: ½ with no spread.
	if p, s := m.Prefer(a, a); p != 0.5 || s != 0 {
		t.Errorf("Prefer(a, a) = %v±%v, want 0.5±0", p, s)
	}
}

// TestNormalization: after a fit each member is standardised over the data's transitions, so
// the ensemble reward has mean ≈ 0 there; Normalize resets it to given transitions.
func TestNormalization(t *testing.T) {
	m, d := fitted(t)
	var obs, act, next []float64
	for _, c := range append(d.Train, d.Val...) {
		for _, s := range []Segment{c.Left, c.Right} {
			obs, act, next = append(obs, s.Obs...), append(act, s.Act...), append(next, s.Next...)
		}
	}
	n := len(act)
	r := make([]float64, n)
	m.Rewards(obs, act, next, n, r)
	mean, _ := meanStdOf(r)
	if math.Abs(mean) > 0.1 {
		t.Errorf("mean reward over the data %.3f, want ≈ 0", mean)
	}
	half := n / 2
	if err := m.Normalize(obs[:half*4], act[:half], next[:half*4], half); err != nil {
		t.Fatal(err)
	}
	m.Rewards(obs[:half*4], act[:half], next[:half*4], half, r[:half])
	if mean, _ := meanStdOf(r[:half]); math.Abs(mean) > 1e-9 {
		t.Errorf("after Normalize: mean %.3g, want 0", mean)
	}
	for i, mb := range m.members {
		if mb.std <= 0 {
			t.Errorf("member %d std %v", i, mb.std)
		}
	}
	if err := m.Normalize(obs[:3], act[:1], next[:4], 1); err == nil {
		t.Errorf("Normalize with short obs: want an error")
	}
}

func TestCodec(t *testing.T) {
	m, d := fitted(t)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	bin, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var back, backBin Model
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if err := backBin.UnmarshalBinary(bin); err != nil {
		t.Fatal(err)
	}
	if len(bin) >= len(b) {
		t.Errorf("binary form %d bytes, JSON %d; want it smaller", len(bin), len(b))
	}
	s := d.Val[0].Left
	r1, r2 := make([]float64, s.Len), make([]float64, s.Len)
	m.Rewards(s.Obs, s.Act, s.Next, s.Len, r1)
	for _, x := range []*Model{&back, &backBin} {
		x.Rewards(s.Obs, s.Act, s.Next, s.Len, r2)
		for i := range r1 {
			if r1[i] != r2[i] {
				t.Fatalf("reward %d: %v before, %v after a round trip", i, r1[i], r2[i])
			}
		}
	}
	if !reflect.DeepEqual(back.Config(), m.Config()) || !reflect.DeepEqual(backBin.Config(), m.Config()) {
		t.Errorf("configuration changed in the round trip:\n%+v\n%+v", m.Config(), back.Config())
	}
	if back.Config().Features != m.Config().Features || back.Shape() != m.Shape() || back.members[1].l2 != m.members[1].l2 {
		t.Errorf("configuration or L2 lost in the round trip")
	}
	// The decoded model can keep learning.
	if _, err := back.Update(d); err != nil {
		t.Errorf("Update after decoding: %v", err)
	}
	for name, edit := range map[string]func(string) string{
		"format":  func(s string) string { return strings.Replace(s, `"prefer-reward"`, `"other"`, 1) },
		"version": func(s string) string { return strings.Replace(s, `"version":1`, `"version":9`, 1) },
		"width":   func(s string) string { return strings.Replace(s, `"obs_dim":4`, `"obs_dim":5`, 1) },
		"std":     func(s string) string { return strings.Replace(s, `"std":`, `"std":-`, 1) },
		"json":    func(s string) string { return s[:len(s)/2] },
	} {
		if err := json.Unmarshal([]byte(edit(string(b))), &back); err == nil {
			t.Errorf("decoding with a bad %s: want an error", name)
		}
	}
	for name, bad := range map[string][]byte{
		"magic":     append([]byte("XXXX"), bin[4:]...),
		"truncated": bin[:len(bin)-3],
		"stray":     append(append([]byte{}, bin...), 0),
		"short":     bin[:6],
	} {
		if err := backBin.UnmarshalBinary(bad); err == nil {
			t.Errorf("binary decoding with a bad %s: want an error", name)
		}
	}
}
