package nn

import (
	"encoding/binary"
	"encoding/json"
	"hash/crc32"
	"math"
	"reflect"
	"strings"
	"testing"
)

func TestJSONRoundTrip(t *testing.T) {
	for _, m := range []*MLP{
		randomMLP(1, []int{4, 64, 64, 1}, Tanh, Identity),
		randomMLP(2, []int{3, 2}, LeakyReLU, Tanh),
		randomMLP(3, []int{1, 5, 1}, ReLU, Identity),
	} {
		m.Params[0] = math.SmallestNonzeroFloat64 // extremes must survive too
		m.Params[1] = -math.MaxFloat64
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		var got MLP
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(&got, m) {
			t.Fatalf("JSON round trip of %v changed the network", m.Sizes)
		}
	}
	b, _ := json.Marshal(New([]int{1, 1}, Tanh, Identity))
	if want := `{"format":"prefer.mlp","version":1,"sizes":[1,1],"hidden":"tanh","output":"identity","params":[0,0]}`; string(b) != want {
		t.Fatalf("JSON = %s, want %s", b, want)
	}
}

func TestJSONRejects(t *testing.T) {
	for _, c := range []struct{ name, json, err string }{
		{"format", `{"format":"x","version":1,"sizes":[1,1],"hidden":"tanh","output":"identity","params":[0,0]}`, "format"},
		{"version", `{"format":"prefer.mlp","version":2,"sizes":[1,1],"hidden":"tanh","output":"identity","params":[0,0]}`, "version"},
		{"activation", `{"format":"prefer.mlp","version":1,"sizes":[1,1],"hidden":"gelu","output":"identity","params":[0,0]}`, "activation"},
		{"count", `{"format":"prefer.mlp","version":1,"sizes":[1,1],"hidden":"tanh","output":"identity","params":[0]}`, "parameters"},
		{"sizes", `{"format":"prefer.mlp","version":1,"sizes":[3],"hidden":"tanh","output":"identity","params":[]}`, "sizes"},
		{"zero size", `{"format":"prefer.mlp","version":1,"sizes":[1,0],"hidden":"tanh","output":"identity","params":[]}`, "size"},
		{"huge", `{"format":"prefer.mlp","version":1,"sizes":[100000,100000],"hidden":"tanh","output":"identity","params":[]}`, "parameters"},
		{"syntax", `{"format":`, "JSON"},
	} {
		m := New([]int{2, 2}, ReLU, ReLU)
		err := m.UnmarshalJSON([]byte(c.json))
		if err == nil || !strings.Contains(err.Error(), c.err) || !strings.Contains(err.Error(), "nn: ") {
			t.Errorf("%s: error %v, want an nn error about %s", c.name, err, c.err)
		}
		if m.Sizes[0] != 2 || m.Hidden != ReLU || len(m.Params) != 6 {
			t.Errorf("%s: a failed decode changed the network", c.name)
		}
	}
	m := New([]int{1, 1}, Tanh, Identity)
	m.Params[1] = math.NaN()
	if _, err := json.Marshal(m); err == nil || !strings.Contains(err.Error(), "NaN") {
		t.Errorf("marshalling a NaN parameter: %v", err)
	}
}

func TestBinaryRoundTrip(t *testing.T) {
	m := randomMLP(4, []int{4, 64, 64, 1}, LeakyReLU, Tanh)
	b, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if want := 12 + 4*4 + 8*len(m.Params) + 4; len(b) != want {
		t.Fatalf("float64 encoding is %d bytes, want %d", len(b), want)
	}
	var got MLP
	if err := got.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&got, m) {
		t.Fatal("float64 binary round trip changed the network")
	}

	b32, err := m.MarshalBinaryFloat32()
	if err != nil {
		t.Fatal(err)
	}
	if want := 12 + 4*4 + 4*len(m.Params) + 4; len(b32) != want {
		t.Fatalf("float32 encoding is %d bytes, want %d", len(b32), want)
	}
	if err := got.UnmarshalBinary(b32); err != nil {
		t.Fatal(err)
	}
	for i, v := range m.Params {
		if got.Params[i] != float64(float32(v)) {
			t.Fatalf("float32 param %d = %v, want %v", i, got.Params[i], float32(v))
		}
	}
	if !reflect.DeepEqual(got.Sizes, m.Sizes) || got.Hidden != m.Hidden || got.Output != m.Output {
		t.Fatal("float32 round trip changed the shape")
	}
	// Re-encoding float32-valued parameters as float32 is exact.
	again, _ := got.MarshalBinaryFloat32()
	if string(again) != string(b32) {
		t.Fatal("float32 encoding is not stable")
	}
	app, _ := m.AppendBinary([]byte("xy"))
	if string(app[2:]) != string(b) {
		t.Fatal("AppendBinary differs from MarshalBinary")
	}
}

