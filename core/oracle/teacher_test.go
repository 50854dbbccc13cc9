package oracle

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/prefer-rlhf/prefer/core/prefs"
)

func constRewards(v float64, n int) []float64 {
	r := make([]float64, n)
	for i := range r {
		r[i] = v
	}
	return r
}

func TestTeacherPresetsParseAndValidate(t *testing.T) {
	for _, name := range TeacherNames {
		tc, err := ParseTeacher(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := tc.Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := ParseTeacher("lazy"); err == nil {
		t.Error("unknown teacher accepted")
	}
	if (Teacher{Beta: 1, Gamma: 0}).Validate() == nil || (Teacher{Beta: 0, Gamma: 1}).Validate() == nil {
		t.Error("gamma 0 or beta 0 accepted")
	}
}

func TestTeacherThresholds(t *testing.T) {
	// B-Pref: ratio × mean episode return × segment / episode length.
	skip, equal := TeacherSkip.Thresholds(500, 50, 500)
	if skip != 5 || equal != 0 {
		t.Errorf("skip teacher thresholds %v %v, want 5 0", skip, equal)
	}
	skip, equal = TeacherEqual.Thresholds(500, 50, 500)
	if skip != 0 || equal != 5 {
		t.Errorf("equal teacher thresholds %v %v, want 0 5", skip, equal)
	}
	// Negative returns: the equal margin is a magnitude, the skip level keeps its sign.
	if _, equal = TeacherEqual.Thresholds(-1000, 30, 200); equal != 15 {
		t.Errorf("equal margin for negative returns %v, want 15", equal)
	}
	if skip, _ = TeacherSkip.Thresholds(-1000, 30, 200); skip != -15 {
		t.Errorf("skip level for negative returns %v, want -15", skip)
	}
}

func TestTeacherOracleAlwaysPicksLarger(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 200; i++ {
		a, b := rng.Float64()*10, rng.Float64()*10
		want := prefs.Left
		if a < b {
			want = prefs.Right
		}
		if got := TeacherOracle.Label(rng, constRewards(a, 5), constRewards(b, 5), 0, 0); got != want {
			t.Fatalf("oracle on returns %v, %v said %s", 5*a, 5*b, got)
		}
	}
}

func TestTeacherSkip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	// Both at most δ_skip: skipped, as B-Pref's max(R₁, R₂) <= δ.
	if got := TeacherSkip.Label(rng, constRewards(1, 4), constRewards(0.5, 4), 4, 0); got != prefs.CantTell {
		t.Errorf("both returns at most δ_skip: %s, want cant_tell", got)
	}
	// One above: answered.
	if got := TeacherSkip.Label(rng, constRewards(1.5, 4), constRewards(0.5, 4), 4, 0); got != prefs.Left {
		t.Errorf("one return above δ_skip: %s, want left", got)
	}
	// The oracle ignores a threshold it has no ratio for.
	if got := TeacherOracle.Label(rng, constRewards(1, 4), constRewards(0.5, 4), 4, 0); got != prefs.Left {
		t.Errorf("oracle skipped: %s", got)
	}
}

func TestTeacherEqual(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	if got := TeacherEqual.Label(rng, constRewards(1, 4), constRewards(0.9, 4), 0, 0.5); got != prefs.Equal {
		t.Errorf("returns 0.4 apart with δ_equal 0.5: %s, want equal", got)
	}
	if got := TeacherEqual.Label(rng, constRewards(1, 4), constRewards(0.8, 4), 0, 0.5); got != prefs.Left {
		t.Errorf("returns 0.8 apart with δ_equal 0.5: %s, want left", got)
	}
	// Equal overrides a mistake, as in B-Pref (labels[margin_index] = -1 comes last).
	eq := TeacherEqual
	eq.Mistake = 1
	if got := eq.Label(rng, constRewards(1, 4), constRewards(0.9, 4), 0, 0.5); got != prefs.Equal {
		t.Errorf("equal with mistakes: %s", got)
	}
}

func TestTeacherMyopicWeighsTheEnd(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	// Left is good early, right good late; undiscounted left wins by 1.
	left := []float64{10, 0, 0, 0, 0}
	right := []float64{0, 0, 0, 0, 9}
	if got := TeacherOracle.Label(rng, left, right, 0, 0); got != prefs.Left {
		t.Errorf("oracle: %s, want left", got)
	}
	// Myopic: 10·0.9⁴ = 6.56 < 9.
	if got := TeacherMyopic.Label(rng, left, right, 0, 0); got != prefs.Right {
		t.Errorf("myopic: %s, want right", got)
	}
	if d := Discounted([]float64{1, 1, 1}, 0.5); d != 1.75 {
		t.Errorf("Discounted = %v, want 1.75", d)
	}
}

func TestTeacherStocFollowsBradleyTerry(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	// Returns 1 apart with β = 1: P(left) = σ(1) = 0.731.
	n, left := 20000, 0
	for i := 0; i < n; i++ {
		if TeacherStoc.Label(rng, []float64{1.5}, []float64{0.5}, 0, 0) == prefs.Left {
			left++
		}
	}
	p := float64(left) / float64(n)
	if want := 1 / (1 + math.Exp(-1)); math.Abs(p-want) > 0.015 {
		t.Errorf("stoc P(left) = %.3f, want %.3f", p, want)
	}
}

func TestTeacherMistakeFlips(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	n, wrong := 20000, 0
	for i := 0; i < n; i++ {
		if TeacherMistake.Label(rng, []float64{2}, []float64{1}, 0, 0) == prefs.Right {
			wrong++
		}
	}
	if p := float64(wrong) / float64(n); math.Abs(p-0.1) > 0.01 {
		t.Errorf("mistake rate %.3f, want 0.1", p)
	}
}

// TestTeachersCallATieEqual checks that every teacher answers an exact tie of the (discounted)
// returns "equally good", never a side: CartPole's balancing clips all tie.
func TestTeachersCallATieEqual(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	for _, name := range TeacherNames {
		tc, _ := ParseTeacher(name)
		for i := 0; i < 50; i++ {
			if got := tc.Label(rng, constRewards(1, 75), constRewards(1, 75), -1, 0); got != prefs.Equal {
				t.Fatalf("%s on two clips of return 75: %s, want equal", name, got)
			}
		}
	}
}
