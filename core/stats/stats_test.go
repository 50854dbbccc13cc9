package stats

import (
	"fmt"
	"math"
	"testing"

	"github.com/prefer-rlhf/prefer/core/prefs"
)

// Fleiss' (1971) worked example: 10 subjects, 14 raters, 5 categories, from his Table 1
// (diagnoses of 30 patients; the version reproduced by Wikipedia's "Fleiss' kappa" article,
// which gives P̄ = 0.378, P̄_e = 0.213, κ = 0.210).
func TestKappaFleissWorkedExample(t *testing.T) {
	table := [][]int{
		{0, 0, 0, 0, 14},
		{0, 2, 6, 4, 2},
		{0, 0, 3, 5, 6},
		{0, 3, 9, 2, 0},
		{2, 2, 8, 1, 1},
		{7, 7, 0, 0, 0},
		{3, 2, 6, 3, 0},
		{2, 5, 3, 2, 2},
		{6, 5, 2, 1, 0},
		{0, 2, 2, 3, 7},
	}
	k, err := Kappa(table)
	if err != nil {
		t.Fatal(err)
	}
	// By hand: P̄ = 0.37802..., P̄_e = 0.21349..., κ = (P̄ − P̄_e)/(1 − P̄_e) = 0.20993...
	if math.Abs(k-0.20993) > 5e-5 {
		t.Fatalf("kappa = %.5f, want 0.20993", k)
	}
}

func TestKappaEdgeCases(t *testing.T) {
	// Perfect agreement on mixed categories: κ = 1.
	if k, _ := Kappa([][]int{{3, 0, 0}, {0, 3, 0}, {0, 0, 3}}); math.Abs(k-1) > 1e-12 {
		t.Fatalf("perfect agreement: %v", k)
	}
	// Two raters always disagreeing, half left half right: P̄ = 0, P̄_e = ½, κ = −1.
	if k, _ := Kappa([][]int{{1, 1, 0}, {1, 1, 0}}); math.Abs(k+1) > 1e-12 {
		t.Fatalf("total disagreement: %v", k)
	}
	// Everyone always answers left: chance agreement is 1 and κ undefined.
	if k, err := Kappa([][]int{{2, 0, 0}, {4, 0, 0}}); err != nil || !math.IsNaN(k) {
		t.Fatalf("one category: %v, %v", k, err)
	}
	// Varying raters per item. Items (2 left), (1 left, 2 right): P₁ = 1, P₂ = 2/6, P̄ = 2/3;
	// p = (3/5, 2/5), P̄_e = 13/25; κ = (2/3 − 13/25)/(12/25) = 11/36.
	if k, _ := Kappa([][]int{{2, 0, 0}, {1, 2, 0}}); math.Abs(k-11.0/36) > 1e-12 {
		t.Fatalf("varying n: %v, want %v", k, 11.0/36)
	}
	for _, bad := range [][][]int{nil, {{1, 0}}, {{1, 1}, {1, 1, 0}}, {{3, -1}}} {
		if _, err := Kappa(bad); err == nil {
			t.Errorf("Kappa(%v): no error", bad)
		}
	}
}

// labels builds labels from "rater:item:choice" strings (l, r, e, c for cant_tell).
func labels(specs ...string) []Label {
	ch := map[byte]prefs.Choice{'l': prefs.Left, 'r': prefs.Right, 'e': prefs.Equal, 'c': prefs.CantTell}
	var out []Label
	for _, s := range specs {
		var rater, item string
		var c byte
		if _, err := fmt.Sscanf(s, "%1s:%1s:%c", &rater, &item, &c); err != nil {
			panic(s)
		}
		out = append(out, Label{Rater: rater, Item: item, Choice: ch[c]})
	}
	return out
}

// Three raters, four pairs, by hand:
//
//	item  a  b  c
//	1     l  l  l
//	2     l  r  l
//	3     r  r  -     (c did not answer)
//	4     e  l  c     (c can't tell: left out)
var class = labels(
	"a:1:l", "b:1:l", "c:1:l",
	"a:2:l", "b:2:r", "c:2:l",
	"a:3:r", "b:3:r",
	"a:4:e", "b:4:l", "c:4:c",
)

