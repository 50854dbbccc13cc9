package ui

import "math/rand/v2"

// newUUID returns a random (version 4, RFC 9562) UUID for a comparison. math/rand/v2's global
// generator is ChaCha8 seeded from the system's random source (crypto.getRandomValues in a
// browser), so ids do not collide; github.com/google/uuid would pull crypto into the wasm.
func newUUID() string {
	var b [16]byte
	for i := 0; i < 16; i += 8 {
		x := rand.Uint64()
		for j := 0; j < 8; j++ {
			b[i+j] = byte(x >> (8 * j))
		}
	}
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // variant 10
	const hex = "0123456789abcdef"
	out := make([]byte, 0, 36)
	for i, c := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out = append(out, '-')
		}
		out = append(out, hex[c>>4], hex[c&15])
	}
	return string(out)
}
