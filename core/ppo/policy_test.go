package ppo

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/prefer-rlhf/prefer/core/env"
	"github.com/prefer-rlhf/prefer/core/nn"
)

func TestCategoricalFormulas(t *testing.T) {
	z := []float64{0, math.Log(3)} // p = [¼, ¾]
	if got, want := categoricalLogProb(z, 1), math.Log(0.75); math.Abs(got-want) > 1e-15 {
		t.Errorf("log p(1) = %v, want %v", got, want)
	}
	if got, want := categoricalLogProb(z, 0), math.Log(0.25); math.Abs(got-want) > 1e-15 {
		t.Errorf("log p(0) = %v, want %v", got, want)
	}
	if got, want := categoricalEntropy(z), -(0.25*math.Log(0.25) + 0.75*math.Log(0.75)); math.Abs(got-want) > 1e-15 {
		t.Errorf("entropy %v, want %v", got, want)
	}
	// Shifting logits changes nothing; huge logits do not overflow.
	if got := categoricalLogProb([]float64{1000, 1000 + math.Log(3)}, 1); math.Abs(got-math.Log(0.75)) > 1e-12 {
		t.Errorf("log p with large logits = %v", got)
	}
	// Sampling follows the probabilities.
	rng := rand.New(rand.NewPCG(1, 2))
	count := 0
	const n = 100000
	for i := 0; i < n; i++ {
		count += sampleLogits(z, rng.Float64())
	}
	if f := float64(count) / n; math.Abs(f-0.75) > 0.005 { // ~3.6 standard errors
		t.Errorf("sampled action 1 with frequency %v, want 0.75", f)
	}
}

func TestGaussianFormulas(t *testing.T) {
	mean, logStd := []float64{1, -2}, []float64{math.Log(2), 0}
	a := []float64{3, -2}
	// (3−1)/2 = 1 standard deviation in the first coordinate, 0 in the second.
	want := (-0.5 - math.Log(2) - 0.5*math.Log(2*math.Pi)) + (-0.5 * math.Log(2*math.Pi))
	if got := gaussianLogProb(mean, logStd, a); math.Abs(got-want) > 1e-14 {
		t.Errorf("log p = %v, want %v", got, want)
	}
	wantH := 2*(0.5+0.5*math.Log(2*math.Pi)) + math.Log(2)
	if got := gaussianEntropy(logStd); math.Abs(got-wantH) > 1e-14 {
		t.Errorf("entropy %v, want %v", got, wantH)
	}
}

// testPolicy builds a small policy for env's spaces.
func testPolicy(t *testing.T, name string, normObs bool) *Policy {
	t.Helper()
	e, err := env.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	sp := e.Spec()
	p := newPolicy(sp.ObsDim, sp.Action, []int{8, 8}, nn.Tanh, -0.5, normObs, 10, rand.New(rand.NewPCG(3, 4)))
	for i := range p.params { // move away from the near-zero output initialisation
		p.params[i] += 0.3 * math.Sin(float64(i))
	}
	if normObs {
		x := make([]float64, 50*sp.ObsDim)
		for i := range x {
			x[i] = math.Cos(float64(i)) * 3
		}
		p.ObsNorm.Update(x, 50)
	}
	return p
}

func TestGaussianActClipsAndSamples(t *testing.T) {
	p := testPolicy(t, "Pendulum-v1", false)
	obs := []float64{1, 0, 0}
	rng := rand.New(rand.NewPCG(5, 6))
	var tape nn.Tape
	mean := p.Actor.Forward(&tape, obs, 1)[0]
	std := math.Exp(p.LogStd[0])
	var s, s2 float64
	const n = 20000
	for i := 0; i < n; i++ {
		raw, act := make([]float64, 1), make([]float64, 1)
		p.sample([]float64{mean}, p.LogStd, rng, false, raw, act)
		if act[0] != max(-2, min(2, raw[0])) {
			t.Fatalf("action %v is not the sample %v clipped to [-2, 2]", act[0], raw[0])
		}
		s += raw[0]
		s2 += raw[0] * raw[0]
	}
	m := s / n
	sd := math.Sqrt(s2/n - m*m)
	if math.Abs(m-mean) > 4*std/math.Sqrt(n) || math.Abs(sd-std) > 0.03*std {
		t.Errorf("samples have mean %v std %v, want %v and %v", m, sd, mean, std)
	}
	if got := p.Act(obs, nil, true)[0]; got != max(-2, min(2, mean)) {
		t.Errorf("deterministic action %v, want the mean %v", got, mean)
	}
}

func TestPolicyRoundTrip(t *testing.T) {
	for _, name := range []string{"CartPole-v1", "Pendulum-v1"} {
		for _, norm := range []bool{false, true} {
			p := testPolicy(t, name, norm)
			data, err := p.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			var q Policy
			if err := q.UnmarshalBinary(data); err != nil {
				t.Fatalf("%s norm=%v: %v", name, norm, err)
			}
			for i := range p.params {
				if p.params[i] != q.params[i] {
					t.Fatalf("%s: param %d: %v != %v", name, i, p.params[i], q.params[i])
				}
			}
			if (q.ObsNorm == nil) != !norm {
				t.Fatalf("%s: observation statistics lost", name)
			}
			obs := make([]float64, p.ObsDim)
			for trial := 0; trial < 20; trial++ {
				for i := range obs {
					obs[i] = math.Sin(float64(trial*7 + i))
				}
				a1 := p.Act(obs, rand.New(rand.NewPCG(1, uint64(trial))), false)
				a2 := q.Act(obs, rand.New(rand.NewPCG(1, uint64(trial))), false)
				if a1[0] != a2[0] || p.Value(obs) != q.Value(obs) {
					t.Fatalf("%s: loaded policy acts %v, saved one %v", name, a2, a1)
				}
			}
			// The loaded policy's parameters are one flat vector too.
			q.params[0] += 1
			if q.Actor.Params[0] != q.params[0] {
				t.Fatalf("%s: loaded actor does not view the flat parameters", name)
			}
		}
	}
}

func TestPolicyDecodeErrors(t *testing.T) {
	p := testPolicy(t, "Pendulum-v1", true)
	data, _ := p.MarshalBinary()
	var q Policy
	for name, bad := range map[string][]byte{
		"empty":     nil,
		"magic":     append([]byte("XXPOLICY"), data[8:]...),
		"truncated": data[:len(data)-9],
		"flipped":   func() []byte { b := append([]byte(nil), data...); b[len(b)/2] ^= 1; return b }(),
	} {
		if err := q.UnmarshalBinary(bad); err == nil {
			t.Errorf("%s: decoded without error", name)
		}
	}
}
