package merge

import (
	"encoding/binary"
	"fmt"
	"math"
)

// EncodeDelta packs a model update's delta as little-endian float32, its stored and wire form
// (docs/api.md, model_update.delta_f32 before base64).
func EncodeDelta(d []float32) []byte {
	b := make([]byte, 4*len(d))
	for i, v := range d {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return b
}

// DecodeDelta unpacks EncodeDelta's form.
func DecodeDelta(b []byte) ([]float32, error) {
	if len(b)%4 != 0 {
		return nil, fmt.Errorf("merge: delta of %d bytes is not a whole number of float32s", len(b))
	}
	d := make([]float32, len(b)/4)
	for i := range d {
		d[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return d, nil
}
