package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"
)

// benchmark is one named part of `prefer bench`; it returns a JSON-able result of medians.
type benchmark struct {
	name string
	run  func(stderr io.Writer) (any, error)
}

var benchmarks []benchmark

// registerBench adds a part to `prefer bench`. Parts register in init, in their own files.
func registerBench(name string, run func(stderr io.Writer) (any, error)) {
	benchmarks = append(benchmarks, benchmark{name, run})
}

func init() {
	register("bench", "run the benchmarks and print one JSON object of medians", runBench)
}

func runBench(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	only := fs.String("only", "", "comma-separated parts to run (default all): "+benchNames())
	var extras []string
	fs.Func("extra", "a JSON file whose object is merged into the result, e.g. figures measured under Node or wrangler (repeatable)", func(s string) error {
		extras = append(extras, s)
		return nil
	})
	if err := fs.Parse(args); err != nil {
		return 2
	}
	want := map[string]bool{}
	for _, n := range strings.Split(*only, ",") {
		if n = strings.TrimSpace(n); n != "" {
			want[n] = true
		}
	}
	for n := range want {
		if !hasBench(n) {
			fmt.Fprintf(stderr, "prefer bench: unknown part %q (known: %s)\n", n, benchNames())
			return 2
		}
	}
	out := map[string]any{}
	for _, f := range extras {
		b, err := os.ReadFile(f)
		if err == nil {
			err = json.Unmarshal(b, &out)
		}
		if err != nil {
			fmt.Fprintf(stderr, "prefer bench: --extra %s: %v\n", f, err)
			return 2
		}
	}
	sort.Slice(benchmarks, func(i, j int) bool { return benchmarks[i].name < benchmarks[j].name })
	failed := false
	for _, b := range benchmarks {
		if len(want) > 0 && !want[b.name] {
			continue
		}
		fmt.Fprintf(stderr, "bench: %s ...\n", b.name)
		start := time.Now()
		res, err := b.run(stderr)
		if err != nil {
			fmt.Fprintf(stderr, "bench: %s failed: %v\n", b.name, err)
			out[b.name] = map[string]string{"error": err.Error()}
			failed = true
			continue
		}
		fmt.Fprintf(stderr, "bench: %s done in %.1fs\n", b.name, time.Since(start).Seconds())
		out[b.name] = res
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return 1
	}
	if failed {
		return 1
	}
	return 0
}

func hasBench(name string) bool {
	for _, b := range benchmarks {
		if b.name == name {
			return true
		}
	}
	return false
}

func benchNames() string {
	var ns []string
	for _, b := range benchmarks {
		ns = append(ns, b.name)
	}
	sort.Strings(ns)
	return strings.Join(ns, ", ")
}
