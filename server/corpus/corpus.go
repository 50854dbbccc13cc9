// Package corpus reads the text tasks' corpus and sets up their world: it fetches the default
// corpus from npm on first use, reads any text file given instead, trains the tokenizer and
// registers the text envs (core/text). The corpus is never committed.
//
// The default corpus is the 3,003 review sentences of the UCI Sentiment Labelled Sentences
// data set (Kotzias et al. 2015, CC BY 4.0: 1,000 each from Amazon, IMDb and Yelp reviews, plus
// the header lines the package keeps), as npm's sentiment@5.0.2 ships them in
// test/fixtures/{amazon,imdb,yelp}.json. Short reviews suit "continue a review".
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
	"strings"
	"sync"

	"github.com/prefer-rlhf/prefer/core/text"
	"github.com/prefer-rlhf/prefer/core/text/vader"
)

// Package is the npm package the default corpus comes from.
const Package = "sentiment@5.0.2"

// FileName is the default corpus's file in the data directory: one review sentence a line.
const FileName = "reviews.txt"

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

// Fetch returns the path of the default corpus in dir, first downloading it with `npm pack`
// (npm's ordinary client and registry) if it is not there.
func Fetch(dir string) (string, error) {
	path := filepath.Join(dir, FileName)
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	reviews, err := pack(Package, Reviews)
	if err != nil {
		return "", err
	}
	return path, writeAtomic(dir, path, reviews)
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

// writeAtomic writes b to path (in dir, made if need be) through a temporary file, so that a
// reader never sees half a file.
func writeAtomic(dir, path string, b []byte) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("corpus: %w", err)
	}
	part := path + ".part"
	if err := os.WriteFile(part, b, 0o644); err != nil {
		return fmt.Errorf("corpus: %w", err)
	}
	if err := os.Rename(part, path); err != nil {
		return fmt.Errorf("corpus: %w", err)
	}
	return nil
}

// Reviews reads the package tarball of Package and returns its review sentences, one a line.
func Reviews(tgz io.Reader) ([]byte, error) {
	zr, err := gzip.NewReader(tgz)
	if err != nil {
		return nil, fmt.Errorf("corpus: %w", err)
	}
	found := map[string][]byte{}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("corpus: %w", err)
		}
		for _, name := range fixtures {
			if h.Name == name {
				b, err := io.ReadAll(tr)
				if err != nil {
					return nil, fmt.Errorf("corpus: %s: %w", name, err)
				}
				found[name] = b
			}
		}
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

// Load reads a corpus: the file at path, or the default corpus (fetched if need be) when path
// is empty.
func Load(path string) ([]byte, error) { return load(path, Fetch) }

// load reads the file at path, or, when path is empty, the one fetch gives in Dir.
func load(path string, fetch func(dir string) (string, error)) ([]byte, error) {
	if path == "" {
		dir, err := Dir()
		if err != nil {
			return nil, err
		}
		if path, err = fetch(dir); err != nil {
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

// NewWorld trains the tokenizer on corpus (Vocab tokens; deterministic, so every process
// that reads the same corpus gets the same token ids) and builds the text tasks' world: its
// prompts come from the held-out sentences (text.Split), its training prompts (which the text
// loop may train on but never measures) from the training sentences, its gold sentiment is
// VADER, its vocabulary is every word of the corpus.
func NewWorld(corpus []byte) (*text.World, error) {
	tok := text.Train(corpus, Vocab)
	sents := text.Sentences(corpus)
	train, held := text.Split(sents)
	prompts := text.Prompts(tok, held, PromptLen)
	if len(prompts) == 0 {
		return nil, fmt.Errorf("corpus: no held-out sentence has %d tokens or more to make a prompt", 2*PromptLen)
	}
	return &text.World{Tok: tok, Prompts: prompts, Sentiment: vader.Sentiment, Vocab: text.Vocabulary(sents),
		Train: train, HeldOut: held, TrainPrompts: text.Prompts(tok, train, PromptLen)}, nil
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
