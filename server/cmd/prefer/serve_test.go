package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestServeDemoFlagErrors: a bad demo teacher, a teacher with noise or an unknown demo env is a
// one-line message and exit 2 before anything opens.
func TestServeDemoFlagErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"serve", "--demo-raters", "3", "--demo-teacher", "lazy"}, "lazy"},
		{[]string{"serve", "--demo-raters", "3", "--demo-teacher", "skip", "--demo-noise", "0.1"}, "noise"},
		{[]string{"serve", "--demo-raters", "101", "--demo-teacher", "oracle"}, "101"},
		{[]string{"serve", "--demo-raters", "3", "--demo-env", "Nope-v0"}, "Nope-v0"},
	} {
		var stdout, stderr bytes.Buffer
		code := run(c.args, strings.NewReader(""), &stdout, &stderr)
		msg := strings.TrimRight(stderr.String(), "\n")
		if code != 2 || !strings.Contains(msg, c.want) || strings.Contains(msg, "\n") || stdout.Len() != 0 {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and a one-line message naming %q", c.args, code, msg, c.want)
		}
	}
}
