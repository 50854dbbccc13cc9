// Package text holds Prefer's text engine apart from the language model: a byte-level BPE
// tokenizer, sentence splitting and a fixed prompt split of a corpus, the text tasks as
// environments, gold scores (a sentiment lexicon, a letter checker), the metrics of a batch
// of continuations, and the features of the text reward model. It is pure Go with no I/O: the
// corpus is read by the caller (server/corpus) and handed over as bytes.
package text

import (
	"encoding/json"
	"fmt"
	"sync"
)

// BPE is a byte-level byte-pair-encoding tokenizer (Sennrich et al. 2016, on bytes as in
// GPT-2, Radford et al. 2019 §2.2). Tokens 0-255 are the bytes themselves, so any byte
// string, valid UTF-8 or not, encodes and decodes losslessly; token 256+i is merge i, the
// concatenation of its two parts. Merges never cross a chunk boundary (chunker.go), so a token
// is at most one word with its leading space.
//
// A BPE is safe for concurrent use.
type BPE struct {
	merges [][2]int         // merge i makes token 256+i from merges[i][0] followed by merges[i][1]
	rank   map[[2]int]int   // pair -> merge index
	bytes  [][]byte         // token -> its bytes
	mu     sync.Mutex       // guards cache
	cache  map[string][]int // chunk -> its tokens, a memo for Encode
}

// cacheMax bounds the memo of Encode: chunks past it are encoded without being stored.
const cacheMax = 1 << 16

// Format and Version identify the JSON form of a tokenizer.
const (
	Format  = "prefer-bpe"
	Version = 1
)

// fromMerges builds a tokenizer from its merge list, checking that every merge refers to
// tokens defined before it.
func fromMerges(merges [][2]int) (*BPE, error) {
	b := &BPE{
		merges: merges,
		rank:   make(map[[2]int]int, len(merges)),
		bytes:  make([][]byte, 256, 256+len(merges)),
		cache:  map[string][]int{},
	}
	for i := range 256 {
		b.bytes[i] = []byte{byte(i)}
	}
	for i, m := range merges {
		id := 256 + i
		if m[0] < 0 || m[0] >= id || m[1] < 0 || m[1] >= id {
			return nil, fmt.Errorf("text: merge %d refers to token %v, not defined before it", i, m)
		}
		if _, dup := b.rank[m]; dup {
			return nil, fmt.Errorf("text: merge %d repeats the pair %v", i, m)
		}
		b.rank[m] = i
		t := append(append([]byte{}, b.bytes[m[0]]...), b.bytes[m[1]]...)
		b.bytes = append(b.bytes, t)
	}
	return b, nil
}

// VocabSize is the number of tokens: 256 bytes plus one per merge.
func (b *BPE) VocabSize() int { return len(b.bytes) }

// Token returns the bytes of token id; it panics if id is out of range.
func (b *BPE) Token(id int) []byte { return b.bytes[id] }

// Encode splits s into tokens. Decode(Encode(s)) == s for every string s.
func (b *BPE) Encode(s string) []int {
	out := make([]int, 0, len(s)/3+1)
	for _, c := range chunks([]byte(s)) {
		out = append(out, b.encodeChunk(c)...)
	}
	return out
}

// Decode joins the bytes of the tokens. It panics on an id outside [0, VocabSize()).
func (b *BPE) Decode(ids []int) string {
	return string(b.DecodeBytes(ids))
}

// DecodeBytes is Decode as bytes.
func (b *BPE) DecodeBytes(ids []int) []byte {
	var out []byte
	for _, id := range ids {
		out = append(out, b.bytes[id]...)
	}
	return out
}

// encodeChunk applies the merges to one chunk in the order they were learned: repeatedly
// merge the adjacent pair of lowest rank, as the GPT-2 encoder does.
func (b *BPE) encodeChunk(c []byte) []int {
	b.mu.Lock()
	got, ok := b.cache[string(c)]
	b.mu.Unlock()
	if ok {
		return got
	}
	ids := make([]int, len(c))
	for i, x := range c {
		ids[i] = int(x)
	}
	for len(ids) > 1 {
		best, at := -1, -1
		for i := 0; i+1 < len(ids); i++ {
			if r, ok := b.rank[[2]int{ids[i], ids[i+1]}]; ok && (best < 0 || r < best) {
				best, at = r, i
			}
		}
		if at < 0 {
			break
		}
		ids = mergePair(ids, b.merges[best], 256+best)
	}
	b.mu.Lock()
	if len(b.cache) < cacheMax {
		b.cache[string(c)] = ids
	}
	b.mu.Unlock()
	return ids
}

// mergePair replaces every non-overlapping occurrence of p in ids, left to right, by id, in
// place.
func mergePair(ids []int, p [2]int, id int) []int {
	out := ids[:0]
	for i := 0; i < len(ids); i++ {
		if i+1 < len(ids) && ids[i] == p[0] && ids[i+1] == p[1] {
			out = append(out, id)
			i++
			continue
		}
		out = append(out, ids[i])
	}
	return out
}

// bpeJSON is the versioned JSON form of a tokenizer: its merges in order. The vocabulary
// follows from them.
type bpeJSON struct {
	Format  string   `json:"format"`
	Version int      `json:"version"`
	Merges  [][2]int `json:"merges"`
}

// MarshalJSON writes {"format": "prefer-bpe", "version": 1, "merges": [[a, b], ...]}.
func (b *BPE) MarshalJSON() ([]byte, error) {
	m := b.merges
	if m == nil {
		m = [][2]int{}
	}
	return json.Marshal(bpeJSON{Format: Format, Version: Version, Merges: m})
}

// LoadBPE reads a tokenizer written by MarshalJSON.
func LoadBPE(data []byte) (*BPE, error) {
	var j bpeJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return nil, fmt.Errorf("text: tokenizer: %w", err)
	}
	if j.Format != Format {
		return nil, fmt.Errorf("text: tokenizer format %q, want %q", j.Format, Format)
	}
	if j.Version != Version {
		return nil, fmt.Errorf("text: tokenizer version %d, want %d", j.Version, Version)
	}
	return fromMerges(j.Merges)
}
