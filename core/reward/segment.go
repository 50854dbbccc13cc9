package reward

import (
	"fmt"
	"math"

	"github.com/prefer-rlhf/prefer/core/prefs"
)

// Features says which parts of a transition (o_t, a_t, o_{t+1}) the reward model reads. The
// paper's r̂ reads (o, a) (Christiano et al. 2017, §2.1); Obs|Act is the default. Reading the
// next observation lets r̂ see the effect of an action.
type Features uint8

// The parts of a transition, combined with |.
const (
	Obs  Features = 1 << iota // o_t
	Act                       // a_t (one-hot for a discrete space)
	Next                      // o_{t+1}
)

// Shape describes the transitions of one environment as a model stores them.
type Shape struct {
	ObsDim int // length of an observation; > 0
	ActDim int // length of a stored action vector; 1 for a discrete index
	ActN   int // number of discrete actions, whose index is fed one-hot; 0 for a box
}

func (s Shape) validate() error {
	switch {
	case s.ObsDim <= 0:
		return fmt.Errorf("reward: ObsDim must be positive, got %d", s.ObsDim)
	case s.ActDim < 0 || s.ActN < 0:
		return fmt.Errorf("reward: negative action size")
	case s.ActN > 0 && s.ActDim != 1:
		return fmt.Errorf("reward: a discrete action is one index, so ActDim must be 1, got %d", s.ActDim)
	}
	return nil
}

// width returns the length of a feature row.
func (s Shape) width(f Features) int {
	w := 0
	if f&Obs != 0 {
		w += s.ObsDim
	}
	if f&Act != 0 {
		if s.ActN > 0 {
			w += s.ActN
		} else {
			w += s.ActDim
		}
	}
	if f&Next != 0 {
		w += s.ObsDim
	}
	return w
}

// features writes the feature rows of n transitions into x (n rows of width) and returns it.
// obs and next hold n rows of ObsDim, act n rows of ActDim; a part not in f may be nil.
// Observations are multiplied by scale component by component when it is not nil.
func (s Shape) features(f Features, scale, obs, act, next []float64, n int, x []float64) {
	w := s.width(f)
	for i := 0; i < n; i++ {
		row := x[i*w : (i+1)*w]
		k := 0
		if f&Obs != 0 {
			scaled(row[k:k+s.ObsDim], obs[i*s.ObsDim:(i+1)*s.ObsDim], scale)
			k += s.ObsDim
		}
		if f&Act != 0 {
			if s.ActN > 0 {
				oh := row[k : k+s.ActN]
				clear(oh)
				a := int(act[i])
				if a >= 0 && a < s.ActN {
					oh[a] = 1
				}
				k += s.ActN
			} else {
				k += copy(row[k:], act[i*s.ActDim:(i+1)*s.ActDim])
			}
		}
		if f&Next != 0 {
			scaled(row[k:k+s.ObsDim], next[i*s.ObsDim:(i+1)*s.ObsDim], scale)
		}
	}
}

// scaled copies src into dst, multiplied by scale component by component if scale is not nil.
func scaled(dst, src, scale []float64) {
	copy(dst, src)
	for j := range scale {
		dst[j] *= scale[j]
	}
}

// checkParts reports whether obs, act and next hold n transitions for the parts f reads.
func (s Shape) checkParts(f Features, obs, act, next []float64, n int) error {
	if n < 0 {
		return fmt.Errorf("reward: negative length %d", n)
	}
	if f&Obs != 0 && len(obs) != n*s.ObsDim {
		return fmt.Errorf("reward: %d observation values, want %d×%d", len(obs), n, s.ObsDim)
	}
	if f&Act != 0 {
		if len(act) != n*s.ActDim {
			return fmt.Errorf("reward: %d action values, want %d×%d", len(act), n, s.ActDim)
		}
		if s.ActN > 0 {
			for _, a := range act {
				if a != math.Trunc(a) || a < 0 || int(a) >= s.ActN {
					return fmt.Errorf("reward: discrete action %v is not an index in [0, %d)", a, s.ActN)
				}
			}
		}
	}
	if f&Next != 0 && len(next) != n*s.ObsDim {
		return fmt.Errorf("reward: %d next-observation values, want %d×%d", len(next), n, s.ObsDim)
	}
	return nil
}

// Segment is a stretch of Len consecutive transitions (a clip, σ in §2.1), stored row-major:
// row t of Obs is o_t, of Act a_t, of Next o_{t+1}. A part the model does not read may be nil.
// Segments in one comparison may have different lengths.
type Segment struct {
	Obs  []float64 // Len rows of ObsDim
	Act  []float64 // Len rows of ActDim; a discrete action is its index
	Next []float64 // Len rows of ObsDim
	Len  int       // number of transitions; > 0
}

// Comparison is one labelled pair of segments: Mu is the target probability that Left is
// better (§2.2.3): 1 for left, 0 for right, 0.5 for "equally good".
type Comparison struct {
	Left, Right Segment
	Mu          float64 // in [0, 1]
}

// Label turns a rater's choice into a Comparison using prefs.Choice.Mu; ok is false for
// "can't tell", which carries no preference and is dropped from the loss (§2.2.3).
func Label(left, right Segment, c prefs.Choice) (cmp Comparison, ok bool) {
	mu, ok := c.Mu()
	if !ok {
		return Comparison{}, false
	}
	return Comparison{Left: left, Right: right, Mu: mu}, true
}

// ValShare is the share of comparisons held out for validation: 1/e (App. A).
var ValShare = 1 / math.E

// Dataset is the labelled comparisons a model learns from, split into a training share that
// fits the members and a validation share (1/e, App. A) that is never fitted: it sets the L2
// coefficient and gives an honest accuracy. Both slices only grow: Update assumes that the
// comparisons it has already seen are unchanged.
type Dataset struct {
	Train []Comparison
	Val   []Comparison
	added int // comparisons given to Add; drives the split
}

// Add puts c in Val or Train. The split is a deterministic low-discrepancy sequence: the i-th
// call goes to Val if frac((i+1)·φ⁻¹) < 1/e, so every prefix of the labels is split close to
// 1/e, the first label trains, and an answer's place never depends on later ones.
func (d *Dataset) Add(c Comparison) {
	const phi = 0.6180339887498949 // 1/φ, the golden ratio's conjugate
	d.added++
	if _, f := math.Modf(float64(d.added) * phi); f < ValShare {
		d.Val = append(d.Val, c)
	} else {
		d.Train = append(d.Train, c)
	}
}

// AddChoice adds the comparison of left and right labelled with c, and reports whether it was
// kept ("can't tell" is dropped).
func (d *Dataset) AddChoice(left, right Segment, c prefs.Choice) bool {
	cmp, ok := Label(left, right, c)
	if ok {
		d.Add(cmp)
	}
	return ok
}

// Len returns the number of comparisons in both shares.
func (d *Dataset) Len() int { return len(d.Train) + len(d.Val) }
