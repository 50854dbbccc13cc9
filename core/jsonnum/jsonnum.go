// Package jsonnum is the one way Prefer writes a number that may be unknown into JSON: NaN
// (and an infinity, which JSON cannot carry either) is null, and null reads back as NaN.
package jsonnum

import (
	"encoding/json"
	"math"
	"strconv"
)

// Num is a float64 that encodes as JSON null when it is not finite.
type Num float64

// Finite reports whether v is neither NaN nor an infinity.
func Finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// MarshalJSON implements json.Marshaler: the shortest decimal that reads back as the same
// float64, or null.
func (n Num) MarshalJSON() ([]byte, error) {
	f := float64(n)
	if !Finite(f) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, f, 'g', -1, 64), nil
}

// UnmarshalJSON implements json.Unmarshaler: null is NaN.
func (n *Num) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*n = Num(math.NaN())
		return nil
	}
	var f float64
	err := json.Unmarshal(b, &f)
	*n = Num(f)
	return err
}

// Slice returns xs as Nums, for a JSON array with unknown entries.
func Slice(xs []float64) []Num {
	out := make([]Num, len(xs))
	for i, x := range xs {
		out[i] = Num(x)
	}
	return out
}
