package reward

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/prefer-rlhf/prefer/core/nn"
)

// The stored form of a model: versioned JSON holding the configuration, the transition shape
// and, per member, its network (in core/nn's weights format), output normalisation and L2
// coefficient. The binary form is the same header as JSON without the networks, followed by
// each network in core/nn's binary weights format:
//
//	"PRRM" | version uint16 | header length uint32 | header JSON |
//	per member: length uint32 | nn binary weights        (integers little-endian)
// Optimiser state and bootstrap counts are not stored: a loaded model predicts
// exactly as the saved one, and its next Update starts Adam afresh.

// Format and Version identify the stored form.
const (
	Format  = "prefer-reward"
	Version = 1
)

type modelJSON struct {
	Format  string       `json:"format"`
	Version int          `json:"version"`
	Config  configJSON   `json:"config"`
	Shape   shapeJSON    `json:"shape"`
	Members []memberJSON `json:"members"`
}

type configJSON struct {
	Hidden      []int         `json:"hidden"`
	Activation  nn.Activation `json:"activation"`
	Features    Features      `json:"features"`
	Epsilon     float64       `json:"epsilon"`
	LR          float64       `json:"lr"`
	Batch       int           `json:"batch"`
	Epochs      int           `json:"epochs"`
	MinSteps    int           `json:"min_steps"`
	UpdateSteps int           `json:"update_steps"`
	ValEvery    int           `json:"val_every"`
	L2          float64       `json:"l2"`
	RatioLow    float64       `json:"ratio_low"`
	RatioHigh   float64       `json:"ratio_high"`
	L2Factor    float64       `json:"l2_factor"`
	L2Min       float64       `json:"l2_min"`
	L2Max       float64       `json:"l2_max"`
	MaxGradNorm float64       `json:"max_grad_norm"`
	NormSample  int           `json:"norm_sample"`
	Seed        uint64        `json:"seed"`
	Parallel    bool          `json:"parallel"`
	ObsScale    []float64     `json:"obs_scale,omitempty"`
	// The robust fit (robust.go); absent from files written before it.
	Robust       bool    `json:"robust,omitempty"`
	RobustLambda float64 `json:"robust_lambda,omitempty"`
	RobustMode   string  `json:"robust_mode,omitempty"` // absent: R3M, the only robust fit before the modes
	// The random priors' scale β_p (prior.go); absent: none. The priors follow from Seed.
	Prior float64 `json:"prior,omitempty"`
}

type shapeJSON struct {
	ObsDim int `json:"obs_dim"`
	ActDim int `json:"act_dim"`
	ActN   int `json:"act_n"`
}

type memberJSON struct {
	Net  *nn.MLP `json:"net,omitempty"`
	Mean float64 `json:"mean"`
	Std  float64 `json:"std"`
	L2   float64 `json:"l2"`
}

// MarshalJSON encodes the model in its versioned stored form.
func (m *Model) MarshalJSON() ([]byte, error) { return json.Marshal(m.header(true)) }

func (m *Model) header(nets bool) modelJSON {
	c := m.cfg
	v := modelJSON{
		Format: Format, Version: Version,
		Config: configJSON{c.Hidden, c.Activation, c.Features, c.Epsilon, c.LR, c.Batch, c.Epochs, c.MinSteps,
			c.UpdateSteps, c.ValEvery, c.L2, c.RatioLow, c.RatioHigh, c.L2Factor, c.L2Min, c.L2Max,
			c.MaxGradNorm, c.NormSample, c.Seed, c.Parallel, c.ObsScale, c.Robust, c.RobustLambda, string(c.RobustMode), c.Prior},
		Shape: shapeJSON{m.shape.ObsDim, m.shape.ActDim, m.shape.ActN},
	}
	for _, mb := range m.members {
		mj := memberJSON{mb.net, mb.mean, mb.std, mb.l2}
		if !nets {
			mj.Net = nil
		}
		v.Members = append(v.Members, mj)
	}
	return v
}

const binaryMagic = "PRRM"

// MarshalBinary encodes the model in the compact binary form: float64 weights, lossless.
func (m *Model) MarshalBinary() ([]byte, error) {
	h, err := json.Marshal(m.header(false))
	if err != nil {
		return nil, err
	}
	b := append([]byte(binaryMagic), 0, 0, 0, 0, 0, 0)
	binary.LittleEndian.PutUint16(b[4:], Version)
	binary.LittleEndian.PutUint32(b[6:], uint32(len(h)))
	b = append(b, h...)
	for _, mb := range m.members {
		at := len(b)
		b = append(b, 0, 0, 0, 0)
		if b, err = mb.net.AppendBinary(b); err != nil {
			return nil, err
		}
		binary.LittleEndian.PutUint32(b[at:], uint32(len(b)-at-4))
	}
	return b, nil
}

