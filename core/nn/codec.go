package nn

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
)

// The weights format, shared by the browser and the server, in two encodings of the same
// content: layer sizes, the two activations and Params in MLP's layout.
//
// JSON, for people and for the hub's API:
//
//	{"format":"prefer.mlp","version":1,"sizes":[4,64,64,1],"hidden":"tanh","output":"identity","params":[...]}
//
// Binary, compact, all integers little-endian:
//
//	offset  size  field
//	0       4     magic "PMLP"
//	4       1     version, 1
//	5       1     bytes per parameter: 4 (float32) or 8 (float64)
//	6       1     hidden activation code
//	7       1     output activation code
//	8       4     number of sizes S, uint32
//	12      4·S   sizes, uint32 each
//	        p·N   the N = NumParams(sizes) parameters, IEEE 754 of p bytes each
//	        4     CRC-32 (IEEE) of every byte before it
//
// Activation codes are the values of the Activation constants: 0 identity, 1 tanh, 2 ReLU,
// 3 leaky ReLU. Decoders reject anything else: another format or version, an unknown
// activation, a size of zero, a parameter count that does not match the sizes, a NaN or
// infinite parameter, a bad checksum, trailing bytes.

// Format and Version identify the weights format.
const (
	Format  = "prefer.mlp"
	Version = 1
)

const (
	binaryMagic = "PMLP"
	headerLen   = 12
	// maxParams bounds what a decoder will allocate: 2²⁸ parameters, 2 GiB as float64, far
	// beyond any network Prefer trains.
	maxParams = 1 << 28
)

var activationNames = [...]string{Identity: "identity", Tanh: "tanh", ReLU: "relu", LeakyReLU: "leaky_relu"}

// String returns the activation's name in the weights format: identity, tanh, relu or leaky_relu.
func (a Activation) String() string {
	if a < 0 || int(a) >= len(activationNames) {
		return fmt.Sprintf("Activation(%d)", int(a))
	}
	return activationNames[a]
}

// ParseActivation returns the activation named s, as String writes it.
func ParseActivation(s string) (Activation, error) {
	for a, name := range activationNames {
		if s == name {
			return Activation(a), nil
		}
	}
	return 0, fmt.Errorf("nn: unknown activation %q", s)
}

func (a Activation) valid() bool { return a >= 0 && int(a) < len(activationNames) }

// Validate reports whether m is well formed: at least two sizes, all positive, known
// activations, len(Params) == NumParams(Sizes) and every parameter finite.
func (m *MLP) Validate() error {
	if err := checkShape(m.Sizes, m.Hidden, m.Output); err != nil {
		return err
	}
	if n := NumParams(m.Sizes); len(m.Params) != n {
		return fmt.Errorf("nn: %d parameters, sizes %v need %d", len(m.Params), m.Sizes, n)
	}
	return checkFinite(m.Params)
}

// checkShape validates sizes and activations, bounding the parameter count so that
// NumParams cannot overflow.
func checkShape(sizes []int, hidden, output Activation) error {
	if len(sizes) < 2 {
		return fmt.Errorf("nn: %d sizes, need at least an input and an output", len(sizes))
	}
	n := 0
	for l, s := range sizes {
		if s < 1 || s > maxParams {
			return fmt.Errorf("nn: size %d of layer %d out of range", s, l)
		}
		if l > 0 {
			n += sizes[l-1]*s + s
			if n > maxParams {
				return fmt.Errorf("nn: sizes %v need more than %d parameters", sizes, maxParams)
			}
		}
	}
	if !hidden.valid() {
		return fmt.Errorf("nn: unknown hidden activation %d", int(hidden))
	}
	if !output.valid() {
		return fmt.Errorf("nn: unknown output activation %d", int(output))
	}
	return nil
}

func checkFinite(params []float64) error {
	for i, v := range params {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("nn: parameter %d is %v", i, v)
		}
	}
	return nil
}

// jsonMLP is the JSON encoding of an MLP.
type jsonMLP struct {
	Format  string    `json:"format"`
	Version int       `json:"version"`
	Sizes   []int     `json:"sizes"`
	Hidden  string    `json:"hidden"`
	Output  string    `json:"output"`
	Params  []float64 `json:"params"`
}

// MarshalJSON encodes m in the JSON weights format. Parameters are written in the shortest
// form that reads back to the same float64, so the round trip is exact.
func (m *MLP) MarshalJSON() ([]byte, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return json.Marshal(jsonMLP{Format, Version, m.Sizes, m.Hidden.String(), m.Output.String(), m.Params})
}

