package main

import (
	"bytes"
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
		{"sweep", "--final-fresh", "-2"},
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
