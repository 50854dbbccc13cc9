package reward

import (
	"fmt"
	"math"
)

// Objective is what PPO maximises of the ensemble's members' rewards (Coste et al. 2023,
// "Reward Model Ensembles Help Mitigate Overoptimization", §3): the mean (the paper's r̂,
// App. A), the worst case over members, or the uncertainty-weighted mean.
type Objective string

// The objectives.
const (
	ObjectiveMean Objective = "mean" // mean over members: the paper's r̂ and the default
	ObjectiveMin  Objective = "min"  // worst-case optimisation: the minimum over members
	ObjectiveUWO  Objective = "uwo"  // uncertainty-weighted: mean - λ·std over members
)

// ParseObjective returns the objective named s.
func ParseObjective(s string) (Objective, error) {
	switch o := Objective(s); o {
	case ObjectiveMean, ObjectiveMin, ObjectiveUWO:
		return o, nil
	}
	return "", fmt.Errorf(`reward: unknown objective %q (want "mean", "min" or "uwo")`, s)
}

// Conservative gives the ensemble's reward under an objective; it has the Rewards method
// that core/ppo consumes, and reads the model it was made from (refits included).
type Conservative struct {
	m      *Model
	obj    Objective
	lambda float64
}

// WithObjective returns m's reward under obj. lambda is the weight of the members' standard
// deviation for ObjectiveUWO, >= 0. Coste et al. penalise the variance; on members normalised
// to unit scale (normalize.go) the standard deviation is in reward units, so λ does not
// depend on how large rewards are.
func (m *Model) WithObjective(obj Objective, lambda float64) (*Conservative, error) {
	if _, err := ParseObjective(string(obj)); err != nil {
		return nil, err
	}
	if !(lambda >= 0) || math.IsInf(lambda, 0) {
		return nil, fmt.Errorf("reward: objective λ must be finite and >= 0, got %v", lambda)
	}
	return &Conservative{m: m, obj: obj, lambda: lambda}, nil
}

// Rewards writes the objective's reward of n transitions to out, from each member's
// normalised output, transition by transition. ObjectiveMean equals Model.Rewards.
func (c *Conservative) Rewards(obs, act, next []float64, n int, out []float64) {
	m := c.m
	if c.obj == ObjectiveMean {
		m.Rewards(obs, act, next, n, out)
		return
	}
	if err := m.shape.checkParts(m.cfg.Features, obs, act, next, n); err != nil {
		panic(err)
	}
	if len(out) < n {
		panic(fmt.Sprintf("reward: out has %d values, want %d", len(out), n))
	}
	s := m.getScratch()
	defer m.scratch.Put(s)
	s.x = grow(s.x, n*m.width)
	m.shape.features(m.cfg.Features, m.cfg.ObsScale, obs, act, next, n, s.x)
	k := len(m.members)
	s.acc = grow(s.acc, n*k) // member i's reward of transition j at j·k+i
	for i, mb := range m.members {
		y := mb.forward(&s.tape, &s.ptape, s.x, n)
		for j, v := range y {
			s.acc[j*k+i] = (v - mb.mean) / mb.std
		}
	}
	for j := 0; j < n; j++ {
		out[j] = combine(c.obj, c.lambda, s.acc[j*k:(j+1)*k])
	}
}

// combine applies the objective to one transition's member rewards.
func combine(obj Objective, lambda float64, r []float64) float64 {
	if obj == ObjectiveMin {
		lo := r[0]
		for _, v := range r[1:] {
			lo = math.Min(lo, v)
		}
		return lo
	}
	mean := 0.0
	for _, v := range r {
		mean += v
	}
	mean /= float64(len(r))
	if obj == ObjectiveMean {
		return mean
	}
	sq := 0.0
	for _, v := range r {
		sq += (v - mean) * (v - mean)
	}
	return mean - lambda*math.Sqrt(sq/float64(len(r)))
}
