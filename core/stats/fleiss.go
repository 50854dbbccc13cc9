package stats

import (
	"fmt"
	"math"
)

var nan = math.NaN()

// Counts returns the Fleiss table of labels: for every item answered by at least two raters
// (in item order), how many raters chose each of Categories. A rater's last answer to an item
// counts; cant_tell does not.
func Counts(labels []Label) [][]int {
	a := group(labels)
	var table [][]int
	for _, it := range a.items {
		m := a.byItem[it]
		if len(m) < 2 {
			continue
		}
		row := make([]int, len(Categories))
		for _, j := range m {
			row[j]++
		}
		table = append(table, row)
	}
	return table
}

// FleissKappa is Fleiss' kappa of the labels: the agreement among raters beyond what chance
// would give, for any number of raters per item (Fleiss 1971, "Measuring nominal scale
// agreement among many raters", Psychological Bulletin 76(5)). See Kappa. It is NaN when no
// item has two answers.
func FleissKappa(labels []Label) float64 {
	k, err := Kappa(Counts(labels))
	if err != nil {
		return nan
	}
	return k
}

// Kappa is Fleiss' kappa of a table whose row i counts, for item i, how many of its n_i raters
// chose each category (Fleiss 1971, with N items and n raters per item):
//
//	p_j  = Σ_i n_ij / (N n)                   the share of all answers in category j
//	P_i  = (Σ_j n_ij² − n) / (n (n − 1))      the agreement on item i: agreeing rater pairs over all pairs
//	P̄    = Σ_i P_i / N
//	P̄_e  = Σ_j p_j²                           chance agreement
//	κ    = (P̄ − P̄_e) / (1 − P̄_e)
//
// In a classroom not every pair is answered by the same number of raters, so n may vary by
// item: P_i uses the item's own n_i and p_j divides by Σ_i n_i, which is Fleiss' formula
// whenever n is constant. Rows with fewer than two answers are an error, as are negative
// counts and rows of different widths. κ is NaN when P̄_e = 1 (every answer in one category:
// agreement beyond chance is undefined).
func Kappa(table [][]int) (float64, error) {
	if len(table) == 0 {
		return nan, fmt.Errorf("stats: Fleiss' kappa needs at least one item")
	}
	k := len(table[0])
	pj := make([]float64, k)
	sumP, answers := 0.0, 0
	for i, row := range table {
		if len(row) != k {
			return nan, fmt.Errorf("stats: row %d has %d categories, row 0 has %d", i, len(row), k)
		}
		n, sq := 0, 0
		for j, c := range row {
			if c < 0 {
				return nan, fmt.Errorf("stats: row %d has a negative count %d", i, c)
			}
			n += c
			sq += c * c
			pj[j] += float64(c)
		}
		if n < 2 {
			return nan, fmt.Errorf("stats: item %d has %d answers; agreement needs at least 2", i, n)
		}
		sumP += float64(sq-n) / float64(n*(n-1))
		answers += n
	}
	pBar := sumP / float64(len(table))
	pe := 0.0
	for j := range pj {
		p := pj[j] / float64(answers)
		pe += p * p
	}
	if pe >= 1 {
		return nan, nil
	}
	return (pBar - pe) / (1 - pe), nil
}
