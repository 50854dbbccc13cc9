package reward

import (
	"encoding/binary"
	"fmt"
	"math"
)

// A fit is the members' work followed by the ensemble's. Each member trains on its own
// bootstrap resample with its own random stream, weights and optimiser (App. A: the members
// are fitted independently), and reads nothing another member writes; only the output
// normalisation and the stats look at all members. So a member's share can run elsewhere,
// for example in another Web Worker of the browser, where Go has one thread:
//
//	for each member i, perhaps in another process holding a copy of m:
//		m.SetMemberState(i, state); m.FitMember(i, d) (or UpdateMember); state = m.MemberState(i)
//	back in m: m.SetMemberState(i, state) for each i; stats := m.Assemble(d, steps)
//
// gives the same model as m.Fit(d) (or m.Update(d)) bit for bit: the member code is the same,
// and MemberState carries everything it reads and writes, its random stream included.

// FitMember runs member i's share of Fit on d: fresh weights and optimiser, a fresh bootstrap
// resample, the epochs and the L2 adaptation. It returns the minibatch steps taken. The
// ensemble is not normalised until Assemble.
func (m *Model) FitMember(i int, d *Dataset) (steps int, err error) {
	if i < 0 || i >= len(m.members) {
		return 0, fmt.Errorf("reward: member %d of %d", i, len(m.members))
	}
	if err := m.checkFit(d); err != nil {
		return 0, err
	}
	return m.members[i].fit(m, d), nil
}

// UpdateMember runs member i's share of Update on d, and returns the minibatch steps taken.
func (m *Model) UpdateMember(i int, d *Dataset) (steps int, err error) {
	if i < 0 || i >= len(m.members) {
		return 0, fmt.Errorf("reward: member %d of %d", i, len(m.members))
	}
	if err := m.checkUpdate(d, m.members[i].fitted); err != nil {
		return 0, err
	}
	return m.members[i].update(m, d), nil
}

// Assemble ends a fit whose members' shares ran by FitMember or UpdateMember: it sets the
// output normalisation from d and returns the fit's stats, steps being the members' steps
// summed.
func (m *Model) Assemble(d *Dataset, steps int) Stats {
	m.normalizeOn(d)
	return m.stats(d, steps)
}

const memberMagic = "PRMS"

// MemberState encodes everything member i's fit reads and writes: weights, optimiser moments,
// L2 coefficient, normalisation, bootstrap counts, the state of its random stream, and the
// losses and validation Δs the stats read. Unlike MarshalBinary it is for handing a member to
// another copy of the same model, not for storage.
func (m *Model) MemberState(i int) ([]byte, error) {
	mb := m.members[i]
	rng, err := mb.src.MarshalBinary()
	if err != nil {
		return nil, err
	}
	b := []byte(memberMagic)
	b = appendFloats(b, mb.net.Params)
	b = appendFloats(b, mb.opt.M)
	b = appendFloats(b, mb.opt.V)
	b = binary.LittleEndian.AppendUint64(b, uint64(mb.opt.T))
	b = appendFloats(b, []float64{mb.l2, mb.mean, mb.std, mb.trainLoss, mb.valLoss})
	b = appendFloats(b, mb.valDelta)
	b = binary.LittleEndian.AppendUint32(b, uint32(mb.fitted))
	b = binary.LittleEndian.AppendUint32(b, uint32(len(mb.counts)))
	for _, c := range mb.counts {
		b = binary.LittleEndian.AppendUint32(b, uint32(c))
	}
	b = binary.LittleEndian.AppendUint32(b, uint32(len(rng)))
	return append(b, rng...), nil
}

