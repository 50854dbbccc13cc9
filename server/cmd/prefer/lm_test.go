package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prefer-rlhf/prefer/server/langmodel"
)

// TestLMBadInput: usage errors exit with 2 and name the flag.
func TestLMBadInput(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"lm"}, "usage"},
		{[]string{"lm", "fit"}, "usage"},
		{[]string{"lm", "pretrain"}, "--out"},
		{[]string{"lm", "pretrain", "--out", "x", "--steps", "0"}, "--steps"},
		{[]string{"lm", "pretrain", "--out", "x", "--fine-tune", "-2"}, "--fine-tune"},
		{[]string{"lm", "sample"}, "--model"},
		{[]string{"lm", "sample", "--model", "x", "--temp", "0"}, "--temp"},
	} {
		var out, errb bytes.Buffer
		if code := run(c.args, nil, &out, &errb); code != 2 || !strings.Contains(errb.String(), c.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 naming %s", c.args, code, errb.String(), c.want)
		}
	}
}

// TestLMPretrainAndSample pretrains for a few steps on a small corpus file, then samples from
// the written model; a file that is not a model is refused with exit code 2.
func TestLMPretrainAndSample(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	for i := range 400 {
		fmt.Fprintf(&b, "Review %d was good and the food was great.\n", i)
	}
	corpusPath, model := filepath.Join(dir, "c.txt"), filepath.Join(dir, "m.plm")
	os.WriteFile(corpusPath, []byte(b.String()), 0o644)
	var out, errb bytes.Buffer
	if code := run([]string{"lm", "pretrain", "--corpus", corpusPath, "--out", model, "--steps", "3", "--json"}, nil, &out, &errb); code != 0 {
		t.Fatalf("pretrain exit %d: %s", code, errb.String())
	}
	var res langmodel.Result
	if err := json.Unmarshal(out.Bytes(), &res); err != nil || res.Steps != 3 || res.Params == 0 {
		t.Fatalf("pretrain printed %q (%v)", out.String(), err)
	}
	if !strings.Contains(errb.String(), "tokens/s") {
		t.Errorf("no progress line: %q", errb.String())
	}
	// A broad text given as a file is read with the corpus, then the fine-tuning steps.
	broadPath := filepath.Join(dir, "broad.txt")
	os.WriteFile(broadPath, []byte(strings.Repeat("The old sailor looked at the sea.\n", 200)), 0o644)
	out.Reset()
	if code := run([]string{"lm", "pretrain", "--corpus", corpusPath, "--broad", broadPath, "--out", filepath.Join(dir, "b.plm"), "--steps", "3", "--fine-tune", "2", "--json"}, nil, &out, &errb); code != 0 {
		t.Fatalf("pretrain with --broad exit %d: %s", code, errb.String())
	}
	var withBroad langmodel.Result
	if err := json.Unmarshal(out.Bytes(), &withBroad); err != nil || withBroad.Steps != 5 {
		t.Fatalf("pretrain with --broad printed %q (%v): want 3 steps and 2 of fine-tuning", out.String(), err)
	}
	out.Reset()
	if code := run([]string{"lm", "sample", "--corpus", corpusPath, "--model", model, "--prompt", "Review", "--n", "2", "--tokens", "4"}, nil, &out, &errb); code != 0 {
		t.Fatalf("sample exit %d: %s", code, errb.String())
	}
	if lines := strings.Split(strings.TrimSpace(out.String()), "\n"); len(lines) != 2 || !strings.HasPrefix(lines[0], "Review|") {
		t.Errorf("sample printed %q", out.String())
	}
	if code := run([]string{"lm", "sample", "--corpus", corpusPath, "--model", corpusPath}, nil, &out, &errb); code != 2 {
		t.Errorf("a corpus given as the model: exit %d, want 2", code)
	}
}
