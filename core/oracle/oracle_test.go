package oracle

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/prefer-rlhf/prefer/core/prefs"
)

// frequencies draws n answers for one pair of returns.
func frequencies(r Rater, seed uint64, left, right float64, n int) map[prefs.Choice]float64 {
	rng := rand.New(rand.NewPCG(seed, 7))
	f := map[prefs.Choice]float64{}
	for i := 0; i < n; i++ {
		f[r.Choose(rng, left, right)] += 1 / float64(n)
	}
	return f
}

// within fails unless got is within 4.5 binomial standard errors of p over n draws.
func within(t *testing.T, what string, got, p float64, n int) {
	t.Helper()
	se := math.Sqrt(p*(1-p)/float64(n)) + 1e-12
	if math.Abs(got-p) > 4.5*se {
		t.Errorf("%s: frequency %.4f, want %.4f ± %.4f", what, got, p, 4.5*se)
	}
}

func TestPerfectRater(t *testing.T) {
	var r Rater
	rng := rand.New(rand.NewPCG(1, 1))
	for i := 0; i < 1000; i++ {
		a, b := rng.NormFloat64(), rng.NormFloat64()
		want := prefs.Left
		if b > a {
			want = prefs.Right
		}
		if got := r.Choose(rng, a, b); got != want {
			t.Fatalf("Choose(%v, %v) = %v, want %v", a, b, got, want)
		}
	}
	if got := r.Choose(rng, 2, 2); got != prefs.Equal {
		t.Errorf("exact tie: got %v, want equal", got)
	}
}

func TestTemperature(t *testing.T) {
	const n = 40000
	for _, c := range []struct{ temp, d float64 }{{1, 1}, {2, 1}, {0.5, -0.3}, {10, 5}} {
		r := Rater{Temperature: c.temp}
		f := frequencies(r, 3, c.d, 0, n)
		want := 1 / (1 + math.Exp(-c.d/c.temp))
		within(t, "P(left)", f[prefs.Left], want, n)
		if p := r.PLeft(c.d, 0); math.Abs(p-want) > 1e-12 {
			t.Errorf("PLeft = %v, want %v", p, want)
		}
	}
	// A hotter rater is noisier: for the same gap, it agrees with the returns less often.
	cold := frequencies(Rater{Temperature: 0.5}, 4, 1, 0, n)[prefs.Left]
	hot := frequencies(Rater{Temperature: 5}, 4, 1, 0, n)[prefs.Left]
	if !(cold > hot+0.2) {
		t.Errorf("P(left) at T=0.5 is %.3f, at T=5 %.3f; want the cold rater clearly more accurate", cold, hot)
	}
}

func TestErrorRate(t *testing.T) {
	const n = 40000
	// A perfect rater that errs with p answers the worse clip with probability p/2.
	for _, p := range []float64{0.1, 0.3, 1} {
		f := frequencies(Rater{ErrorRate: p}, 5, 0, 3, n)
		within(t, "wrong answers", f[prefs.Left], p/2, n)
		if f[prefs.Equal] != 0 {
			t.Errorf("p=%v: a random response is never equal, got %.4f", p, f[prefs.Equal])
		}
	}
}

func TestTie(t *testing.T) {
	const n = 20000
	r := Rater{Tie: 0.5, ErrorRate: 0.2, Temperature: 1}
	f := frequencies(r, 6, 1.3, 1, n)
	within(t, "equal inside the threshold", f[prefs.Equal], 0.8, n)
	within(t, "left inside the threshold", f[prefs.Left], 0.1, n)
	f = frequencies(r, 6, 1.6, 1, n)
	if f[prefs.Equal] != 0 {
		t.Errorf("outside the threshold: equal with frequency %v, want 0", f[prefs.Equal])
	}
	want := r.PLeft(1.6, 1)
	within(t, "left outside the threshold", f[prefs.Left], want, n)
	if r.PEqual(1.3, 1) != 0.8 || r.PEqual(1.6, 1) != 0 {
		t.Errorf("PEqual = %v, %v; want 0.8, 0", r.PEqual(1.3, 1), r.PEqual(1.6, 1))
	}
}

func TestDeterministic(t *testing.T) {
	r := Rater{Temperature: 1, ErrorRate: 0.1, Tie: 0.1}
	a := frequencies(r, 9, 0.4, 0, 500)
	b := frequencies(r, 9, 0.4, 0, 500)
	for _, c := range []prefs.Choice{prefs.Left, prefs.Right, prefs.Equal} {
		if a[c] != b[c] {
			t.Fatalf("same seed, different answers: %v vs %v", a, b)
		}
	}
}

func TestValidate(t *testing.T) {
	for _, r := range []Rater{{Temperature: -1}, {ErrorRate: 1.5}, {Tie: -0.1}, {Temperature: math.NaN()}, {Temperature: math.Inf(1)}} {
		if r.Validate() == nil {
			t.Errorf("Validate(%+v) = nil, want an error", r)
		}
	}
	if err := (Rater{Temperature: 1, ErrorRate: 0.1, Tie: 0}).Validate(); err != nil {
		t.Errorf("valid rater: %v", err)
	}
	if Return([]float64{1, 2, 3.5}) != 6.5 {
		t.Errorf("Return")
	}
}