// SetMemberState replaces member i with one encoded by MemberState of a model with the same
// configuration and shape.
func (m *Model) SetMemberState(i int, b []byte) error {
	if i < 0 || i >= len(m.members) {
		return fmt.Errorf("reward: member %d of %d", i, len(m.members))
	}
	mb := m.members[i]
	r := reader{b: b}
	if string(r.next(4)) != memberMagic {
		return fmt.Errorf("reward: not a member state")
	}
	np := len(mb.net.Params)
	params, mom, vel := r.floats(), r.floats(), r.floats()
	t := r.u64()
	sc := r.floats()
	val := r.floats()
	fitted := r.u32()
	counts := make([]int32, min(r.u32(), uint32(len(r.b)/4)))
	for k := range counts {
		counts[k] = int32(r.u32())
	}
	rng := r.next(int(r.u32()))
	if r.bad || len(r.b) != 0 || len(params) != np || len(mom) != np || len(vel) != np || len(sc) != 5 {
		return fmt.Errorf("reward: member state does not fit the model")
	}
	if err := mb.src.UnmarshalBinary(rng); err != nil {
		return fmt.Errorf("reward: member state: %w", err)
	}
	copy(mb.net.Params, params)
	mb.opt.M, mb.opt.V, mb.opt.T = mom, vel, int(t)
	mb.l2, mb.mean, mb.std, mb.trainLoss, mb.valLoss = sc[0], sc[1], sc[2], sc[3], sc[4]
	mb.valDelta, mb.fitted, mb.counts = val, int(fitted), counts
	return nil
}

// AppendDataset appends d's comparisons in a binary form that DecodeDataset reads, to hand
// the data of a member's fit to another process.
func AppendDataset(b []byte, d *Dataset) []byte {
	for _, cs := range [][]Comparison{d.Train, d.Val} {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(cs)))
		for _, c := range cs {
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(c.Mu))
			for _, s := range []Segment{c.Left, c.Right} {
				b = binary.LittleEndian.AppendUint32(b, uint32(s.Len))
				b = appendFloats(b, s.Obs)
				b = appendFloats(b, s.Act)
				b = appendFloats(b, s.Next)
			}
		}
	}
	return b
}

// DecodeDataset reads what AppendDataset wrote.
func DecodeDataset(b []byte) (*Dataset, error) {
	r := reader{b: b}
	d := &Dataset{}
	for _, cs := range []*[]Comparison{&d.Train, &d.Val} {
		n := r.u32()
		for k := uint32(0); k < n && !r.bad; k++ {
			c := Comparison{Mu: math.Float64frombits(r.u64())}
			for _, s := range []*Segment{&c.Left, &c.Right} {
				s.Len = int(r.u32())
				s.Obs, s.Act, s.Next = r.floats(), r.floats(), r.floats()
			}
			*cs = append(*cs, c)
		}
	}
	if r.bad || len(r.b) != 0 {
		return nil, fmt.Errorf("reward: bad dataset encoding")
	}
	return d, nil
}

// appendFloats appends a length and the float64 values; nil and empty read back as nil.
func appendFloats(b []byte, v []float64) []byte {
	b = binary.LittleEndian.AppendUint32(b, uint32(len(v)))
	for _, x := range v {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(x))
	}
	return b
}

// reader reads little-endian values; a read past the end sets bad and returns zeros.
type reader struct {
	b   []byte
	bad bool
}

func (r *reader) next(n int) []byte {
	if n < 0 || n > len(r.b) {
		r.bad, r.b = true, nil
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) u32() uint32 {
	if v := r.next(4); v != nil {
		return binary.LittleEndian.Uint32(v)
	}
	return 0
}

func (r *reader) u64() uint64 {
	if v := r.next(8); v != nil {
		return binary.LittleEndian.Uint64(v)
	}
	return 0
}

func (r *reader) floats() []float64 {
	n := int(r.u32())
	if n == 0 || n > len(r.b)/8 {
		if n != 0 {
			r.bad = true
		}
		return nil
	}
	v := make([]float64, n)
	for k := range v {
		v[k] = math.Float64frombits(r.u64())
	}
	return v
}
