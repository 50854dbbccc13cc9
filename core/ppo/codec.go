package ppo

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"math"

	"github.com/prefer-rlhf/prefer/core/env"
	"github.com/prefer-rlhf/prefer/core/nn"
)

// The binary policy format, version 1, little-endian:
//
//	"PFPOLICY"  8 bytes of magic
//	uint32      version (1)
//	uint32      length of the header, then the header: JSON of policyHeader
//	float64s    the flat parameters (Actor | Critic | LogStd), then, with ObsNorm, the
//	            observation mean and variance
//	uint32      CRC-32 (IEEE) of everything before it
const policyMagic = "PFPOLICY"

const policyVersion = 1

type policyHeader struct {
	ObsDim      int       `json:"obs_dim"`
	N           int       `json:"actions"` // discrete actions; 0 for a box
	Low         []float64 `json:"low,omitempty"`
	High        []float64 `json:"high,omitempty"`
	ActorSizes  []int     `json:"actor_sizes"`
	CriticSizes []int     `json:"critic_sizes"`
	Hidden      int       `json:"hidden"` // nn.Activation
	NumParams   int       `json:"num_params"`
	ObsNorm     bool      `json:"obs_norm"`
	NormCount   float64   `json:"norm_count,omitempty"`
	ObsClip     float64   `json:"obs_clip,omitempty"`
}

// MarshalBinary encodes p in Prefer's binary policy format (version 1).
func (p *Policy) MarshalBinary() ([]byte, error) {
	h := policyHeader{
		ObsDim: p.ObsDim, N: p.Action.N, Low: p.Action.Low, High: p.Action.High,
		ActorSizes: p.Actor.Sizes, CriticSizes: p.Critic.Sizes, Hidden: int(p.Actor.Hidden),
		NumParams: len(p.params), ObsNorm: p.ObsNorm != nil, ObsClip: p.ObsClip,
	}
	if p.ObsNorm != nil {
		h.NormCount = p.ObsNorm.Count
	}
	hj, err := json.Marshal(h)
	if err != nil {
		return nil, fmt.Errorf("ppo: %w", err)
	}
	var b bytes.Buffer
	b.WriteString(policyMagic)
	binary.Write(&b, binary.LittleEndian, uint32(policyVersion))
	binary.Write(&b, binary.LittleEndian, uint32(len(hj)))
	b.Write(hj)
	binary.Write(&b, binary.LittleEndian, p.params)
	if p.ObsNorm != nil {
		binary.Write(&b, binary.LittleEndian, p.ObsNorm.Mean)
		binary.Write(&b, binary.LittleEndian, p.ObsNorm.Var)
	}
	binary.Write(&b, binary.LittleEndian, crc32.ChecksumIEEE(b.Bytes()))
	return b.Bytes(), nil
}