// resum rewrites the checksum of a binary encoding after a test tampers with it.
func resum(b []byte) []byte {
	binary.LittleEndian.PutUint32(b[len(b)-4:], crc32.ChecksumIEEE(b[:len(b)-4]))
	return b
}

func TestBinaryRejects(t *testing.T) {
	m := randomMLP(5, []int{2, 3, 1}, Tanh, Identity)
	good, _ := m.MarshalBinary()
	tamper := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), good...)) }
	nanAt := 12 + 3*4 + 8*2
	for _, c := range []struct {
		name string
		data []byte
		err  string
	}{
		{"empty", nil, "truncated"},
		{"truncated", good[:len(good)-1], "truncated"},
		{"trailing", resum(append(append([]byte(nil), good...), 0, 0, 0, 0)), "after"},
		{"magic", tamper(func(b []byte) []byte { b[0] = 'X'; return resum(b) }), "magic"},
		{"version", tamper(func(b []byte) []byte { b[4] = 2; return resum(b) }), "version"},
		{"width", tamper(func(b []byte) []byte { b[5] = 2; return resum(b) }), "bytes per parameter"},
		{"activation", tamper(func(b []byte) []byte { b[6] = 9; return resum(b) }), "activation"},
		{"size", tamper(func(b []byte) []byte { b[12] = 0; return resum(b) }), "size"},
		{"count", tamper(func(b []byte) []byte { b[12] = 3; return resum(b) }), "truncated"},
		{"nsizes", tamper(func(b []byte) []byte { b[8] = 200; return resum(b) }), "truncated"},
		{"checksum", tamper(func(b []byte) []byte { b[30] ^= 1; return b }), "checksum"},
		{"nan", tamper(func(b []byte) []byte {
			binary.LittleEndian.PutUint64(b[nanAt:], math.Float64bits(math.Inf(-1)))
			return resum(b)
		}), "parameter 2 is -Inf"},
	} {
		var got MLP
		err := got.UnmarshalBinary(c.data)
		if err == nil || !strings.Contains(err.Error(), c.err) || !strings.HasPrefix(err.Error(), "nn: ") {
			t.Errorf("%s: error %v, want an nn error about %q", c.name, err, c.err)
		}
		if got.Sizes != nil {
			t.Errorf("%s: a failed decode changed the network", c.name)
		}
	}
	big := New([]int{1, 1}, Tanh, Identity)
	big.Params[0] = 1e300
	if _, err := big.MarshalBinaryFloat32(); err == nil || !strings.Contains(err.Error(), "float32") {
		t.Errorf("float32 encoding of 1e300: %v", err)
	}
	bad := New([]int{1, 1}, Tanh, Identity)
	bad.Params = bad.Params[:1]
	if _, err := bad.MarshalBinary(); err == nil {
		t.Error("MarshalBinary accepted a network with too few parameters")
	}
}

// FuzzUnmarshalBinary feeds the binary decoder arbitrary bytes: it must never panic, and
// whatever it accepts must be a valid network that re-encodes to the same bytes.
func FuzzUnmarshalBinary(f *testing.F) {
	m := randomMLP(6, []int{3, 4, 2}, ReLU, Identity)
	b64, _ := m.MarshalBinary()
	b32, _ := m.MarshalBinaryFloat32()
	f.Add(b64)
	f.Add(b32)
	f.Add(b64[:20])
	f.Add([]byte("PMLP\x01\x08\x00\x00\xff\xff\xff\xff"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var got MLP
		if err := got.UnmarshalBinary(data); err != nil {
			return
		}
		if err := got.Validate(); err != nil {
			t.Fatalf("decoded an invalid network: %v", err)
		}
		enc, err := got.appendBinary(nil, int(data[5]))
		if err != nil {
			t.Fatal(err)
		}
		if string(enc) != string(data) {
			t.Fatal("accepted bytes do not re-encode to themselves")
		}
	})
}

// FuzzUnmarshalJSON: the JSON decoder must never panic and must accept only valid networks.
func FuzzUnmarshalJSON(f *testing.F) {
	b, _ := json.Marshal(randomMLP(7, []int{2, 3, 1}, Tanh, Identity))
	f.Add(b)
	f.Add([]byte(`{"format":"prefer.mlp","version":1,"sizes":[1,1],"hidden":"tanh","output":"identity","params":[0,0]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var got MLP
		if err := got.UnmarshalJSON(data); err != nil {
			return
		}
		if err := got.Validate(); err != nil {
			t.Fatalf("decoded an invalid network: %v", err)
		}
	})
}