func TestPairwise(t *testing.T) {
	pairs, overall := Pairwise(class)
	want := []PairAgreement{
		{"a", "b", 4, 2}, // 1 and 3 agree; 2 and 4 do not
		{"a", "c", 2, 2}, // 1, 2
		{"b", "c", 2, 1}, // 1
	}
	if fmt.Sprint(pairs) != fmt.Sprint(want) {
		t.Fatalf("pairs %v, want %v", pairs, want)
	}
	if math.Abs(overall-5.0/8) > 1e-12 {
		t.Fatalf("overall %v, want 5/8", overall)
	}
	if _, o := Pairwise(labels("a:1:l")); !math.IsNaN(o) {
		t.Fatalf("one answer: overall %v, want NaN", o)
	}
}

func TestFleissKappaOfLabels(t *testing.T) {
	// Counts: item 1 (3,0,0), 2 (2,1,0), 3 (0,2,0), 4 (1,0,1).
	// P = 1, 1/3, 1, 0; P̄ = 7/12. Answers 10: p = (6/10, 3/10, 1/10), P̄_e = 0.46.
	want := (7.0/12 - 0.46) / (1 - 0.46)
	if k := FleissKappa(class); math.Abs(k-want) > 1e-12 {
		t.Fatalf("kappa %v, want %v", k, want)
	}
	if fmt.Sprint(Counts(class)) != "[[3 0 0] [2 1 0] [0 2 0] [1 0 1]]" {
		t.Fatalf("counts %v", Counts(class))
	}
	// A rater's last answer counts.
	if k := FleissKappa(labels("a:1:l", "b:1:r", "b:1:l", "a:2:r", "b:2:r")); math.Abs(k-1) > 1e-12 {
		t.Fatalf("changed answer: kappa %v, want 1", k)
	}
}

func TestQuality(t *testing.T) {
	gold := map[string]prefs.Choice{"1": prefs.Left, "2": prefs.Left, "4": prefs.Equal}
	got := Quality(class, gold)
	// Consensus of the others: a on 1 (b,c: l) yes; 2 (b r, c l: tie) none; 3 (b: r) yes;
	// 4 (b: l) l vs a's e: no. b: 1 (l) yes; 2 (a l, c l) no; 3 (a r) yes; 4 (a e) no.
	// c: 1 yes; 2 (a l, b r) none; 4 c is cant_tell: not counted.
	want := []RaterQuality{
		{Rater: "a", Labels: 4, Gold: 3, GoldAgree: 3, Consensus: 3, ConsensusAgree: 2},
		{Rater: "b", Labels: 4, Gold: 3, GoldAgree: 1, Consensus: 4, ConsensusAgree: 2},
		{Rater: "c", Labels: 2, Gold: 2, GoldAgree: 2, Consensus: 1, ConsensusAgree: 1},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("quality\n%v\nwant\n%v", got, want)
	}
	if r := got[1].GoldRate(); math.Abs(r-1.0/3) > 1e-12 {
		t.Fatalf("b's gold rate %v", r)
	}
	if r := (RaterQuality{}).ConsensusRate(); !math.IsNaN(r) {
		t.Fatalf("no consensus items: %v", r)
	}
}

func TestConsensusAndDisputed(t *testing.T) {
	c := Consensus(class)
	if fmt.Sprint(c) != "map[1:left 2:left 3:right]" { // 4 ties e/l
		t.Fatalf("consensus %v", c)
	}
	d := Disputed(class, 0)
	// Item 4: one pair, disagreeing: 1. Item 2: 1 − 1/3 = 2/3. Items 1 and 3: none.
	if len(d) != 2 || d[0].Item != "4" || d[0].Disagreement != 1 || d[1].Item != "2" ||
		math.Abs(d[1].Disagreement-2.0/3) > 1e-12 {
		t.Fatalf("disputed %+v", d)
	}
	if len(Disputed(class, 1)) != 1 {
		t.Fatal("limit 1")
	}
}
