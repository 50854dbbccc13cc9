package text

import "slices"

// MinVocab is the smallest vocabulary: the 256 bytes.
const MinVocab = 256

// Train learns a byte-level BPE from corpus with up to vocabSize tokens (at least MinVocab):
// starting from bytes, it repeatedly merges the most frequent adjacent pair of tokens within
// a chunk (Sennrich et al. 2016, Algorithm 1), ties broken by the smaller pair, so the result
// depends only on the corpus and vocabSize. It stops early when no pair occurs twice, so a
// small corpus can give fewer tokens than asked: read VocabSize.
func Train(corpus []byte, vocabSize int) *BPE {
	// Count each distinct chunk once, with its frequency: words repeat, so this is what makes
	// training on a megabyte take a second.
	freq := map[string]int{}
	for _, c := range chunks(corpus) {
		freq[string(c)]++
	}
	keys := make([]string, 0, len(freq))
	for k := range freq {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	type word struct {
		ids []int
		n   int
	}
	words := make([]word, len(keys))
	pairs := map[[2]int]int{}
	for i, k := range keys {
		ids := make([]int, len(k))
		for j := range len(k) {
			ids[j] = int(k[j])
		}
		words[i] = word{ids, freq[k]}
		for j := 0; j+1 < len(ids); j++ {
			pairs[[2]int{ids[j], ids[j+1]}] += freq[k]
		}
	}
	var merges [][2]int
	for 256+len(merges) < vocabSize {
		best, bestN := [2]int{}, 1
		for p, n := range pairs {
			if n > bestN || (n == bestN && n > 1 && less(p, best)) {
				best, bestN = p, n
			}
		}
		if bestN < 2 {
			break
		}
		id := 256 + len(merges)
		merges = append(merges, best)
		for i := range words {
			w := &words[i]
			if !contains(w.ids, best) {
				continue
			}
			for j := 0; j+1 < len(w.ids); j++ {
				p := [2]int{w.ids[j], w.ids[j+1]}
				if pairs[p] -= w.n; pairs[p] == 0 {
					delete(pairs, p)
				}
			}
			w.ids = mergePair(w.ids, best, id)
			for j := 0; j+1 < len(w.ids); j++ {
				pairs[[2]int{w.ids[j], w.ids[j+1]}] += w.n
			}
		}
	}
	b, err := fromMerges(merges)
	if err != nil {
		panic(err) // unreachable: every merge refers to tokens made before it
	}
	return b
}

func less(a, b [2]int) bool { return a[0] < b[0] || (a[0] == b[0] && a[1] < b[1]) }

func contains(ids []int, p [2]int) bool {
	for j := 0; j+1 < len(ids); j++ {
		if ids[j] == p[0] && ids[j+1] == p[1] {
			return true
		}
	}
	return false
}
