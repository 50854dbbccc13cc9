// Package prefs holds Prefer's shared vocabulary: clips, pairs, comparisons and choices, with
// their validation and the JSON form used on the wire and in exports. Every other package
// imports it; it imports nothing of ours.
package prefs

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"
)

// Choice is a rater's answer to a pair (Christiano et al. 2017, §2.2.2): the left clip is
// better, the right one is, both are equally good, or the rater can't tell.
type Choice string

// The four choices. Their string values are the wire form.
const (
	Left     Choice = "left"
	Right    Choice = "right"
	Equal    Choice = "equal"
	CantTell Choice = "cant_tell"
)

// Valid reports whether c is one of the four choices.
func (c Choice) Valid() bool {
	switch c {
	case Left, Right, Equal, CantTell:
		return true
	}
	return false
}

// Mu returns the target probability that the left clip is preferred: 1, 0, or 0.5 for equal
// (Christiano et al. 2017, §2.2.3). ok is false for cant_tell, which carries no preference and
// is dropped from the loss.
func (c Choice) Mu() (mu float64, ok bool) {
	switch c {
	case Left:
		return 1, true
	case Right:
		return 0, true
	case Equal:
		return 0.5, true
	}
	return 0, false
}

// Clip is a short stretch of agent behaviour, stored as what is needed to replay it: the
// environment, its start state and the actions. No video is stored anywhere.
type Clip struct {
	ID            string      `json:"id"`
	Env           string      `json:"env"`
	PolicyVersion int         `json:"policy_version"`
	StartState    []float64   `json:"start_state"`
	Actions       [][]float64 `json:"actions"` // one action vector per step; a discrete action is [index]
}

// Pair is one query shown to raters.
type Pair struct {
	ID    string `json:"id"`
	Left  Clip   `json:"left"`
	Right Clip   `json:"right"`
}

// Comparison is one rater's answer to one pair. ID is a client-generated UUID, so a
// re-sent comparison is recognised and stored once.
type Comparison struct {
	ID         string    `json:"id"`
	PairID     string    `json:"pair_id"`
	Choice     Choice    `json:"choice"`
	CreatedAt  time.Time `json:"created_at"`  // client time
	ResponseMS int64     `json:"response_ms"` // time the rater took to answer
}

// FieldError names the field of an input that is wrong and why. The hub turns it into a 400
// with {"error": {"field": ..., "message": ...}}.
type FieldError struct {
	Field  string
	Reason string
}

func (e *FieldError) Error() string { return fmt.Sprintf("prefs: %s: %s", e.Field, e.Reason) }

// ValidUUID reports whether s has the canonical 8-4-4-4-12 hexadecimal UUID form. It is a
// byte loop rather than a regexp: regexp alone adds about 100 KB (brotli) to the browser app.
func ValidUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// MaxResponseMS bounds response_ms: a day. Anything longer is a client bug.
const MaxResponseMS = 24 * 60 * 60 * 1000

// Validate checks a comparison's fields; it returns a *FieldError naming the first bad one.
func (c *Comparison) Validate() error {
	switch {
	case !ValidUUID(c.ID):
		return &FieldError{"id", "must be a UUID"}
	case c.PairID == "":
		return &FieldError{"pair_id", "is required"}
	case !c.Choice.Valid():
		return &FieldError{"choice", `must be one of "left", "right", "equal", "cant_tell"`}
	case c.CreatedAt.IsZero():
		return &FieldError{"created_at", "is required (RFC 3339 time)"}
	case c.CreatedAt.Year() < 2000 || c.CreatedAt.After(time.Now().Add(24*time.Hour)):
		return &FieldError{"created_at", "is out of range"}
	case c.ResponseMS < 0 || c.ResponseMS > MaxResponseMS:
		return &FieldError{"response_ms", "must be between 0 and 86400000"}
	}
	return nil
}

// Validate checks a clip's shape; env-specific checks (state length, action range) belong to
// core/env.
func (c *Clip) Validate() error {
	switch {
	case c.Env == "":
		return &FieldError{"env", "is required"}
	case len(c.StartState) == 0:
		return &FieldError{"start_state", "is required"}
	case len(c.Actions) == 0:
		return &FieldError{"actions", "must not be empty"}
	}
	for _, v := range c.StartState {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return &FieldError{"start_state", "must be finite"}
		}
	}
	return nil
}

// ErrUnknownChoice is returned when decoding a choice that is not one of the four.
var ErrUnknownChoice = errors.New(`prefs: choice must be one of "left", "right", "equal", "cant_tell"`)

// UnmarshalJSON rejects unknown choices at decode time.
func (c *Choice) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return ErrUnknownChoice
	}
	if !Choice(s).Valid() {
		return ErrUnknownChoice
	}
	*c = Choice(s)
	return nil
}
