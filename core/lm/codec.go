package lm

import (
	"encoding/binary"
	"hash/crc32"
	"math"
)

// The weights format, binary, all integers little-endian:
//
//	offset  size  field
//	0       4     magic "PLMW"
//	4       1     version, 1
//	5       1     bytes per parameter: 4 (float32) or 8 (float64)
//	6       1     flags: bit 0 set when the output layer has a bias (Config.OutBias); other bits zero
//	7       1     zero
//	8       20    Vocab, Ctx, Dim, Layers, Heads, uint32 each
//	28      p·N   the N = NumParams parameters in layout's order, IEEE 754 of p bytes each
//	        4     CRC-32 (IEEE) of every byte before it
//
// Only the shape is stored: training hyperparameters are the reader's (DefaultConfig's
// unless it sets them). Decoders reject another magic or version, an invalid shape, a
// length that does not match it, a NaN or infinite parameter and a bad checksum.

// Version is the weights format's version.
const Version = 1

const (
	magic     = "PLMW"
	headerLen = 28
	maxParams = 1 << 28
)

// MarshalBinary encodes the model with float64 parameters.
func (m *Model) MarshalBinary() ([]byte, error) { return m.encode(8), nil }

// MarshalBinaryFloat32 encodes the model with float32 parameters, half the size, for
// shipping to browsers; decoding gives the float32-rounded parameters.
func (m *Model) MarshalBinaryFloat32() ([]byte, error) { return m.encode(4), nil }

func (m *Model) encode(width int) []byte {
	c := m.Config
	b := make([]byte, 0, headerLen+width*len(m.Params)+4)
	b = append(b, magic...)
	var flags byte
	if c.OutBias {
		flags |= 1
	}
	b = append(b, Version, byte(width), flags, 0)
	for _, v := range []int{c.Vocab, c.Ctx, c.Dim, c.Layers, c.Heads} {
		b = binary.LittleEndian.AppendUint32(b, uint32(v))
	}
	for _, p := range m.Params {
		if width == 4 {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(float32(p)))
		} else {
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(p))
		}
	}
	return binary.LittleEndian.AppendUint32(b, crc32.ChecksumIEEE(b))
}

// Decode reads a model in the weights format; its hyperparameters are DefaultConfig's.
func Decode(data []byte) (*Model, error) {
	if len(data) < headerLen+4 || string(data[:4]) != magic {
		return nil, errorf("lm: not a prefer language model (magic %q)", magic)
	}
	if data[4] != Version {
		return nil, errorf("lm: weights version %d, want %d", data[4], Version)
	}
	width := int(data[5])
	if width != 4 && width != 8 {
		return nil, errorf("lm: %d bytes per parameter, want 4 or 8", width)
	}
	if data[6]&^1 != 0 || data[7] != 0 {
		return nil, errorf("lm: unknown flags %#x %#x", data[6], data[7])
	}
	c := DefaultConfig()
	c.OutBias = data[6]&1 != 0
	dims := []*int{&c.Vocab, &c.Ctx, &c.Dim, &c.Layers, &c.Heads}
	for i, p := range dims {
		*p = int(binary.LittleEndian.Uint32(data[8+4*i:]))
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	n := NumParams(c)
	if n > maxParams || len(data) != headerLen+width*n+4 {
		return nil, errorf("lm: %d bytes for %d parameters of %d bytes", len(data), n, width)
	}
	body := len(data) - 4
	if crc32.ChecksumIEEE(data[:body]) != binary.LittleEndian.Uint32(data[body:]) {
		return nil, errorf("lm: bad checksum")
	}
	m := &Model{Config: c, Params: make([]float64, n)}
	for i := range m.Params {
		o := headerLen + width*i
		var v float64
		if width == 4 {
			v = float64(math.Float32frombits(binary.LittleEndian.Uint32(data[o:])))
		} else {
			v = math.Float64frombits(binary.LittleEndian.Uint64(data[o:]))
		}
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, errorf("lm: parameter %d is %v", i, v)
		}
		m.Params[i] = v
	}
	m.init()
	return m, nil
}