// UnmarshalBinary replaces m with a model decoded from the binary form, with the same checks
// as UnmarshalJSON.
func (m *Model) UnmarshalBinary(b []byte) error {
	if len(b) < 10 || string(b[:4]) != binaryMagic {
		return fmt.Errorf("reward: not a binary reward model")
	}
	if v := binary.LittleEndian.Uint16(b[4:]); v != Version {
		return fmt.Errorf("reward: unsupported model version %d (want %d)", v, Version)
	}
	n := uint64(binary.LittleEndian.Uint32(b[6:]))
	if uint64(len(b)-10) < n {
		return fmt.Errorf("reward: truncated binary model")
	}
	var v modelJSON
	if err := json.Unmarshal(b[10:10+n], &v); err != nil {
		return fmt.Errorf("reward: decoding model header: %w", err)
	}
	rest := b[10+n:]
	for i := range v.Members {
		if len(rest) < 4 {
			return fmt.Errorf("reward: truncated binary model")
		}
		k := uint64(binary.LittleEndian.Uint32(rest))
		if uint64(len(rest)-4) < k {
			return fmt.Errorf("reward: truncated binary model")
		}
		v.Members[i].Net = new(nn.MLP)
		if err := v.Members[i].Net.UnmarshalBinary(rest[4 : 4+k]); err != nil {
			return fmt.Errorf("reward: member %d: %w", i, err)
		}
		rest = rest[4+k:]
	}
	if len(rest) != 0 {
		return fmt.Errorf("reward: %d stray bytes after the binary model", len(rest))
	}
	return m.set(v)
}

// UnmarshalJSON replaces m with a decoded model, after checking the format, the version and
// that every network fits the configuration.
func (m *Model) UnmarshalJSON(b []byte) error {
	var v modelJSON
	if err := json.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("reward: decoding model: %w", err)
	}
	return m.set(v)
}

// set replaces m with the decoded model v after checking it.
func (m *Model) set(v modelJSON) error {
	if v.Format != Format {
		return fmt.Errorf("reward: not a reward model (format %q)", v.Format)
	}
	if v.Version != Version {
		return fmt.Errorf("reward: unsupported model version %d (want %d)", v.Version, Version)
	}
	j := v.Config
	cfg := Config{Members: len(v.Members), Hidden: j.Hidden, Activation: j.Activation, Features: j.Features,
		Epsilon: j.Epsilon, LR: j.LR, Batch: j.Batch, Epochs: j.Epochs, MinSteps: j.MinSteps, UpdateSteps: j.UpdateSteps,
		ValEvery: j.ValEvery, L2: j.L2, RatioLow: j.RatioLow, RatioHigh: j.RatioHigh, L2Factor: j.L2Factor,
		L2Min: j.L2Min, L2Max: j.L2Max, MaxGradNorm: j.MaxGradNorm, NormSample: j.NormSample, Seed: j.Seed,
		Parallel: j.Parallel, ObsScale: j.ObsScale, Robust: j.Robust, RobustLambda: j.RobustLambda,
		RobustMode: RobustMode(j.RobustMode), Prior: j.Prior}
	n, err := New(cfg, Shape{v.Shape.ObsDim, v.Shape.ActDim, v.Shape.ActN})
	if err != nil {
		return err
	}
	for i, mj := range v.Members {
		mb := n.members[i]
		if mj.Net == nil || !slices.Equal(mj.Net.Sizes, mb.net.Sizes) || len(mj.Net.Params) != len(mb.net.Params) ||
			mj.Net.Hidden != mb.net.Hidden || mj.Net.Output != mb.net.Output {
			return fmt.Errorf("reward: member %d's network does not match the configuration", i)
		}
		if !(mj.Std > 0) {
			return fmt.Errorf("reward: member %d's std must be positive, got %v", i, mj.Std)
		}
		mb.net = mj.Net
		mb.mean, mb.std, mb.l2 = mj.Mean, mj.Std, mj.L2
	}
	m.cfg, m.shape, m.width, m.members, m.rng = n.cfg, n.shape, n.width, n.members, n.rng
	return nil
}
