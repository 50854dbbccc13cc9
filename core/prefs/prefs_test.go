package prefs

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestChoiceMu(t *testing.T) {
	for _, tc := range []struct {
		c  Choice
		mu float64
		ok bool
	}{{Left, 1, true}, {Right, 0, true}, {Equal, 0.5, true}, {CantTell, 0, false}} {
		mu, ok := tc.c.Mu()
		if mu != tc.mu || ok != tc.ok {
			t.Errorf("%s.Mu() = %v, %v; want %v, %v", tc.c, mu, ok, tc.mu, tc.ok)
		}
		if !tc.c.Valid() {
			t.Errorf("%s should be valid", tc.c)
		}
	}
	if Choice("up").Valid() || Choice("").Valid() || Choice("LEFT").Valid() {
		t.Error("only the four wire forms are valid")
	}
}

func TestChoiceJSON(t *testing.T) {
	var c Comparison
	if err := json.Unmarshal([]byte(`{"choice":"equal"}`), &c); err != nil || c.Choice != Equal {
		t.Fatalf("decode equal: %v, %q", err, c.Choice)
	}
	for _, bad := range []string{`{"choice":"better"}`, `{"choice":1}`, `{"choice":null}`} {
		if err := json.Unmarshal([]byte(bad), &c); !errors.Is(err, ErrUnknownChoice) {
			t.Errorf("decode %s: err = %v, want ErrUnknownChoice", bad, err)
		}
	}
}

func validComparison() Comparison {
	return Comparison{ID: "0b6c4a52-3f2e-4b7a-9d7e-2a3f5c6d7e8f", PairID: "p1", Choice: Left,
		CreatedAt: time.Now().Add(-time.Minute), ResponseMS: 1500}
}

func TestComparisonValidate(t *testing.T) {
	c := validComparison()
	if err := c.Validate(); err != nil {
		t.Fatalf("valid comparison: %v", err)
	}
	for field, mutate := range map[string]func(*Comparison){
		"id":          func(c *Comparison) { c.ID = "not-a-uuid" },
		"pair_id":     func(c *Comparison) { c.PairID = "" },
		"choice":      func(c *Comparison) { c.Choice = "sideways" },
		"created_at":  func(c *Comparison) { c.CreatedAt = time.Time{} },
		"response_ms": func(c *Comparison) { c.ResponseMS = -1 },
	} {
		c := validComparison()
		mutate(&c)
		var fe *FieldError
		if err := c.Validate(); !errors.As(err, &fe) || fe.Field != field {
			t.Errorf("bad %s: err = %v", field, err)
		}
	}
	future := validComparison()
	future.CreatedAt = time.Now().Add(48 * time.Hour)
	if err := future.Validate(); err == nil || !strings.Contains(err.Error(), "created_at") {
		t.Errorf("a time two days ahead: err = %v", err)
	}
	tooSlow := validComparison()
	tooSlow.ResponseMS = MaxResponseMS + 1
	if err := tooSlow.Validate(); err == nil {
		t.Error("response_ms over a day should be rejected")
	}
}

func TestClipValidate(t *testing.T) {
	ok := Clip{Env: "CartPole-v1", StartState: []float64{0, 0, 0, 0}, Actions: [][]float64{{1}}}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	nan := 0.0
	nan = nan / nan
	for field, c := range map[string]Clip{
		"env":         {StartState: ok.StartState, Actions: ok.Actions},
		"start_state": {Env: "CartPole-v1", StartState: []float64{nan}, Actions: ok.Actions},
		"actions":     {Env: "CartPole-v1", StartState: ok.StartState},
	} {
		var fe *FieldError
		if err := c.Validate(); !errors.As(err, &fe) || fe.Field != field {
			t.Errorf("bad %s: err = %v", field, err)
		}
	}
}

func TestValidUUID(t *testing.T) {
	for s, want := range map[string]bool{
		"0b6c4a52-3f2e-4b7a-9d7e-2a3f5c6d7e8f": true,
		"0B6C4A52-3F2E-4B7A-9D7E-2A3F5C6D7E8F": true,
		"0b6c4a523f2e4b7a9d7e2a3f5c6d7e8f":     false,
		"0b6c4a52-3f2e-4b7a-9d7e-2a3f5c6d7e8":  false,
		"zb6c4a52-3f2e-4b7a-9d7e-2a3f5c6d7e8f": false,
		"0b6c4a52-3f2e-4b7a-9d7e2-a3f5c6d7e8f": false,
		"0b6c4a52+3f2e-4b7a-9d7e-2a3f5c6d7e8f": false,
		"":                                     false,
	} {
		if ValidUUID(s) != want {
			t.Errorf("ValidUUID(%q) = %v", s, !want)
		}
	}
}
