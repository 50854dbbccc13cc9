package stats

import (
	"sort"

	"github.com/prefer-rlhf/prefer/core/prefs"
)

// RaterQuality is one rater's agreement with gold answers and with the other raters.
type RaterQuality struct {
	Rater  string
	Labels int // answers other than cant_tell (the last per item)
	// Gold counts the rater's answers to gold items and GoldAgree those equal to the gold
	// answer.
	Gold, GoldAgree int
	// Consensus counts the rater's answers to items where the other raters have a consensus,
	// and ConsensusAgree those equal to it.
	Consensus, ConsensusAgree int
}

// GoldRate is GoldAgree/Gold (NaN with no gold answers).
func (q RaterQuality) GoldRate() float64 { return ratio(q.GoldAgree, q.Gold) }

// ConsensusRate is ConsensusAgree/Consensus (NaN with no consensus items).
func (q RaterQuality) ConsensusRate() float64 { return ratio(q.ConsensusAgree, q.Consensus) }

// Quality returns every rater's quality, ordered by rater. gold maps an item to its known
// answer (cant_tell and unknown choices in gold are ignored).
//
// The consensus a rater is compared with is that of the other raters (leave one out): a
// rater's own answer would otherwise pull the consensus towards it and make a lone rater
// agree with itself. It is the strict plurality of the others' answers; an item where the
// others tie, or where nobody else answered, has no consensus for that rater.
func Quality(labels []Label, gold map[string]prefs.Choice) []RaterQuality {
	a := group(labels)
	q := map[string]*RaterQuality{}
	get := func(r string) *RaterQuality {
		if q[r] == nil {
			q[r] = &RaterQuality{Rater: r}
		}
		return q[r]
	}
	for _, it := range a.items {
		m := a.byItem[it]
		g, hasGold := gold[it]
		gj := category(g)
		counts := make([]int, len(Categories))
		for _, j := range m {
			counts[j]++
		}
		for r, j := range m {
			rq := get(r)
			rq.Labels++
			if hasGold && gj >= 0 {
				rq.Gold++
				if j == gj {
					rq.GoldAgree++
				}
			}
			counts[j]-- // leave this rater out
			if c, ok := plurality(counts); ok {
				rq.Consensus++
				if c == j {
					rq.ConsensusAgree++
				}
			}
			counts[j]++
		}
	}
	out := make([]RaterQuality, 0, len(q))
	for _, r := range sortedKeys(q) {
		out = append(out, *q[r])
	}
	return out
}

// plurality returns the category with strictly the most answers; ok is false on a tie or with
// no answers.
func plurality(counts []int) (cat int, ok bool) {
	best, second := -1, 0
	for j, c := range counts {
		switch {
		case best < 0 || c > counts[best]:
			if best >= 0 {
				second = counts[best]
			}
			best = j
		case c > second:
			second = c
		}
	}
	if best < 0 || counts[best] == 0 || counts[best] == second {
		return -1, false
	}
	return best, true
}

// Consensus returns the strict plurality answer of every item that has one.
func Consensus(labels []Label) map[string]prefs.Choice {
	a := group(labels)
	out := map[string]prefs.Choice{}
	for _, it := range a.items {
		counts := make([]int, len(Categories))
		for _, j := range a.byItem[it] {
			counts[j]++
		}
		if c, ok := plurality(counts); ok {
			out[it] = Categories[c]
		}
	}
	return out
}

// Dispute is how much the raters of one item disagree.
type Dispute struct {
	Item   string
	Counts []int // answers per category of Categories
	// Disagreement is the share of rater pairs who answered differently, 1 − P_i of Fleiss'
	// kappa: 0 when all agree, up to 1 − 1/k.
	Disagreement float64
}

// Disputed returns the items with at least two answers and some disagreement, most disputed
// first (ties: more answers first, then by item), at most limit of them (limit <= 0: all).
func Disputed(labels []Label, limit int) []Dispute {
	a := group(labels)
	var out []Dispute
	for _, it := range a.items {
		m := a.byItem[it]
		n := len(m)
		if n < 2 {
			continue
		}
		counts := make([]int, len(Categories))
		sq := 0
		for _, j := range m {
			counts[j]++
		}
		for _, c := range counts {
			sq += c * c
		}
		d := 1 - float64(sq-n)/float64(n*(n-1))
		if d > 0 {
			out = append(out, Dispute{Item: it, Counts: counts, Disagreement: d})
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Disagreement != out[j].Disagreement {
			return out[i].Disagreement > out[j].Disagreement
		}
		return sum(out[i].Counts) > sum(out[j].Counts)
	})
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out
}

func sum(xs []int) int {
	s := 0
	for _, x := range xs {
		s += x
	}
	return s
}
