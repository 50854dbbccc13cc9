package prefs

import (
	"math/rand/v2"
	"time"
)

// NewUUID returns a version 7 UUID (RFC 9562, §5.7) for something created at now: 48 bits of
// Unix milliseconds, then 74 random bits. Ids made later sort later, which keeps the hub's
// primary-key inserts at the end of the index (docs/api.md recommends v7 for that reason).
//
// The random bits come from math/rand/v2's global generator, ChaCha8 seeded from the system's
// random source (crypto.getRandomValues in a browser), so ids do not collide; it is not
// google/uuid because that would pull crypto into the browser's wasm.
func NewUUID(now time.Time) string {
	var b [16]byte
	ms := uint64(now.UnixMilli())
	for i := 0; i < 6; i++ {
		b[i] = byte(ms >> (40 - 8*i))
	}
	r := rand.Uint64()
	for i := 6; i < 14; i++ {
		b[i] = byte(r >> (8 * (i - 6)))
	}
	r = rand.Uint64()
	b[14], b[15] = byte(r), byte(r>>8)
	b[6] = b[6]&0x0f | 0x70 // version 7
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
