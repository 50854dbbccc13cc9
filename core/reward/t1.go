package reward

import (
	"math"
	"math/rand/v2"
	"time"

	"github.com/prefer-rlhf/prefer/core/nn"
	"github.com/prefer-rlhf/prefer/core/oracle"
)

// Task T1 is the reward-fitting speed benchmark: an ensemble of 3 networks 4 -> 64 -> 64 -> 1
// with tanh, fitted on 500 comparisons of two 25-step segments, batches of 64, Adam at 1e-3,
// 10 epochs on bootstrap resamples. The data are CartPole-like 4-d observations labelled by a
// perfect synthetic rater from a hidden reward, so accuracy on fresh comparisons says whether
// the fit learned anything.
const (
	T1Comparisons = 500
	T1SegmentLen  = 25
	T1HeldOut     = 500
)

// T1Config returns the reward-model configuration of task T1.
func T1Config(seed uint64) Config {
	c := Defaults()
	c.Members = 3
	c.Hidden = []int{64, 64}
	c.Activation = nn.Tanh
	c.Features = Obs
	c.Batch = 64
	c.LR = 1e-3
	c.Epochs = 10
	c.Seed = seed
	return c
}

// T1 runs task T1 once. It returns the wall time of the fit alone (data generation and the
// held-out evaluation are not timed) and the share of T1HeldOut fresh comparisons on which the
// fitted ensemble prefers the segment with the larger true return.
//
// The fit sees T1Comparisons training comparisons (each member's bootstrap resample is drawn
// from them, so the work matches the task's statement) plus a validation share of 1/e of the
// labelled data (291 comparisons) that only sets L2 and is evaluated, not fitted.
func T1(seed uint64) (seconds, heldOutAccuracy float64) {
	_, seconds, heldOutAccuracy = T1Fit(seed)
	return seconds, heldOutAccuracy
}

// T1Fit is T1 that also returns the fitted model, so that two kernels can be checked to fit
// the same bits (tests/wasmbench).
func T1Fit(seed uint64) (m *Model, seconds, heldOutAccuracy float64) {
	return t1(seed, T1Config(seed).Members)
}

// T1Data returns task T1's data for a seed: the dataset the fit sees and the held-out
// comparisons it is scored on.
func T1Data(seed uint64) (d *Dataset, heldOut []Comparison) {
	const n = T1Comparisons
	rng := rand.New(rand.NewPCG(seed, 0x7131))
	nVal := int(math.Round(float64(n) * ValShare / (1 - ValShare)))
	d = &Dataset{
		Train: CartPoleComparisons(rng, n, T1SegmentLen, oracle.Rater{}),
		Val:   CartPoleComparisons(rng, nVal, T1SegmentLen, oracle.Rater{}),
	}
	return d, CartPoleComparisons(rng, T1HeldOut, T1SegmentLen, oracle.Rater{})
}

// T1Shape is the transition shape of task T1's model.
var T1Shape = Shape{ObsDim: 4, ActDim: 1, ActN: 2}

// t1 runs task T1 with the given ensemble size.
func t1(seed uint64, members int) (m *Model, seconds, heldOutAccuracy float64) {
	d, test := T1Data(seed)
	cfg := T1Config(seed)
	cfg.Members = members
	m, err := New(cfg, T1Shape)
	if err != nil {
		panic(err) // T1Config is valid
	}
	start := time.Now()
	if _, err := m.Fit(d); err != nil {
		panic(err)
	}
	seconds = time.Since(start).Seconds()
	return m, seconds, Accuracy(m, test)
}

// Accuracy returns the share of comparisons with a strict preference (μ ≠ ½) on whose side
// of ½ the model's P(left better) falls.
func Accuracy(m *Model, cs []Comparison) float64 {
	right, total := 0, 0
	for _, c := range cs {
		if c.Mu == 0.5 {
			continue
		}
		p, _ := m.Prefer(c.Left, c.Right)
		total++
		if (p > 0.5) == (c.Mu > 0.5) {
			right++
		}
	}
	if total == 0 {
		return math.NaN()
	}
	return float64(right) / float64(total)
}

// CartPoleComparisons draws n comparisons of two segments of segLen steps of a cart-pole
// (Gymnasium's CartPole-v1 equations of motion, without termination, so segments have a fixed
// length), labelled by rater from the hidden reward CartPoleReward. Start states are spread
// wide and each segment follows a policy that mixes a balancing heuristic with random pushes
// in a random proportion, so segments range from good to bad.
func CartPoleComparisons(rng *rand.Rand, n, segLen int, rater oracle.Rater) []Comparison {
	cs := make([]Comparison, 0, n)
	for len(cs) < n {
		a, ra := cartPoleSegment(rng, segLen)
		b, rb := cartPoleSegment(rng, segLen)
		if c, ok := Label(a, b, rater.Choose(rng, ra, rb)); ok {
			cs = append(cs, c)
		}
	}
	return cs
}

// CartPoleReward is the hidden reward behind CartPoleComparisons: the pole's height, cos θ,
// minus a quadratic penalty for leaving the centre of the track.
func CartPoleReward(obs []float64) float64 {
	x, theta := obs[0], obs[2]
	return math.Cos(theta) - 0.25*(x/2.4)*(x/2.4)
}

// cartPoleSegment rolls out one segment and returns it with its true return.
func cartPoleSegment(rng *rand.Rand, segLen int) (Segment, float64) {
	const (
		gravity, massCart, massPole, length, force, tau = 9.8, 1.0, 0.1, 0.5, 10.0, 0.02
		totalMass, poleMassLength                       = massCart + massPole, massPole * length
	)
	s := [4]float64{
		rng.Float64()*4 - 2, rng.Float64()*3 - 1.5,
		rng.Float64()*0.4 - 0.2, rng.Float64()*3 - 1.5,
	}
	skill := rng.Float64()
	seg := Segment{Obs: make([]float64, 0, 4*segLen), Act: make([]float64, 0, segLen), Next: make([]float64, 0, 4*segLen), Len: segLen}
	ret := 0.0
	for t := 0; t < segLen; t++ {
		seg.Obs = append(seg.Obs, s[:]...)
		ret += CartPoleReward(s[:])
		a := rng.IntN(2)
		if rng.Float64() < skill {
			a = 0
			if s[2]+0.5*s[3] > 0 {
				a = 1
			}
		}
		seg.Act = append(seg.Act, float64(a))
		// Gymnasium CartPoleEnv.step, Euler integration.
		f := -force
		if a == 1 {
			f = force
		}
		x, xDot, theta, thetaDot := s[0], s[1], s[2], s[3]
		cos, sin := math.Cos(theta), math.Sin(theta)
		temp := (f + poleMassLength*thetaDot*thetaDot*sin) / totalMass
		thetaAcc := (gravity*sin - cos*temp) / (length * (4.0/3.0 - massPole*cos*cos/totalMass))
		xAcc := temp - poleMassLength*thetaAcc*cos/totalMass
		s = [4]float64{x + tau*xDot, xDot + tau*xAcc, theta + tau*thetaDot, thetaDot + tau*thetaAcc}
		seg.Next = append(seg.Next, s[:]...)
	}
	return seg, ret
}
