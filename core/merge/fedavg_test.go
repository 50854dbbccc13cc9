package merge

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestFedAvgWeightedExact(t *testing.T) {
	ups := []Update{
		{Delta: []float64{1, 0, -2}, Labels: 1},
		{Delta: []float64{0, 3, 2}, Labels: 3},
	}
	got, err := FedAvg(ups, Config{})
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{0.25, 2.25, 1}
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-15 {
			t.Fatalf("FedAvg = %v, want %v", got, want)
		}
	}
	if ups[0].Delta[0] != 1 || ups[1].Delta[1] != 3 {
		t.Fatal("FedAvg modified its input")
	}
}

func TestFedAvgClip(t *testing.T) {
	ups := []Update{{Delta: []float64{3, 4}, Labels: 1}}
	got, err := FedAvg(ups, Config{ClipNorm: 1})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(got[0]-0.6) > 1e-15 || math.Abs(got[1]-0.8) > 1e-15 {
		t.Fatalf("clipped = %v, want [0.6 0.8]", got)
	}
	// Below the cap nothing changes.
	got, _ = FedAvg(ups, Config{ClipNorm: 10})
	if got[0] != 3 || got[1] != 4 {
		t.Fatalf("unclipped = %v", got)
	}
}

// TestTrimmedMeanResistsPoison: nine honest raters send deltas near a common direction, one
// sends a huge delta with a huge claimed label count. Plain FedAvg is dragged far away; the
// trimmed mean stays within the honest range in every coordinate and close to the honest mean.
func TestTrimmedMeanResistsPoison(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const dim = 50
	target := make([]float64, dim)
	for i := range target {
		target[i] = rng.NormFloat64() * 0.1
	}
	var ups []Update
	for k := 0; k < 9; k++ {
		d := make([]float64, dim)
		for i := range d {
			d[i] = target[i] + 0.01*rng.NormFloat64()
		}
		ups = append(ups, Update{Delta: d, Labels: 20 + k})
	}
	honest, err := FedAvg(ups, Config{})
	if err != nil {
		t.Fatal(err)
	}
	poison := make([]float64, dim)
	for i := range poison {
		poison[i] = 1e3
	}
	all := append(ups[:9:9], Update{Delta: poison, Labels: 1e6})

	plain, _ := FedAvg(all, Config{})
	if dist(plain, honest) < 100 {
		t.Fatalf("plain FedAvg moved only %v: the test's poison is too weak", dist(plain, honest))
	}
	robust, err := FedAvg(all, Config{Trim: 0.1})
	if err != nil {
		t.Fatal(err)
	}
	for i := range robust {
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, u := range ups {
			lo, hi = math.Min(lo, u.Delta[i]), math.Max(hi, u.Delta[i])
		}
		if robust[i] < lo || robust[i] > hi {
			t.Fatalf("coordinate %d = %v outside honest range [%v, %v]", i, robust[i], lo, hi)
		}
	}
	if d := dist(robust, honest); d > 0.1 {
		t.Fatalf("trimmed mean is %v from the honest mean", d)
	}
	// Clipping alone also bounds the damage to ClipNorm·weight share.
	clipped, _ := FedAvg(all, Config{ClipNorm: 1, Trim: 0.1})
	if d := dist(clipped, honest); d > 0.1 {
		t.Fatalf("clipped trimmed mean is %v from the honest mean", d)
	}
}

func TestTrimCount(t *testing.T) {
	for _, c := range []struct {
		n    int
		trim float64
		want int
	}{{1, 0.2, 0}, {2, 0.2, 0}, {3, 0.2, 1}, {5, 0.2, 1}, {10, 0.2, 2}, {10, 0.25, 3}, {4, 0.49, 1}, {10, 0, 0}} {
		if got := trimCount(c.n, c.trim); got != c.want {
			t.Errorf("trimCount(%d, %v) = %d, want %d", c.n, c.trim, got, c.want)
		}
	}
}

func TestFedAvgBadInput(t *testing.T) {
	good := Update{Delta: []float64{1, 2}, Labels: 1}
	cases := map[string]struct {
		ups []Update
		cfg Config
	}{
		"none":        {nil, Config{}},
		"length":      {[]Update{good, {Delta: []float64{1}, Labels: 1}}, Config{}},
		"labels":      {[]Update{{Delta: []float64{1, 2}, Labels: 0}}, Config{}},
		"nan":         {[]Update{{Delta: []float64{math.NaN(), 2}, Labels: 1}}, Config{}},
		"inf":         {[]Update{{Delta: []float64{math.Inf(1), 2}, Labels: 1}}, Config{}},
		"trim":        {[]Update{good}, Config{Trim: 0.5}},
		"clipnorm":    {[]Update{good}, Config{ClipNorm: -1}},
		"clipnormnan": {[]Update{good}, Config{ClipNorm: math.NaN()}},
	}
	for name, c := range cases {
		if _, err := FedAvg(c.ups, c.cfg); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestApply(t *testing.T) {
	p := []float64{1, 2}
	if err := Apply(p, []float64{0.5, -1}); err != nil || p[0] != 1.5 || p[1] != 1 {
		t.Fatalf("Apply: %v %v", p, err)
	}
	if Apply(p, []float64{1}) == nil {
		t.Fatal("Apply accepted a wrong length")
	}
}

func dist(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += (a[i] - b[i]) * (a[i] - b[i])
	}
	return math.Sqrt(s)
}
