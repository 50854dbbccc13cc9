package classroom

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/prefer-rlhf/prefer/core/prefs"
)

func TestSummarize(t *testing.T) {
	now := time.Date(2026, 5, 1, 10, 30, 20, 0, time.UTC)
	at := func(minAgo int) time.Time { return now.Add(-time.Duration(minAgo) * time.Minute) }
	L, R, E := prefs.Left, prefs.Right, prefs.Equal
	rows := []LabelRow{
		{"a", "Ann", "p1", L, at(0), false}, {"b", "Ben", "p1", L, at(0), false}, {"c", "Cy", "p1", L, at(1), false},
		{"a", "Ann", "p2", L, at(1), false}, {"b", "Ben", "p2", R, at(2), false}, {"c", "Cy", "p2", L, at(2), false},
		{"a", "Ann", "p3", R, at(30), false}, {"b", "Ben", "p3", R, at(3), false},
		{"a", "Ann", "p4", E, at(3), false}, {"b", "Ben", "p4", L, at(3), false}, {"c", "Cy", "p4", prefs.CantTell, at(3), false},
		// An excluded rater who always answers right: counted, not in agreement.
		{"x", "Xi", "p1", R, at(0), true}, {"x", "Xi", "p2", R, at(0), true},
	}
	gold := map[string]prefs.Choice{"p1": L, "p2": L}
	s := Summarize(rows, gold, now)
	if s.Labels != 13 || len(s.PerRater) != 4 {
		t.Fatalf("labels %d, raters %d", s.Labels, len(s.PerRater))
	}
	// The class of core/stats' tests: agreement 5/8, kappa (7/12 − 0.46)/(1 − 0.46).
	if math.Abs(float64(s.Agreement)-5.0/8) > 1e-12 || math.Abs(float64(s.Kappa)-(7.0/12-0.46)/0.54) > 1e-12 || s.SharedPairs != 4 {
		t.Fatalf("agreement %v kappa %v shared %d", s.Agreement, s.Kappa, s.SharedPairs)
	}
	// Labels per minute, by hand:
	// at(0): a,b,x,x = 4; at(1): c,a = 2; at(2): b,c = 2; at(3): b,a,b,c = 4; at(30): outside.
	want := []int{0, 0, 0, 0, 0, 0, 4, 2, 2, 4}
	for i, m := range s.PerMinute {
		if m.Labels != want[i] {
			t.Fatalf("per minute %v, want %v", s.PerMinute, want)
		}
	}
	if !s.PerMinute[9].Start.Equal(now.Truncate(time.Minute)) {
		t.Fatalf("last minute starts %v", s.PerMinute[9].Start)
	}
	byName := map[string]RaterStats{}
	for _, r := range s.PerRater {
		byName[r.Name] = r
	}
	if a := byName["Ann"]; a.Labels != 4 || a.Gold != 2 || a.GoldRate != 1 || a.Consensus != 3 || math.Abs(float64(a.ConsensusRate)-2.0/3) > 1e-12 {
		t.Fatalf("Ann %+v", a)
	}
	if x := byName["Xi"]; !x.Excluded || x.Gold != 2 || x.GoldRate != 0 || x.Consensus != 0 || !math.IsNaN(float64(x.ConsensusRate)) {
		t.Fatalf("Xi %+v", x)
	}
	if len(s.Disputed) != 2 || s.Disputed[0].Pair != "p4" || s.Disputed[1].Pair != "p2" || s.Disputed[1].Left != 2 {
		t.Fatalf("disputed %+v", s.Disputed)
	}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"consensus_agreement":null`) || !strings.Contains(string(b), `"fleiss_kappa":0.228395`) {
		t.Fatalf("json %s", b)
	}
	// No labels: undefined agreement is null, not an encoding error.
	if b, err := json.Marshal(Summarize(nil, nil, now)); err != nil || !strings.Contains(string(b), `"agreement":null`) {
		t.Fatalf("empty: %s %v", b, err)
	}
}
