package text

import (
	"math/rand/v2"
	"strings"
)

// testCorpus generates n short review sentences from a small grammar, with a fixed seed:
// the tests' corpus, so that no test needs a download.
func testCorpus(n int, seed uint64) string {
	rng := rand.New(rand.NewPCG(seed, 1))
	subj := []string{"The film", "This phone", "The food", "Our waiter", "The battery", "The plot", "This place", "The sound"}
	verb := []string{"was", "is", "seemed", "felt"}
	pos := []string{"great", "wonderful", "excellent", "good", "amazing", "lovely", "fun"}
	neg := []string{"terrible", "awful", "bad", "boring", "horrible", "poor", "sad"}
	tail := []string{"and I loved it", "and I hated it", "to be honest", "from the start", "for the price", "all night"}
	var b strings.Builder
	for range n {
		adj := pos
		if rng.IntN(2) == 0 {
			adj = neg
		}
		b.WriteString(subj[rng.IntN(len(subj))] + " " + verb[rng.IntN(len(verb))] + " " + adj[rng.IntN(len(adj))])
		if rng.IntN(2) == 0 {
			b.WriteString(" " + tail[rng.IntN(len(tail))])
		}
		b.WriteString(".\n")
	}
	return b.String()
}
