package ppo

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
)

// State is what a Trainer has learned besides its policy's weights: the optimiser's moments,
// the reward normaliser, the KL coefficient, and the step counts that the step-size schedule
// follows. A Trainer resumed with SetState continues where the saved one stopped, except for
// its envs, which start new episodes.
//
// Without it a resumed trainer starts its schedule again at the full step size, with an
// Adam whose first steps move every weight by about the step size whatever the gradient
// (m/√v ≈ ±1 after bias correction): a converged policy is thrown off at once.
type State struct {
	EnvSteps   int          `json:"env_steps"`
	Episodes   int          `json:"episodes"`
	Iteration  int          `json:"iteration"`
	AdamM      []float64    `json:"adam_m"`
	AdamV      []float64    `json:"adam_v"`
	AdamT      int          `json:"adam_t"`
	KLBeta     float64      `json:"kl_beta"`
	Recent     []float64    `json:"recent,omitempty"`      // true returns of the last finished episodes
	RewardStat *RunningStat `json:"reward_stat,omitempty"` // the reward normaliser's; nil without NormReward
}

// State returns a copy of the trainer's state.
func (tr *Trainer) State() State {
	s := State{
		EnvSteps: tr.envSteps, Episodes: tr.episodes, Iteration: tr.iteration,
		AdamM: append([]float64(nil), tr.adam.M...), AdamV: append([]float64(nil), tr.adam.V...), AdamT: tr.adam.T,
		KLBeta: tr.kl.Beta, Recent: append([]float64(nil), tr.recent...),
	}
	if tr.rnorm != nil {
		s.RewardStat = tr.rnorm.stat.Clone()
	}
	return s
}

// SetState restores a state taken from a trainer of the same configuration (State). Set the
// policy's weights as well: the moments belong to them.
func (tr *Trainer) SetState(s State) error {
	n := len(tr.adam.M)
	switch {
	case len(s.AdamM) != n || len(s.AdamV) != n:
		return fmt.Errorf("ppo: state has optimiser moments of %d and %d parameters, the trainer %d", len(s.AdamM), len(s.AdamV), n)
	case s.EnvSteps < 0 || s.Episodes < 0 || s.Iteration < 0 || s.AdamT < 0 || !(s.KLBeta >= 0):
		return fmt.Errorf("ppo: state has a negative count or β")
	case (s.RewardStat != nil) != (tr.rnorm != nil):
		return fmt.Errorf("ppo: state's reward normaliser does not match the trainer's NormReward")
	case s.RewardStat != nil && (len(s.RewardStat.Mean) != 1 || len(s.RewardStat.Var) != 1):
		return fmt.Errorf("ppo: state's reward normaliser has %d coordinates, want 1", len(s.RewardStat.Mean))
	}
	tr.envSteps, tr.episodes, tr.iteration = s.EnvSteps, s.Episodes, s.Iteration
	copy(tr.adam.M, s.AdamM)
	copy(tr.adam.V, s.AdamV)
	tr.adam.T = s.AdamT
	tr.kl.Beta = s.KLBeta
	tr.recent = append(tr.recent[:0], s.Recent...)
	if s.RewardStat != nil {
		tr.rnorm.stat = s.RewardStat.Clone()
	}
	return nil
}

// stateJSON is State in JSON: the optimiser's moments as bytes, which base64 makes a third of
// the size of decimal numbers, and exact. A hub checkpoint carries them every round.
type stateJSON struct {
	stateFields
	AdamM []byte `json:"adam_m"`
	AdamV []byte `json:"adam_v"`
}

type stateFields State // State without its methods, so that encoding it does not recurse

// MarshalJSON encodes s with its moments as base64 bytes.
func (s State) MarshalJSON() ([]byte, error) {
	return json.Marshal(stateJSON{stateFields: stateFields(s), AdamM: floatBytes(s.AdamM), AdamV: floatBytes(s.AdamV)})
}

// UnmarshalJSON decodes what MarshalJSON encodes.
func (s *State) UnmarshalJSON(b []byte) error {
	var j stateJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	if len(j.AdamM)%8 != 0 || len(j.AdamV)%8 != 0 {
		return fmt.Errorf("ppo: state's moments are %d and %d bytes, not whole float64s", len(j.AdamM), len(j.AdamV))
	}
	*s = State(j.stateFields)
	s.AdamM, s.AdamV = bytesFloats(j.AdamM), bytesFloats(j.AdamV)
	return nil
}

func floatBytes(v []float64) []byte {
	b := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(x))
	}
	return b
}

func bytesFloats(b []byte) []float64 {
	v := make([]float64, len(b)/8)
	for i := range v {
		v[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
	}
	return v
}