// UnmarshalJSON decodes the JSON weights format into m, replacing all its fields. m is left
// unchanged on error.
func (m *MLP) UnmarshalJSON(data []byte) error {
	var j jsonMLP
	if err := json.Unmarshal(data, &j); err != nil {
		return fmt.Errorf("nn: weights JSON: %w", err)
	}
	if j.Format != Format {
		return fmt.Errorf("nn: format %q, want %q", j.Format, Format)
	}
	if j.Version != Version {
		return fmt.Errorf("nn: weights version %d, this build reads %d", j.Version, Version)
	}
	hidden, err := ParseActivation(j.Hidden)
	if err != nil {
		return err
	}
	output, err := ParseActivation(j.Output)
	if err != nil {
		return err
	}
	d := MLP{Sizes: j.Sizes, Hidden: hidden, Output: output, Params: j.Params}
	if d.Params == nil {
		d.Params = []float64{}
	}
	if err := d.Validate(); err != nil {
		return err
	}
	*m = d
	return nil
}

// MarshalBinary encodes m in the binary weights format with float64 parameters (lossless).
func (m *MLP) MarshalBinary() ([]byte, error) { return m.appendBinary(nil, 8) }

// AppendBinary appends the encoding of MarshalBinary to b.
func (m *MLP) AppendBinary(b []byte) ([]byte, error) { return m.appendBinary(b, 8) }

// MarshalBinaryFloat32 encodes m in the binary weights format with parameters rounded to
// float32, half the size, for shipping weights to browsers. It fails if a parameter
// overflows float32.
func (m *MLP) MarshalBinaryFloat32() ([]byte, error) { return m.appendBinary(nil, 4) }

func (m *MLP) appendBinary(b []byte, width int) ([]byte, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	start := len(b)
	b = append(b, binaryMagic...)
	b = append(b, Version, byte(width), byte(m.Hidden), byte(m.Output))
	b = binary.LittleEndian.AppendUint32(b, uint32(len(m.Sizes)))
	for _, s := range m.Sizes {
		b = binary.LittleEndian.AppendUint32(b, uint32(s))
	}
	for i, v := range m.Params {
		if width == 4 {
			f := float32(v)
			if math.IsInf(float64(f), 0) {
				return nil, fmt.Errorf("nn: parameter %d = %g overflows float32", i, v)
			}
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(f))
		} else {
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
		}
	}
	return binary.LittleEndian.AppendUint32(b, crc32.ChecksumIEEE(b[start:])), nil
}

var errShort = errors.New("nn: binary weights truncated")

// UnmarshalBinary decodes the binary weights format, float32 or float64, into m, replacing
// all its fields. m is left unchanged on error.
func (m *MLP) UnmarshalBinary(data []byte) error {
	if len(data) < headerLen+4 {
		return errShort
	}
	if string(data[:4]) != binaryMagic {
		return errors.New("nn: not binary weights (bad magic)")
	}
	if data[4] != Version {
		return fmt.Errorf("nn: weights version %d, this build reads %d", data[4], Version)
	}
	width := int(data[5])
	if width != 4 && width != 8 {
		return fmt.Errorf("nn: %d bytes per parameter, want 4 or 8", width)
	}
	hidden, output := Activation(data[6]), Activation(data[7])
	ns := binary.LittleEndian.Uint32(data[8:])
	if uint64(ns) > uint64(len(data)-headerLen-4)/4 {
		return errShort
	}
	body := data[headerLen:]
	sizes := make([]int, ns)
	for l := range sizes {
		sizes[l] = int(binary.LittleEndian.Uint32(body[4*l:]))
	}
	body = body[4*ns:]
	if err := checkShape(sizes, hidden, output); err != nil {
		return err
	}
	n := NumParams(sizes)
	switch want := n*width + 4; {
	case len(body) < want:
		return errShort
	case len(body) > want:
		return fmt.Errorf("nn: %d bytes after the binary weights", len(body)-want)
	}
	sum := binary.LittleEndian.Uint32(data[len(data)-4:])
	if crc32.ChecksumIEEE(data[:len(data)-4]) != sum {
		return errors.New("nn: binary weights checksum mismatch")
	}
	params := make([]float64, n)
	for i := range params {
		if width == 4 {
			params[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(body[4*i:])))
		} else {
			params[i] = math.Float64frombits(binary.LittleEndian.Uint64(body[8*i:]))
		}
	}
	if err := checkFinite(params); err != nil {
		return err
	}
	*m = MLP{Sizes: sizes, Hidden: hidden, Output: output, Params: params}
	return nil
}
