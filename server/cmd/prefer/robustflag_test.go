package main

import (
	"flag"
	"io"
	"testing"

	"github.com/prefer-rlhf/prefer/core/reward"
)

func TestRobustFlag(t *testing.T) {
	for _, c := range []struct {
		args []string
		on   bool
		mode reward.RobustMode
		grid string
	}{
		{nil, false, "", ""},
		{[]string{"--robust"}, true, reward.DefaultRobust, string(reward.DefaultRobust)},
		{[]string{"--robust=r3m"}, true, reward.RobustR3M, "r3m"},
		{[]string{"--robust=epsilon"}, true, reward.RobustEpsilon, "epsilon"},
		{[]string{"--robust=epsilon", "--robust=false"}, false, "", ""},
	} {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		var f robustFlag
		fs.Var(&f, "robust", robustUsage)
		if err := fs.Parse(c.args); err != nil {
			t.Fatalf("%v: %v", c.args, err)
		}
		if f.on != c.on || f.mode != c.mode || f.gridMode() != c.grid {
			t.Errorf("%v: on %v mode %q grid %q, want %v %q %q", c.args, f.on, f.mode, f.gridMode(), c.on, c.mode, c.grid)
		}
	}
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var f robustFlag
	fs.Var(&f, "robust", robustUsage)
	if fs.Parse([]string{"--robust=huber"}) == nil {
		t.Error("an unknown robust fit was accepted")
	}
}
