package fitter

import (
	"encoding/binary"
	"errors"

	"github.com/prefer-rlhf/prefer/core/reward"
)

// Go in the browser has one thread, so a Web Worker fits the ensemble's members one after the
// other. When the device has more cores (navigator.hardwareConcurrency), a full fit hands
// members to other workers: more instances of the same fitter.js and app.wasm (cached, not
// downloaded again), started by this one on the first such fit. A member's share of the fit
// needs only the model, the member's state and the data (core/reward's FitMember), so each
// worker gets those as bytes and sends the member's state back; this worker assembles the
// ensemble (normalisation, stats). The model is the single worker's bit for bit.
//
// Only full fits are split. An incremental Update after a label takes a few minibatch steps,
// less than handing the data to another worker would cost, so it runs here on the assembled
// model.

// Pool is the other workers. Worker w (1 <= w < Size) runs its jobs in the order started;
// worker 0 is the caller.
type Pool interface {
	// Size is how many workers can fit members, the caller included.
	Size() int
	// Start sends a job (EncodeJob) to worker w and returns a function that waits for its
	// result (RunJob's).
	Start(w int, job []byte) (wait func() ([]byte, error))
}

// EncodeJob frames one worker's share of a full fit as bytes: the model's binary form
// (core/reward), the dataset (reward.AppendDataset), and the members to fit in order, each
// with its state (reward.Model.MemberState).
func EncodeJob(model, data []byte, members []int, states [][]byte) []byte {
	b := appendBytes(nil, model)
	b = appendBytes(b, data)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(members)))
	for k, i := range members {
		b = binary.LittleEndian.AppendUint32(b, uint32(i))
		b = appendBytes(b, states[k])
	}
	return b
}

// RunJob fits the members of a job on its own copy of the model and returns their states and
// steps: what another worker does with a Pool's job.
func RunJob(b []byte) ([]byte, error) {
	r := frame{b: b}
	var m reward.Model
	model, data := r.bytes(), r.bytes()
	if err := m.UnmarshalBinary(model); err != nil {
		return nil, err
	}
	d, err := reward.DecodeDataset(data)
	if err != nil {
		return nil, err
	}
	n := r.u32()
	out := binary.LittleEndian.AppendUint32(nil, n)
	steps := 0
	for k := uint32(0); k < n; k++ {
		i, st := int(r.u32()), r.bytes()
		if r.bad {
			break
		}
		if err := m.SetMemberState(i, st); err != nil {
			return nil, err
		}
		s, err := m.FitMember(i, d)
		if err != nil {
			return nil, err
		}
		steps += s
		if st, err = m.MemberState(i); err != nil {
			return nil, err
		}
		out = binary.LittleEndian.AppendUint32(out, uint32(i))
		out = appendBytes(out, st)
	}
	if r.bad || len(r.b) != 0 {
		return nil, errors.New("fitter: bad member job")
	}
	return binary.LittleEndian.AppendUint32(out, uint32(steps)), nil
}

// fitSplit runs a full Fit of f.model on d with its members spread over k workers (member i
// on worker i mod k, worker 0 this one) and assembles the ensemble.
func (f *Fitter) fitSplit(d *reward.Dataset, k int) (st reward.Stats, err error) {
	defer func() {
		if r := recover(); r != nil { // a worker that cannot start throws in JS
			err = errors.New("fitter: fit workers: " + panicText(r))
		}
	}()
	m := f.model
	model, err := m.MarshalBinary()
	if err != nil {
		return reward.Stats{}, err
	}
	data := reward.AppendDataset(nil, d)
	var waits []func() ([]byte, error)
	for w := 1; w < k; w++ {
		var members []int
		var states [][]byte
		for i := w; i < m.Members(); i += k {
			st, err := m.MemberState(i)
			if err != nil {
				return reward.Stats{}, err
			}
			members, states = append(members, i), append(states, st)
		}
		waits = append(waits, f.pool.Start(w, EncodeJob(model, data, members, states)))
	}
	steps := 0
	var first error
	for i := 0; i < m.Members(); i += k {
		s, err := m.FitMember(i, d)
		steps += s
		first = firstErr(first, err)
	}
	for _, wait := range waits { // every job is waited for, so none is left running
		res, err := wait()
		if err == nil {
			var s int
			s, err = TakeResult(m, res)
			steps += s
		}
		first = firstErr(first, err)
	}
	if first != nil {
		return reward.Stats{}, first
	}
	return m.Assemble(d, steps), nil
}

// TakeResult puts the member states of a job's result (RunJob's) into m and returns the
// job's minibatch steps.
func TakeResult(m *reward.Model, b []byte) (int, error) {
	r := frame{b: b}
	n := r.u32()
	for k := uint32(0); k < n && !r.bad; k++ {
		i, st := int(r.u32()), r.bytes()
		if r.bad {
			break
		}
		if err := m.SetMemberState(i, st); err != nil {
			return 0, err
		}
	}
	steps := int(r.u32())
	if r.bad || len(r.b) != 0 {
		return 0, errors.New("fitter: bad member result")
	}
	return steps, nil
}

func firstErr(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

func appendBytes(b, v []byte) []byte {
	b = binary.LittleEndian.AppendUint32(b, uint32(len(v)))
	return append(b, v...)
}

// frame reads what the encoders above wrote; a read past the end sets bad.
type frame struct {
	b   []byte
	bad bool
}

func (r *frame) u32() uint32 {
	if len(r.b) < 4 {
		r.bad, r.b = true, nil
		return 0
	}
	v := binary.LittleEndian.Uint32(r.b)
	r.b = r.b[4:]
	return v
}

func (r *frame) bytes() []byte {
	n := int(r.u32())
	if n > len(r.b) {
		r.bad, r.b = true, nil
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}
