package text

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func TestBPERoundTrip(t *testing.T) {
	b := Train([]byte(testCorpus(400, 1)), 400)
	rng := rand.New(rand.NewPCG(2, 2))
	cases := []string{"", " ", "  two  spaces ", "The film was great.\n", "naïve café — 日本語 🎬", "\xff\xfe broken \x80 utf8", "\t\r\n 12,345.67!!"}
	for range 200 {
		buf := make([]byte, rng.IntN(40))
		for i := range buf {
			buf[i] = byte(rng.IntN(256))
		}
		cases = append(cases, string(buf))
	}
	for _, s := range cases {
		ids := b.Encode(s)
		for _, id := range ids {
			if id < 0 || id >= b.VocabSize() {
				t.Fatalf("Encode(%q) gave token %d outside [0, %d)", s, id, b.VocabSize())
			}
		}
		if got := b.Decode(ids); got != s {
			t.Fatalf("Decode(Encode(%q)) = %q", s, got)
		}
	}
}

func TestBPETrainSizeAndCompression(t *testing.T) {
	corpus := testCorpus(2000, 3)
	b := Train([]byte(corpus), 380)
	if b.VocabSize() != 380 {
		t.Fatalf("VocabSize = %d, want 380", b.VocabSize())
	}
	ids := b.Encode(corpus)
	if ratio := float64(len(corpus)) / float64(len(ids)); ratio < 3 {
		t.Errorf("%.2f bytes per token on its training corpus, want at least 3", ratio)
	}
	// Given room, every word of the grammar becomes one token, with its leading space.
	full := Train([]byte(corpus), 1000)
	for _, w := range []string{" great", " terrible", " battery", " honest"} {
		if got := full.Encode(w); len(got) != 1 {
			t.Errorf("Encode(%q) = %v, want one token", w, got)
		}
	}
	// Merges stay within chunks: no token holds a letter and a full stop.
	for id := 256; id < b.VocabSize(); id++ {
		if tok := b.Token(id); bytes.ContainsAny(tok, ".\n") && len(bytes.Trim(tok, ".\n")) > 0 {
			t.Errorf("token %d = %q crosses a chunk boundary", id, tok)
		}
	}
}

func TestBPEStopsWhenNoPairRepeats(t *testing.T) {
	b := Train([]byte("abcabc"), 1000)
	// "abc" twice: ab (2), then abc (2); nothing else occurs twice.
	if b.VocabSize() != 258 {
		t.Fatalf("VocabSize = %d, want 258", b.VocabSize())
	}
	if got := b.Encode("abc"); len(got) != 1 {
		t.Errorf("Encode(abc) = %v, want one token", got)
	}
	if got := Train(nil, 10).VocabSize(); got != 256 {
		t.Errorf("empty corpus: VocabSize = %d, want 256", got)
	}
}

func TestBPEDeterministicAndJSON(t *testing.T) {
	corpus := []byte(testCorpus(500, 4))
	a, b := Train(corpus, 350), Train(corpus, 350)
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if !bytes.Equal(ja, jb) {
		t.Fatal("two trainings on the same corpus differ")
	}
	if !strings.HasPrefix(string(ja), `{"format":"prefer-bpe","version":1,"merges":[[`) {
		t.Fatalf("JSON starts %.60s", ja)
	}
	c, err := LoadBPE(ja)
	if err != nil {
		t.Fatal(err)
	}
	s := testCorpus(50, 5)
	if got, want := c.Encode(s), a.Encode(s); !slices.Equal(got, want) {
		t.Fatal("loaded tokenizer encodes differently")
	}
	for _, bad := range []string{`{`, `{"format":"x","version":1,"merges":[]}`, `{"format":"prefer-bpe","version":2,"merges":[]}`,
		`{"format":"prefer-bpe","version":1,"merges":[[256,1]]}`, `{"format":"prefer-bpe","version":1,"merges":[[1,2],[1,2]]}`,
		`{"format":"prefer-bpe","version":1,"merges":[[-1,2]]}`} {
		if _, err := LoadBPE([]byte(bad)); err == nil {
			t.Errorf("LoadBPE(%s) accepted it", bad)
		}
	}
}

func TestChunksConcatenate(t *testing.T) {
	s := "  Hello, world!  It's 42 o'clock.\n\nBye "
	var got []byte
	for _, c := range chunks([]byte(s)) {
		got = append(got, c...)
	}
	if string(got) != s {
		t.Fatalf("chunks join to %q", got)
	}
	want := []string{" ", " Hello", ",", " world", "!", " ", " It", "'", "s", " 42", " o", "'", "clock", ".", "\n\n", "Bye", " "}
	var have []string
	for _, c := range chunks([]byte(s)) {
		have = append(have, string(c))
	}
	if strings.Join(have, "|") != strings.Join(want, "|") {
		t.Errorf("chunks = %q\nwant     %q", have, want)
	}
}

func FuzzBPERoundTrip(f *testing.F) {
	b := Train([]byte(testCorpus(300, 13)), 350)
	for _, s := range []string{"", "The film was great.", "\xff\x00 x", "  a\tb\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got := b.Decode(b.Encode(s)); got != s {
			t.Fatalf("Decode(Encode(%q)) = %q", s, got)
		}
	})
}

func BenchmarkTrain1MB(b *testing.B) {
	corpus := []byte(testCorpus(25000, 6))
	b.SetBytes(int64(len(corpus)))
	for b.Loop() {
		Train(corpus, 1024)
	}
}
