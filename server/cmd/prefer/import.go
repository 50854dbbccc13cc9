package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/prefer-rlhf/prefer/core/prefs"
	"github.com/prefer-rlhf/prefer/core/text"
	"github.com/prefer-rlhf/prefer/server/hub"
	"github.com/prefer-rlhf/prefer/server/store"
	"github.com/prefer-rlhf/prefer/server/trl"
)

func init() {
	register("import", "merge a label export (JSONL or CSV) or a TRL preference file (--format trl) into a hub's database, each comparison once", runImport)
}

func runImport(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dbPath := fs.String("db", "./data/prefer.db", "the hub's SQLite database file")
	project := fs.String("project", "", "the project to merge into (default: the hub's default project)")
	format := fs.String("format", "native", `"native": the hub's own export (jsonl or csv); "trl": TRL's preference JSONL {"prompt","chosen","rejected"} into a text project`)
	truncate := fs.Bool("truncate", false, "trl: cut a prompt that is too long to its last tokens and a continuation to its first, instead of refusing the line")
	corpusFlag(fs)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 1 || (*format != "native" && *format != "trl") {
		fmt.Fprintln(stderr, "prefer import: usage: prefer import [--db FILE] [--project ID] [--format native|trl [--corpus F] [--truncate]] FILE")
		return 2
	}
	if _, err := os.Stat(*dbPath); err != nil {
		fmt.Fprintf(stderr, "prefer import: no database at %s (start `prefer serve --db %s` once first)\n", *dbPath, *dbPath)
		return 2
	}
	st, err := store.Open(*dbPath, store.Options{})
	if err != nil {
		fmt.Fprintf(stderr, "prefer import: %v\n", err)
		return 1
	}
	defer st.Close()
	ctx := context.Background()
	pid := *project
	if pid == "" {
		if pid, err = st.ServerSetting(ctx, settingDefaultProject); err != nil {
			fmt.Fprintf(stderr, "prefer import: the database has no default project; pass --project: %v\n", err)
			return 2
		}
	}
	p, err := st.Project(ctx, pid)
	if errors.Is(err, store.ErrNotFound) {
		fmt.Fprintf(stderr, "prefer import: no project %s\n", pid)
		return 2
	}
	if err != nil {
		fmt.Fprintf(stderr, "prefer import: %v\n", err)
		return 1
	}
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		fmt.Fprintf(stderr, "prefer import: %v\n", err)
		return 2
	}
	defer f.Close()
	var rows []store.ImportRow
	if *format == "trl" {
		rows, err = readTRL(ctx, st, f, p, *truncate)
	} else {
		rows, err = readExport(f)
	}
	if err != nil {
		fmt.Fprintf(stderr, "prefer import: %s: %v\n", fs.Arg(0), err)
		return 2
	}
	res, err := st.Import(ctx, pid, rows)
	if err != nil {
		fmt.Fprintf(stderr, "prefer import: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "imported %d comparisons into project %s: %d new, %d already there, %d skipped (id used by another rater)\n",
		len(rows), pid, res.Accepted, res.Duplicates, res.Foreign)
	return 0
}

// readTRL reads a TRL preference file into text project p with the project's tokenizer: the
// bundle stored with it (what its clips and exports are read with), or, for a project that has
// none yet, the text world built from --corpus (the corpus the hub's text world is built from).
func readTRL(ctx context.Context, st *store.Store, r io.Reader, p *store.Project, truncate bool) ([]store.ImportRow, error) {
	task, ok := text.TaskOf(p.Env)
	if !ok {
		return nil, fmt.Errorf("project %s is of %s; --format trl is for text projects", p.ID, p.Env)
	}
	var w *text.World
	body, _, err := st.TextBundle(ctx, p.ID)
	switch {
	case err == nil:
		if w, err = hub.BundleWorld(body); err != nil {
			return nil, err
		}
	case errors.Is(err, store.ErrNotFound):
		if err := ensureText(task.Name); err != nil {
			return nil, err
		}
		w = text.Installed()
	default:
		return nil, err
	}
	im := trl.Import{World: w, Task: task, ProjectID: p.ID, Truncate: truncate, Now: time.Now()}
	return im.Read(r)
}

// importRow turns an export record into what the store imports.
func importRow(e *hub.ExportRecord) (store.ImportRow, error) {
	r := store.ImportRow{Comparison: prefs.Comparison{ID: e.ID, PairID: e.PairID, Choice: prefs.Choice(e.Choice),
		CreatedAt: e.CreatedAt, ResponseMS: e.ResponseMS}, RaterID: e.RaterID, RaterName: e.RaterName,
		Excluded: e.Excluded, ReceivedAt: e.ReceivedAt}
	if err := json.Unmarshal(e.Left, &r.Left); err != nil {
		return r, fmt.Errorf("left clip: %w", err)
	}
	if err := json.Unmarshal(e.Right, &r.Right); err != nil {
		return r, fmt.Errorf("right clip: %w", err)
	}
	return r, nil
}

// readExport reads an export in either of the hub's formats: CSV when the first line is the
// CSV header, JSONL otherwise.
func readExport(r io.Reader) ([]store.ImportRow, error) {
	br := bufio.NewReader(r)
	head, _ := br.Peek(3)
	if bytes.Equal(head, []byte("id,")) {
		return readExportCSV(br)
	}
	var out []store.ImportRow
	sc := bufio.NewScanner(br)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var e hub.ExportRecord
		dec := json.NewDecoder(bytes.NewReader(line))
		if err := dec.Decode(&e); err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		row, err := importRow(&e)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		out = append(out, row)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, errors.New("no comparisons in the file")
	}
	return out, nil
}

func readExportCSV(r io.Reader) ([]store.ImportRow, error) {
	cr := csv.NewReader(r)
	header, err := cr.Read()
	if err != nil {
		return nil, err
	}
	col := map[string]int{}
	for i, h := range header {
		col[h] = i
	}
	for _, h := range []string{"id", "rater_id", "rater_name", "excluded", "pair_id", "choice", "created_at", "response_ms", "received_at", "left", "right"} {
		if _, ok := col[h]; !ok {
			return nil, fmt.Errorf("the CSV header has no %q column", h)
		}
	}
	var out []store.ImportRow
	for n := 2; ; n++ {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		get := func(h string) string { return rec[col[h]] }
		e := hub.ExportRecord{ID: get("id"), RaterID: get("rater_id"), RaterName: get("rater_name"), PairID: get("pair_id"),
			Choice: get("choice"), Left: json.RawMessage(get("left")), Right: json.RawMessage(get("right"))}
		var errs []string
		if e.Excluded, err = strconv.ParseBool(get("excluded")); err != nil {
			errs = append(errs, "excluded")
		}
		if e.ResponseMS, err = strconv.ParseInt(get("response_ms"), 10, 64); err != nil {
			errs = append(errs, "response_ms")
		}
		if e.CreatedAt, err = time.Parse(time.RFC3339Nano, get("created_at")); err != nil {
			errs = append(errs, "created_at")
		}
		if e.ReceivedAt, err = time.Parse(time.RFC3339Nano, get("received_at")); err != nil {
			errs = append(errs, "received_at")
		}
		if len(errs) > 0 {
			return nil, fmt.Errorf("line %d: bad %s", n, strings.Join(errs, ", "))
		}
		row, err := importRow(&e)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		out = append(out, row)
	}
	if len(out) == 0 {
		return nil, errors.New("no comparisons in the file")
	}
	return out, nil
}
