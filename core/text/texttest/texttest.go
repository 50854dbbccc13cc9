// Package texttest makes the small generated review corpus that the text packages' tests
// share, as net/http/httptest serves net/http's: a world small enough to pretrain a model on in
// seconds, with a gold score a reward model can learn.
package texttest

import (
	"math/rand/v2"
	"strings"

	"github.com/prefer-rlhf/prefer/core/text"
)

// Review is one generated sentence, "The film was great and lovely.\n", and whether it
// praises (its two adjectives are both praise words) or blames.
type Review struct {
	Text   string
	Praise bool
}

// Reviews returns n generated reviews, the same for every caller: each names one of six
// subjects and two adjectives of one side, the side drawn at random.
func Reviews(n int) []Review {
	rng := rand.New(rand.NewPCG(1, 2))
	subj := []string{"The film", "This phone", "The food", "Our waiter", "The plot", "This place"}
	pos := []string{"great", "good", "lovely"}
	neg := []string{"bad", "awful", "boring"}
	rs := make([]Review, 0, n)
	for range n {
		adj, praise := pos, true
		if rng.IntN(2) == 0 {
			adj, praise = neg, false
		}
		s := subj[rng.IntN(len(subj))] + " was " + adj[rng.IntN(3)] + " and " + adj[rng.IntN(3)] + ".\n"
		rs = append(rs, Review{Text: s, Praise: praise})
	}
	return rs
}

// Corpus is the reviews' text, one per line.
func Corpus(rs []Review) string {
	var b strings.Builder
	for _, r := range rs {
		b.WriteString(r.Text)
	}
	return b.String()
}

// Gold is the reviews' gold score: one per praise word minus one per blame word.
func Gold(s string) float64 {
	g := 0.0
	for _, w := range text.Words(s) {
		switch w {
		case "great", "good", "lovely":
			g++
		case "bad", "awful", "boring":
			g--
		}
	}
	return g
}
