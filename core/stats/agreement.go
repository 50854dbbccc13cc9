// Package stats measures how raters agree: pairwise agreement on shared pairs, Fleiss' kappa,
// per-rater agreement with gold answers and with the consensus, and the most disputed pairs.
// The classroom dashboard and the rater-quality view use it; the functions are pure.
//
// An answer's category is its choice: left, right or equal. cant_tell carries no preference
// (Christiano et al. 2017, §2.2.2: such comparisons are not included) and is left out
// everywhere.
package stats

import (
	"sort"

	"github.com/prefer-rlhf/prefer/core/prefs"
)

// Label is one rater's answer to one item (a pair shown to raters).
type Label struct {
	Rater  string
	Item   string
	Choice prefs.Choice
}

// Categories are the answer categories, in the column order of Counts.
var Categories = []prefs.Choice{prefs.Left, prefs.Right, prefs.Equal}

// category returns c's column in Categories, or -1 for cant_tell and anything unknown.
func category(c prefs.Choice) int {
	for j, k := range Categories {
		if c == k {
			return j
		}
	}
	return -1
}

// answers groups labels by item and rater, keeping each rater's last answer to an item and
// leaving out cant_tell. Items and raters come out sorted, so results are deterministic.
type answers struct {
	items  []string
	byItem map[string]map[string]int // item -> rater -> category
}

func group(labels []Label) answers {
	a := answers{byItem: map[string]map[string]int{}}
	for _, l := range labels {
		j := category(l.Choice)
		if j < 0 {
			continue
		}
		m := a.byItem[l.Item]
		if m == nil {
			m = map[string]int{}
			a.byItem[l.Item] = m
			a.items = append(a.items, l.Item)
		}
		m[l.Rater] = j
	}
	sort.Strings(a.items)
	return a
}

// PairAgreement is how often two raters gave the same answer to the items both answered.
type PairAgreement struct {
	A, B   string // A < B
	Shared int    // items both answered
	Agree  int    // of those, items with the same answer
}

// Rate is Agree/Shared (NaN when nothing is shared).
func (p PairAgreement) Rate() float64 { return ratio(p.Agree, p.Shared) }

// Pairwise returns the agreement of every two raters who share at least one item, ordered by
// (A, B), and the overall observed agreement: agreeing rater pairs over all rater pairs on
// shared items, Σ_i Σ_j n_ij(n_ij−1) / Σ_i n_i(n_i−1), the P̄ of Fleiss' kappa weighted by each
// item's number of rater pairs (NaN when no item has two answers).
func Pairwise(labels []Label) (pairs []PairAgreement, overall float64) {
	a := group(labels)
	idx := map[[2]string]int{}
	agree, total := 0, 0
	for _, it := range a.items {
		m := a.byItem[it]
		raters := sortedKeys(m)
		for x := 0; x < len(raters); x++ {
			for y := x + 1; y < len(raters); y++ {
				k := [2]string{raters[x], raters[y]}
				i, ok := idx[k]
				if !ok {
					i = len(pairs)
					idx[k] = i
					pairs = append(pairs, PairAgreement{A: k[0], B: k[1]})
				}
				pairs[i].Shared++
				total++
				if m[raters[x]] == m[raters[y]] {
					pairs[i].Agree++
					agree++
				}
			}
		}
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i].A != pairs[j].A {
			return pairs[i].A < pairs[j].A
		}
		return pairs[i].B < pairs[j].B
	})
	return pairs, ratio(agree, total)
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func ratio(a, b int) float64 {
	if b == 0 {
		return nan
	}
	return float64(a) / float64(b)
}
