package reward

import (
	"bytes"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/prefer-rlhf/prefer/core/oracle"
)

// splitFit fits m as a browser does with members in other workers: each member's share runs
// on a copy of m decoded from its binary form, given the member's state and the dataset as
// bytes, and only the member's state comes back.
func splitFit(t *testing.T, m *Model, d *Dataset, update bool) Stats {
	t.Helper()
	data := AppendDataset(nil, d)
	steps := 0
	for i := 0; i < m.Members(); i++ {
		whole, err := m.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		state, err := m.MemberState(i)
		if err != nil {
			t.Fatal(err)
		}
		var w Model
		if err := w.UnmarshalBinary(whole); err != nil {
			t.Fatal(err)
		}
		if err := w.SetMemberState(i, state); err != nil {
			t.Fatal(err)
		}
		wd, err := DecodeDataset(data)
		if err != nil {
			t.Fatal(err)
		}
		var n int
		if update {
			n, err = w.UpdateMember(i, wd)
		} else {
			n, err = w.FitMember(i, wd)
		}
		if err != nil {
			t.Fatal(err)
		}
		steps += n
		if state, err = w.MemberState(i); err != nil {
			t.Fatal(err)
		}
		if err := m.SetMemberState(i, state); err != nil {
			t.Fatal(err)
		}
	}
	return m.Assemble(d, steps)
}

// sameModel fails unless a and b hold the same bits: stored form and every member's state.
func sameModel(t *testing.T, what string, a, b *Model) {
	t.Helper()
	ab, _ := a.MarshalBinary()
	bb, _ := b.MarshalBinary()
	if !bytes.Equal(ab, bb) {
		t.Fatalf("%s: the models differ", what)
	}
	for i := 0; i < a.Members(); i++ {
		as, _ := a.MemberState(i)
		bs, _ := b.MemberState(i)
		if !bytes.Equal(as, bs) {
			t.Fatalf("%s: member %d's state differs", what, i)
		}
	}
}

func sameStats(t *testing.T, what string, a, b Stats) {
	t.Helper()
	eq := func(x, y float64) bool { return math.Float64bits(x) == math.Float64bits(y) }
	if !eq(a.TrainLoss, b.TrainLoss) || !eq(a.ValLoss, b.ValLoss) || !eq(a.ValAccuracy, b.ValAccuracy) ||
		!eq(a.L2, b.L2) || a.Steps != b.Steps || a.Train != b.Train || a.Val != b.Val {
		t.Fatalf("%s: stats differ: %+v and %+v", what, a, b)
	}
}

// TestSplitFitIsFit: fitting each member on its own copy of the model, with the data and the
// member handed over as bytes, then assembling, gives Fit's and Update's model bit for bit,
// through a full fit and a run of incremental updates as labels arrive.
func TestSplitFitIsFit(t *testing.T) {
	d, _ := cartData(21, 150, 10, oracle.Rater{})
	c := smallConfig(21)
	c.Features = Obs
	c.Epochs = 20
	c.NormSample = 500 // fewer than the transitions, so normalisation samples from m's stream
	whole, _ := New(c, cartShape)
	split, _ := New(c, cartShape)
	sw, err := whole.Fit(d)
	if err != nil {
		t.Fatal(err)
	}
	ss := splitFit(t, split, d, false)
	sameModel(t, "Fit", whole, split)
	sameStats(t, "Fit", sw, ss)
	if !(sw.ValAccuracy > 0.6) { // the equal models are fitted ones
		t.Fatalf("Fit's validation accuracy %.3f: nothing learned", sw.ValAccuracy)
	}

	rng := rand.New(rand.NewPCG(22, 22))
	for k, cmp := range CartPoleComparisons(rng, 6, 10, oracle.Rater{}) {
		d.Add(cmp)
		sw, err := whole.Update(d)
		if err != nil {
			t.Fatal(err)
		}
		ss := splitFit(t, split, d, true)
		sameModel(t, "Update "+string(rune('1'+k)), whole, split)
		sameStats(t, "Update", sw, ss)
	}
}

func TestMemberStateRejects(t *testing.T) {
	m, _ := New(smallConfig(1), cartShape)
	b, _ := m.MemberState(0)
	small := smallConfig(1)
	small.Hidden = []int{8}
	o, _ := New(small, cartShape)
	for name, err := range map[string]error{
		"other shape": o.SetMemberState(0, b),
		"truncated":   m.SetMemberState(0, b[:len(b)-3]),
		"not a state": m.SetMemberState(0, []byte("PRRM....")),
		"no member":   m.SetMemberState(7, b),
	} {
		if err == nil {
			t.Errorf("%s: want an error", name)
		}
	}
	if _, err := DecodeDataset([]byte{1, 0, 0, 0}); err == nil {
		t.Errorf("truncated dataset: want an error")
	}
	if _, err := m.FitMember(5, &Dataset{}); err == nil {
		t.Errorf("FitMember of no member: want an error")
	}
}