// UnmarshalBinary decodes a policy written by MarshalBinary, checking the magic, version,
// checksum, shapes and that every number is finite.
func (p *Policy) UnmarshalBinary(data []byte) error {
	bad := func(format string, a ...any) error { return fmt.Errorf("ppo: policy file: "+format, a...) }
	if len(data) < len(policyMagic)+12 || string(data[:len(policyMagic)]) != policyMagic {
		return bad("not a Prefer policy (bad magic)")
	}
	body, sum := data[:len(data)-4], binary.LittleEndian.Uint32(data[len(data)-4:])
	if crc32.ChecksumIEEE(body) != sum {
		return bad("checksum mismatch (corrupt or truncated)")
	}
	r := body[len(policyMagic):]
	if v := binary.LittleEndian.Uint32(r); v != policyVersion {
		return bad("unsupported version %d (want %d)", v, policyVersion)
	}
	hl := int(binary.LittleEndian.Uint32(r[4:]))
	r = r[8:]
	if hl > len(r) {
		return bad("header longer than the file")
	}
	var h policyHeader
	dec := json.NewDecoder(bytes.NewReader(r[:hl]))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&h); err != nil {
		return bad("header: %v", err)
	}
	r = r[hl:]
	if err := h.check(); err != nil {
		return bad("%v", err)
	}
	nf := h.NumParams
	if h.ObsNorm {
		nf += 2 * h.ObsDim
	}
	if len(r) != 8*nf {
		return bad("%d bytes of numbers, want %d", len(r), 8*nf)
	}
	nums := make([]float64, nf)
	for i := range nums {
		v := math.Float64frombits(binary.LittleEndian.Uint64(r[8*i:]))
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return bad("number %d is not finite", i)
		}
		nums[i] = v
	}
	q := Policy{ObsDim: h.ObsDim, Action: env.Space{N: h.N, Low: h.Low, High: h.High}, ObsClip: h.ObsClip}
	q.Actor = nn.New(h.ActorSizes, nn.Activation(h.Hidden), nn.Identity)
	q.Critic = nn.New(h.CriticSizes, nn.Activation(h.Hidden), nn.Identity)
	na, nc := len(q.Actor.Params), len(q.Critic.Params)
	copy(q.Actor.Params, nums[:na])
	copy(q.Critic.Params, nums[na:na+nc])
	if h.N == 0 {
		q.LogStd = append([]float64(nil), nums[na+nc:h.NumParams]...)
	}
	if h.ObsNorm {
		if !(h.NormCount > 0) {
			return bad("observation statistics with count %v", h.NormCount)
		}
		q.ObsNorm = &RunningStat{
			Mean:  append([]float64(nil), nums[h.NumParams:h.NumParams+h.ObsDim]...),
			Var:   append([]float64(nil), nums[h.NumParams+h.ObsDim:]...),
			Count: h.NormCount,
		}
		for _, v := range q.ObsNorm.Var {
			if v < 0 {
				return bad("negative observation variance")
			}
		}
	}
	q.flatten()
	*p = q
	return nil
}

// check validates the shapes in a header.
func (h *policyHeader) check() error {
	if h.ObsDim <= 0 || h.ObsDim > 1<<16 {
		return fmt.Errorf("observation length %d", h.ObsDim)
	}
	out := h.N
	if h.N < 0 {
		return fmt.Errorf("%d discrete actions", h.N)
	}
	if h.N == 0 {
		if len(h.Low) == 0 || len(h.Low) != len(h.High) {
			return errors.New("a box action space needs bounds of equal, positive length")
		}
		for i := range h.Low {
			if !(h.Low[i] <= h.High[i]) {
				return fmt.Errorf("box bound %d: low %v > high %v", i, h.Low[i], h.High[i])
			}
		}
		out = len(h.Low)
	} else if len(h.Low) != 0 || len(h.High) != 0 {
		return errors.New("a discrete space has no bounds")
	}
	if h.Hidden < int(nn.Identity) || h.Hidden > int(nn.LeakyReLU) {
		return fmt.Errorf("unknown activation %d", h.Hidden)
	}
	if err := checkSizes(h.ActorSizes, h.ObsDim, out); err != nil {
		return fmt.Errorf("actor: %v", err)
	}
	if err := checkSizes(h.CriticSizes, h.ObsDim, 1); err != nil {
		return fmt.Errorf("critic: %v", err)
	}
	want := nn.NumParams(h.ActorSizes) + nn.NumParams(h.CriticSizes)
	if h.N == 0 {
		want += out
	}
	if h.NumParams != want {
		return fmt.Errorf("%d parameters, the shapes need %d", h.NumParams, want)
	}
	if !(h.ObsClip >= 0) || math.IsInf(h.ObsClip, 0) {
		return fmt.Errorf("observation clip %v", h.ObsClip)
	}
	return nil
}

func checkSizes(s []int, in, out int) error {
	if len(s) < 2 || s[0] != in || s[len(s)-1] != out {
		return fmt.Errorf("sizes %v do not map %d inputs to %d outputs", s, in, out)
	}
	for _, v := range s {
		if v <= 0 || v > 1<<16 {
			return fmt.Errorf("layer width %d", v)
		}
	}
	return nil
}
