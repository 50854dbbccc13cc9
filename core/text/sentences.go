package text

import (
	"hash/fnv"
	"strings"
)

// Sentences splits a corpus into sentences: at line ends, and after '.', '!' or '?' followed
// by white space. White space inside a sentence is collapsed to one space; empty pieces are
// dropped. A corpus of one review per line gives its reviews' sentences.
func Sentences(corpus []byte) []string {
	var out []string
	for _, line := range strings.Split(string(corpus), "\n") {
		words := strings.Fields(line)
		start := 0
		for i, w := range words {
			if strings.HasSuffix(w, ".") || strings.HasSuffix(w, "!") || strings.HasSuffix(w, "?") || i == len(words)-1 {
				out = append(out, strings.Join(words[start:i+1], " "))
				start = i + 1
			}
		}
	}
	return out
}

// HeldOutEvery is the share of sentences held out for prompts and held-out measurements: one
// in HeldOutEvery.
const HeldOutEvery = 10

// Split divides sentences into those a language model trains on and those held out, from
// which prompts and held-out text come. A sentence is held out when the FNV-1a hash of its
// text is 0 modulo HeldOutEvery: the split is fixed, depends on no seed or order, and puts
// every copy of a repeated sentence on the same side.
func Split(sentences []string) (train, heldOut []string) {
	for _, s := range sentences {
		h := fnv.New32a()
		h.Write([]byte(s))
		if h.Sum32()%HeldOutEvery == 0 {
			heldOut = append(heldOut, s)
		} else {
			train = append(train, s)
		}
	}
	return train, heldOut
}

// Prompts returns the first n tokens of every sentence that has at least 2n tokens and whose
// token n begins a word (with a space): prompts of whole words that leave the rest of a
// sentence to continue, all of the same length so that a batch of them needs no padding.
func Prompts(tok *BPE, sentences []string, n int) [][]int {
	var out [][]int
	for _, s := range sentences {
		ids := tok.Encode(s)
		if len(ids) >= 2*n && tok.Token(ids[n])[0] == ' ' {
			out = append(out, ids[:n:n])
		}
	}
	return out
}
