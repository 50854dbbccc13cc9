package corpus

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prefer-rlhf/prefer/core/env"
)

// tarball builds a package tarball with the given files.
func tarball(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for name, body := range files {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body))}); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(body))
	}
	tw.Close()
	zw.Close()
	return buf.Bytes()
}

func TestReviews(t *testing.T) {
	files := map[string]string{
		"package/README.md":                 "x",
		"package/test/fixtures/amazon.json": `[{"text":"Good case,  Excellent value.","class":1},{"text":"  ","class":0}]`,
		"package/test/fixtures/imdb.json":   `[{"text":"A very slow movie.\n ","class":0}]`,
		"package/test/fixtures/yelp.json":   `[{"text":"Wow... Loved this place.","class":1}]`,
	}
	got, err := Reviews(bytes.NewReader(tarball(t, files)))
	if err != nil {
		t.Fatal(err)
	}
	if want := "Good case, Excellent value.\nA very slow movie.\nWow... Loved this place.\n"; string(got) != want {
		t.Fatalf("Reviews = %q, want %q", got, want)
	}
	delete(files, "package/test/fixtures/yelp.json")
	if _, err := Reviews(bytes.NewReader(tarball(t, files))); err == nil || !strings.Contains(err.Error(), "yelp") {
		t.Errorf("missing fixture: %v", err)
	}
	if _, err := Reviews(strings.NewReader("not gzip")); err == nil {
		t.Error("accepted a non-gzip tarball")
	}
}

func TestRegisterFromFile(t *testing.T) {
	var b strings.Builder
	subj := []string{"The film", "This phone", "The food", "Our waiter"}
	adj := []string{"was great", "was awful", "felt good", "seemed bad"}
	for i := range 400 {
		b.WriteString(subj[i%4] + " " + adj[(i/4)%4] + " and I would come back again.\n")
	}
	path := filepath.Join(t.TempDir(), "c.txt")
	os.WriteFile(path, []byte(b.String()), 0o644)
	if _, err := Load(filepath.Join(t.TempDir(), "missing.txt")); err == nil {
		t.Error("Load of a missing file succeeded")
	}
	empty := filepath.Join(t.TempDir(), "e.txt")
	os.WriteFile(empty, []byte(" \n"), 0o644)
	if _, err := Load(empty); err == nil {
		t.Error("Load of an empty file succeeded")
	}
	w, err := Register(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(w.Prompts[0]) != PromptLen {
		t.Fatalf("prompt length %d", len(w.Prompts[0]))
	}
	// The training sentences give prompts too, of the same length, and many more: the split
	// holds out one sentence in text.HeldOutEvery.
	if len(w.TrainPrompts) <= len(w.Prompts) || len(w.TrainPrompts[0]) != PromptLen {
		t.Errorf("%d training prompts of %d tokens beside %d held-out prompts", len(w.TrainPrompts), len(w.TrainPrompts[0]), len(w.Prompts))
	}
	if _, err := env.Lookup("TextPositive-v0"); err != nil {
		t.Fatal(err)
	}
}

// TestSourceLoadsOnNeed: a Source with a path is available without a download; a missing file
// is an error, tried again at the next call; a readable one gives its text. (World returns a
// world registered already, as TestRegisterFromFile's, so it is not called here.)
func TestSourceLoadsOnNeed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.txt")
	s := &Source{Path: path}
	if !s.Available() {
		t.Fatal("a Source with a path is not available")
	}
	if _, err := s.Bytes(); err == nil {
		t.Fatal("Bytes of a missing file succeeded")
	}
	if err := os.WriteFile(path, []byte("Great food.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := s.Bytes(); err != nil || string(b) != "Great food.\n" {
		t.Fatalf("Bytes %q, %v after the file appeared", b, err)
	}
}

// TestFortunes: fortunes are joined one a line, attributions and skipped files and indexes
// left out, and text that is mostly not letters dropped.
func TestFortunes(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) { os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644) }
	write("wisdom", "Never trust a cat\n  with your  lunch.\n\t\t-- Anonymous\n%\n1234 5678 9012 3456 !!!\n%\nA short one.\n")
	write("wisdom.dat", "binary index")
	write("perl", "print 'Just another Perl hacker, of course';\n")
	got, err := Fortunes(dir)
	if err != nil {
		t.Fatal(err)
	}
	if want := "Never trust a cat with your lunch.\nA short one.\n"; string(got) != want {
		t.Fatalf("Fortunes = %q, want %q", got, want)
	}
	if _, err := Fortunes(t.TempDir()); err == nil {
		t.Error("an empty directory gave fortunes")
	}
}

// TestBook: the novel's paragraphs one a line, short ones (headings) left out.
func TestBook(t *testing.T) {
	body := "CHAPTER 1. Loomings.\n\nCall me Ishmael. Some years ago, never mind how\nlong precisely, I went to sea.\n\nShort.\n"
	got, err := Book(bytes.NewReader(tarball(t, map[string]string{"package/data/data.txt": body, "package/README.md": "x"})))
	if err != nil {
		t.Fatal(err)
	}
	if want := "Call me Ishmael. Some years ago, never mind how long precisely, I went to sea.\n"; string(got) != want {
		t.Fatalf("Book = %q, want %q", got, want)
	}
	if _, err := Book(bytes.NewReader(tarball(t, map[string]string{"package/README.md": "x"}))); err == nil {
		t.Error("a package without the book gave a book")
	}
}

// TestLoadBroadFromFile: a broad text given as a file is read as it is, with no download.
func TestLoadBroadFromFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "b.txt")
	os.WriteFile(path, []byte("Some English text.\n"), 0o644)
	if b, err := LoadBroad(path); err != nil || string(b) != "Some English text.\n" {
		t.Fatalf("LoadBroad = %q, %v", b, err)
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, BroadFileName), []byte("x\n"), 0o644)
	if p, err := FetchBroad(dir); err != nil || p != filepath.Join(dir, BroadFileName) {
		t.Fatalf("FetchBroad of a cached text = %q, %v", p, err)
	}
}
