package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/prefer-rlhf/prefer/core/prefs"
	"github.com/prefer-rlhf/prefer/core/text"
	"github.com/prefer-rlhf/prefer/server/corpus"
	"github.com/prefer-rlhf/prefer/server/hub"
	"github.com/prefer-rlhf/prefer/server/store"
	"github.com/prefer-rlhf/prefer/server/trl"
)

// trlExport is what GET export?format=trl writes for a project (server/hub/trl.go): its
// strict choices as TRL lines, in arrival order.
func trlExport(t *testing.T, st *store.Store, pid string) string {
	t.Helper()
	w := text.Installed()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	err := st.Export(context.Background(), pid, func(e *store.ExportRow) error {
		var l, r prefs.Clip
		json.Unmarshal(e.Left, &l)
		json.Unmarshal(e.Right, &r)
		rec, ok, err := trl.FromComparison(w, l, r, e.Choice)
		if ok {
			enc.Encode(rec)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestImportTRL imports a TRL file into a text project twice (the second adds nothing), then
// its export into a fresh project: both projects export the file's lines. A bad line, or a
// clip project, is exit code 2 with the line number, and nothing is written.
func TestImportTRL(t *testing.T) {
	corpusPath := testCorpus(t)
	w, err := corpus.Register(corpusPath)
	if err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(t.TempDir(), "prefer.db")
	st, err := store.Open(db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var pids []string
	for i, env := range []string{"TextPositive-v0", "TextPositive-v0", "CartPole-v1"} {
		p := &store.Project{ID: uuid.NewString(), Env: env, Settings: store.DefaultSettings(), JoinCode: "TRL00" + string(rune('0'+i))}
		if err := st.CreateProject(ctx, p); err != nil {
			t.Fatal(err)
		}
		pids = append(pids, p.ID)
	}
	st.Close()

	prompt := w.Tok.Decode(w.Prompts[0])
	lines := []trl.Record{
		{Prompt: prompt, Chosen: " was great and I", Rejected: " was awful"},
		{Prompt: prompt, Chosen: " felt good, ünïcode", Rejected: " was great and I"},
		{Prompt: prompt, Chosen: " was great and I", Rejected: " was awful"},
	}
	var file bytes.Buffer
	enc := json.NewEncoder(&file)
	for _, l := range lines {
		enc.Encode(l)
	}
	in := filepath.Join(t.TempDir(), "prefs.jsonl")
	os.WriteFile(in, file.Bytes(), 0o644)
	imp := func(pid, path string) (int, string, string) {
		return runPrefer("", "import", "--format", "trl", "--corpus", corpusPath, "--db", db, "--project", pid, path)
	}
	if code, out, errs := imp(pids[0], in); code != 0 || !strings.Contains(out, "3 new") {
		t.Fatalf("first import: exit %d: %s %s", code, out, errs)
	}
	if code, out, errs := imp(pids[0], in); code != 0 || !strings.Contains(out, "0 new, 3 already there") {
		t.Fatalf("second import: exit %d: %s %s", code, out, errs)
	}
	st, err = store.Open(db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	first := trlExport(t, st, pids[0])
	st.Close()
	if first != file.String() {
		t.Fatalf("the project exports\n%s\nwant the imported file\n%s", first, file.String())
	}
	again := filepath.Join(t.TempDir(), "export.jsonl")
	os.WriteFile(again, []byte(first), 0o644)
	if code, out, errs := imp(pids[1], again); code != 0 || !strings.Contains(out, "3 new") {
		t.Fatalf("import of the export: exit %d: %s %s", code, out, errs)
	}

	bad := filepath.Join(t.TempDir(), "bad.jsonl")
	ls := strings.SplitAfter(file.String(), "\n")
	ls[1] = strings.Replace(ls[1], `"chosen"`, `"chosn"`, 1)
	os.WriteFile(bad, []byte(strings.Join(ls, "")), 0o644)
	if code, _, errs := imp(pids[1], bad); code != 2 || !strings.Contains(errs, "line 2:") || !strings.Contains(errs, `no "chosen"`) {
		t.Fatalf("a bad line: exit %d: %s", code, errs)
	}
	if code, _, errs := imp(pids[2], in); code != 2 || !strings.Contains(errs, "text projects") {
		t.Fatalf("a clip project: exit %d: %s", code, errs)
	}
	if code, _, errs := runPrefer("", "import", "--format", "xml", "--db", db, in); code != 2 || !strings.Contains(errs, "usage") {
		t.Fatalf("--format xml: exit %d: %s", code, errs)
	}
	st, err = store.Open(db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if got := trlExport(t, st, pids[1]); got != file.String() {
		t.Fatalf("the fresh project exports\n%s\nwant\n%s", got, file.String())
	}
	for i, want := range []int{3, 3, 0} {
		if n, err := st.CountComparisons(ctx, pids[i]); err != nil || n != want {
			t.Errorf("project %d holds %d comparisons (%v), want %d", i, n, err, want)
		}
	}

	// A project with a stored text bundle (the Worker's, uploaded by its trainer; serve's,
	// stored at creation) is read with that bundle's tokenizer: no corpus is needed.
	withBundle := &store.Project{ID: uuid.NewString(), Env: "TextPositive-v0", Settings: store.DefaultSettings(), JoinCode: "TRL009"}
	if err := st.CreateProject(ctx, withBundle); err != nil {
		t.Fatal(err)
	}
	b, err := hub.NewTextBundle(w, withBundle.Env)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(b)
	if err := st.SetTextBundle(ctx, withBundle.ID, body, "test"); err != nil {
		t.Fatal(err)
	}
	st.Close()
	noCorpus := filepath.Join(t.TempDir(), "no-such-corpus.txt")
	code, out, errs := runPrefer("", "import", "--format", "trl", "--corpus", noCorpus, "--db", db, "--project", withBundle.ID, in)
	if code != 0 || !strings.Contains(out, "3 new") {
		t.Fatalf("import into a project with a stored bundle: exit %d: %s %s", code, out, errs)
	}
	if st, err = store.Open(db, store.Options{}); err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if got := trlExport(t, st, withBundle.ID); got != file.String() {
		t.Fatalf("the project with a stored bundle exports\n%s\nwant\n%s", got, file.String())
	}
}
