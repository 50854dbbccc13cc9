package oracle

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	"github.com/prefer-rlhf/prefer/core/prefs"
)

// Teacher is one of B-Pref's simulated teachers (Lee et al. 2021, "B-Pref: Benchmarking
// Preference-Based Reinforcement Learning", §3.2; reward_model.py, get_label). It answers a
// pair from the per-step true rewards of its two segments by four rules, in B-Pref's order:
//
//  1. skip: if both segments' returns are at most δ_skip the teacher does not answer. B-Pref
//     drops the query; here it is the answer "can't tell" (prefs.CantTell), which the reward
//     model drops as well.
//  2. equal: if the returns differ by less than δ_equal the teacher calls them equally good.
//     B-Pref's label is -1, fitted as ½; here it is "equal" (prefs.Equal, μ = ½).
//  3. rationality: otherwise it prefers the left segment with the Bradley-Terry probability
//     σ(β·(R̃₁ - R̃₂)) on returns R̃ discounted toward the segment's end, step t of H weighted
//     γ^(H-1-t) (myopia: the latest steps count most); β = ∞ always picks the larger R̃.
//  4. mistake: the answer is then flipped with probability ε.
//
// One departure: an exact tie of the discounted returns is "equally good" (see Label), where
// B-Pref's rational label names the first segment.
//
// The thresholds follow B-Pref: δ = ratio × mean true return of recent episodes × segment
// length / episode length (Thresholds). Rules 1 and 2 read undiscounted returns, as B-Pref.
type Teacher struct {
	// Beta is the rationality β of the Bradley-Terry answer; +Inf (B-Pref's -1) always picks
	// the larger discounted return.
	Beta float64
	// Gamma is the myopia discount γ in (0, 1]: step t of a segment of H steps is weighted
	// γ^(H-1-t). 1 weighs every step alike.
	Gamma float64
	// Mistake is the chance ε that a left or right answer is flipped.
	Mistake float64
	// SkipRatio and EqualRatio scale the thresholds δ_skip and δ_equal (Thresholds); 0 turns
	// the rule off.
	SkipRatio, EqualRatio float64
}

// The B-Pref teachers (Lee et al. 2021, Table 1).
var (
	TeacherOracle  = Teacher{Beta: math.Inf(1), Gamma: 1}
	TeacherStoc    = Teacher{Beta: 1, Gamma: 1}
	TeacherMistake = Teacher{Beta: math.Inf(1), Gamma: 1, Mistake: 0.1}
	TeacherSkip    = Teacher{Beta: math.Inf(1), Gamma: 1, SkipRatio: 0.1}
	TeacherMyopic  = Teacher{Beta: math.Inf(1), Gamma: 0.9}
	TeacherEqual   = Teacher{Beta: math.Inf(1), Gamma: 1, EqualRatio: 0.1}
)

// TeacherNames lists the presets in B-Pref's order.
var TeacherNames = []string{"oracle", "stoc", "mistake", "skip", "myopic", "equal"}

// ParseTeacher returns the preset named s (case-insensitive).
func ParseTeacher(s string) (Teacher, error) {
	switch strings.ToLower(s) {
	case "oracle":
		return TeacherOracle, nil
	case "stoc":
		return TeacherStoc, nil
	case "mistake":
		return TeacherMistake, nil
	case "skip":
		return TeacherSkip, nil
	case "myopic":
		return TeacherMyopic, nil
	case "equal":
		return TeacherEqual, nil
	}
	return Teacher{}, fmt.Errorf("oracle: unknown teacher %q (want one of %s)", s, strings.Join(TeacherNames, ", "))
}

// Validate reports a parameter out of range.
func (t Teacher) Validate() error {
	switch {
	case !(t.Beta > 0):
		return fmt.Errorf("oracle: teacher beta must be > 0 (+Inf: rational), got %v", t.Beta)
	case !(t.Gamma > 0 && t.Gamma <= 1):
		return fmt.Errorf("oracle: teacher gamma must be in (0, 1], got %v", t.Gamma)
	case !(t.Mistake >= 0 && t.Mistake <= 1):
		return fmt.Errorf("oracle: teacher mistake rate must be in [0, 1], got %v", t.Mistake)
	case !(t.SkipRatio >= 0) || !(t.EqualRatio >= 0):
		return fmt.Errorf("oracle: teacher skip and equal ratios must be >= 0")
	}
	return nil
}

// Thresholds returns δ_skip and δ_equal for segments of segLen steps when recent episodes of
// episodeLen steps had a mean true return of meanReturn: ratio × meanReturn × segLen /
// episodeLen, as B-Pref's train_PEBBLE.py sets them after every episode. B-Pref's tasks have
// positive rewards; where returns are negative (Pendulum) δ_equal, a margin, takes the
// magnitude, or no two returns would ever be equal, while δ_skip stays a level of return.
func (t Teacher) Thresholds(meanReturn float64, segLen, episodeLen int) (skip, equal float64) {
	scale := meanReturn * float64(segLen) / float64(max(episodeLen, 1))
	return t.SkipRatio * scale, t.EqualRatio * math.Abs(scale)
}

// Label answers a pair whose segments had the per-step true rewards left and right, with the
// thresholds δ_skip and δ_equal from Thresholds (ignored when the ratio is 0). It is
// deterministic given rng.
func (t Teacher) Label(rng *rand.Rand, left, right []float64, skip, equal float64) prefs.Choice {
	r1, r2 := Return(left), Return(right)
	if t.SkipRatio > 0 && r1 <= skip && r2 <= skip {
		return prefs.CantTell
	}
	if t.EqualRatio > 0 && math.Abs(r1-r2) < equal {
		return prefs.Equal
	}
	d := Discounted(left, t.Gamma) - Discounted(right, t.Gamma)
	if d == 0 {
		// An exact tie is "equally good", as Rater says it, for every teacher. B-Pref's
		// rational label sends a tie to the first segment; with its tasks' continuous rewards
		// ties do not happen, but with CartPole's reward of 1 per step two balancing clips
		// always tie, and a label that always names the left one teaches r̂ noise, most of
		// all under disagreement queries, which favour those pairs (docs/experiments.md).
		return prefs.Equal
	}
	var leftWins bool
	if math.IsInf(t.Beta, 1) {
		leftWins = d > 0
	} else {
		leftWins = rng.Float64() < sigmoid(t.Beta*d)
	}
	if t.Mistake > 0 && rng.Float64() < t.Mistake {
		leftWins = !leftWins
	}
	if leftWins {
		return prefs.Left
	}
	return prefs.Right
}

// Discounted is a segment's return with step t of H weighted γ^(H-1-t), as B-Pref's myopic
// teacher: the last step counts fully, earlier ones less.
func Discounted(rewards []float64, gamma float64) float64 {
	s, w := 0.0, 1.0
	for t := len(rewards) - 1; t >= 0; t-- {
		s += w * rewards[t]
		w *= gamma
	}
	return s
}
