package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSweepFlagErrors(t *testing.T) {
	for _, args := range [][]string{
		{"sweep", "--env", "NoSuchEnv-v0"},
		{"sweep", "--teachers", "oracle,lazy"},
		{"sweep", "--queries", "best"},
		{"sweep", "--teachers", ","},
		{"sweep", "--objective", "max"},
		{"sweep", "--seeds", "0"},
		{"sweep", "--labels", "-1"},
		{"sweep", "extra"},
	} {
		var stdout, stderr bytes.Buffer
		code := run(args, strings.NewReader(""), &stdout, &stderr)
		msg := strings.TrimRight(stderr.String(), "\n")
		if code != 2 || msg == "" || strings.Contains(msg, "\n") || stdout.Len() != 0 {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and a one-line message", args, code, msg)
		}
	}
}

func TestOveroptFlagErrors(t *testing.T) {
	for _, args := range [][]string{
		{"overopt", "--env", "NoSuchEnv-v0"},
		{"overopt", "--objective", "max"},
		{"overopt", "--steps", "0"},
		{"overopt", "--points", "1"},
		{"overopt", "--lambda", "-1"},
		{"overopt", "--labels", "-1"},
		{"overopt", "--loop-steps", "-1"},
		{"overopt", "extra"},
	} {
		var stdout, stderr bytes.Buffer
		code := run(args, strings.NewReader(""), &stdout, &stderr)
		msg := strings.TrimRight(stderr.String(), "\n")
		if code != 2 || msg == "" || strings.Contains(msg, "\n") || stdout.Len() != 0 {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and a one-line message", args, code, msg)
		}
	}
}

// TestOveroptJSON runs a tiny over-optimisation run and checks its JSON line and files.
func TestOveroptJSON(t *testing.T) {
	prefix := filepath.Join(t.TempDir(), "oo")
	var stdout, stderr bytes.Buffer
	code := run([]string{"overopt", "--labels", "12", "--loop-steps", "2048", "--steps", "4096", "--points", "2",
		"--objective", "uwo", "--json", "--out", prefix}, strings.NewReader(""), &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	var got struct {
		Objective string `json:"objective"`
		Points    []struct {
			KL            float64  `json:"kl"`
			LearnedReturn *float64 `json:"learned_return"`
		} `json:"points"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
		t.Fatalf("stdout %q: %v", stdout.String(), err)
	}
	if got.Objective != "uwo" || len(got.Points) != 3 || got.Points[0].LearnedReturn != nil || got.Points[2].LearnedReturn == nil {
		t.Errorf("report %+v", got)
	}
	for _, ext := range []string{".json", ".svg"} {
		if b, err := os.ReadFile(prefix + ext); err != nil || len(b) < 50 {
			t.Errorf("%s: %d bytes, %v", ext, len(b), err)
		}
	}
}

// TestSweepTinyAndResume runs a one-cell sweep of tiny runs, then again: the second does
// nothing new and prints the same summary.
func TestSweepTinyAndResume(t *testing.T) {
	if testing.Short() {
		t.Skip("trains PPO on the true reward for the anchor")
	}
	dir := t.TempDir()
	args := []string{"sweep", "--teachers", "skip", "--queries", "kcenter_entropy", "--labels", "12", "--steps", "2048",
		"--rounds", "2", "--seeds", "1", "--jobs", "1", "--json", "--out", dir}
	var first []byte
	for i := 0; i < 2; i++ {
		var stdout, stderr bytes.Buffer
		if code := run(args, strings.NewReader(""), &stdout, &stderr); code != 0 {
			t.Fatalf("exit %d: %s", code, stderr.String())
		}
		var s struct {
			Teacher, Query string
			Runs           int
			Mean           float64 `json:"normalized_mean"`
			Lo             float64 `json:"ci_low"`
			Hi             float64 `json:"ci_high"`
		}
		if err := json.Unmarshal(stdout.Bytes(), &s); err != nil {
			t.Fatalf("summary %q: %v", stdout.String(), err)
		}
		if s.Teacher != "skip" || s.Query != "kcenter_entropy" || s.Runs != 1 || s.Lo != s.Mean || s.Hi != s.Mean {
			t.Errorf("summary %+v", s)
		}
		if i == 0 {
			first = stdout.Bytes()
		} else if !bytes.Equal(first, stdout.Bytes()) || strings.Contains(stderr.String(), "[1/1]") {
			t.Errorf("the second sweep ran again or changed the summary: %s", stderr.String())
		}
	}
	for _, f := range []string{"runs.jsonl", "anchors.jsonl", "summary.jsonl", "chart.svg"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
}
