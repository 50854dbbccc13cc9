package reward

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/prefer-rlhf/prefer/core/oracle"
)

// spread returns the members' standard deviation of the normalised reward and the ensemble
// mean's magnitude, each averaged over the transitions obs (rows of 4). The std is the
// ensemble mean minus the uncertainty-weighted objective at λ 1.
func spread(t *testing.T, m *Model, obs []float64) (std, size float64) {
	n := len(obs) / 4
	mean, uwo := make([]float64, n), make([]float64, n)
	m.Rewards(obs, nil, nil, n, mean)
	c, err := m.WithObjective(ObjectiveUWO, 1)
	if err != nil {
		t.Fatal(err)
	}
	c.Rewards(obs, nil, nil, n, uwo)
	for i := range mean {
		std += mean[i] - uwo[i]
		size += math.Abs(mean[i])
	}
	return std / float64(n), size / float64(n)
}

// TestPriorSpreadsOffTheData: with random priors (Osband et al. 2018) the members' std far
// from the labelled transitions is several times that on them, and relative to the reward
// there at least twice what members without priors show (a leaky-ReLU network's output grows
// with its input, so without priors the std grows too, but in proportion to the mean); the
// fit still learns the held-out preferences.
func TestPriorSpreadsOffTheData(t *testing.T) {
	d, test := cartData(8, 150, 15, oracle.Rater{})
	var train, far []float64
	for _, c := range d.Train {
		train = append(append(train, c.Left.Obs...), c.Right.Obs...)
	}
	for _, v := range train {
		far = append(far, 6*v) // the cart and pole well outside anything labelled
	}
	var rel [2]float64
	for k, prior := range []float64{0, 3} {
		c := Defaults()
		c.Features, c.Members, c.Epochs, c.Seed, c.Prior = Obs, 5, 20, 8, prior
		m, err := New(c, cartShape)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := m.Fit(d); err != nil {
			t.Fatal(err)
		}
		on, _ := spread(t, m, train)
		off, size := spread(t, m, far)
		acc := Accuracy(m, test)
		rel[k] = off / size
		t.Logf("prior %v: members' std %.3f on the labelled transitions, %.3f far off (×%.1f; %.2f of the mean's magnitude there); held-out accuracy %.3f",
			prior, on, off, off/on, rel[k], acc)
		if acc < 0.85 {
			t.Errorf("prior %v: held-out accuracy %.3f, want >= 0.85", prior, acc)
		}
		if prior > 0 && off < 3*on {
			t.Errorf("prior %v: members' std %.3f far off, %.3f on the data; want at least 3 times", prior, off, on)
		}
	}
	if rel[1] < 2*rel[0] {
		t.Errorf("far off, the members' std is %.2f of the reward with priors and %.2f without; want at least twice", rel[1], rel[0])
	}
}

// TestPriorIsDeterministicAndStored: the priors follow from the seed, so a decoded model
// predicts exactly as the saved one, and they are not trained or part of the parameters.
func TestPriorIsDeterministicAndStored(t *testing.T) {
	d, _ := cartData(3, 40, 10, oracle.Rater{})
	c := smallConfig(3)
	c.Prior = 2
	m, err := New(c, cartShape)
	if err != nil {
		t.Fatal(err)
	}
	before := append([]float64(nil), m.members[0].prior.Params...)
	if _, err := m.Fit(d); err != nil {
		t.Fatal(err)
	}
	for i, v := range m.members[0].prior.Params {
		if v != before[i] {
			t.Fatal("the fit changed the prior network")
		}
	}
	if NumParams(m) != len(m.members[0].net.Params)*m.Members() {
		t.Errorf("the flat parameter vector has %d values; want only the trained networks'", NumParams(m))
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var back Model
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Config().Prior != 2 {
		t.Errorf("decoded prior scale %v, want 2", back.Config().Prior)
	}
	s := d.Train[0].Left
	r1, r2 := make([]float64, s.Len), make([]float64, s.Len)
	m.Rewards(s.Obs, s.Act, s.Next, s.Len, r1)
	back.Rewards(s.Obs, s.Act, s.Next, s.Len, r2)
	for i := range r1 {
		if r1[i] != r2[i] {
			t.Fatalf("reward %d: %v before, %v after a round trip", i, r1[i], r2[i])
		}
	}
	c.Prior = -1
	if _, err := New(c, cartShape); err == nil {
		t.Error("a negative prior scale: want an error")
	}
}
