package prefs

import (
	"testing"
	"time"

	"github.com/google/uuid"
)

func TestNewUUID(t *testing.T) {
	now := time.Date(2026, 11, 26, 20, 0, 0, 123e6, time.UTC)
	seen := map[string]bool{}
	prev := ""
	for i := 0; i < 2000; i++ {
		at := now.Add(time.Duration(i) * time.Millisecond)
		s := NewUUID(at)
		if !ValidUUID(s) || seen[s] {
			t.Fatalf("id %d: %q (valid %v, seen %v)", i, s, ValidUUID(s), seen[s])
		}
		seen[s] = true
		u, err := uuid.Parse(s) // an independent parser
		if err != nil || u.Version() != 7 || u.Variant() != uuid.RFC4122 {
			t.Fatalf("%s: err %v, version %d, variant %v", s, err, u.Version(), u.Variant())
		}
		if sec, nsec := u.Time().UnixTime(); time.Unix(sec, nsec).UnixMilli() != at.UnixMilli() {
			t.Fatalf("%s carries %v, want %v", s, time.Unix(sec, nsec), at)
		}
		if s <= prev {
			t.Fatalf("ids do not sort by time: %s after %s", s, prev)
		}
		prev = s
	}
}
