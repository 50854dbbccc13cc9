package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestFailureRate trains a weak CartPole policy briefly and estimates its failure rate both
// ways: the two intervals must overlap, and bad input exits with code 2.
func TestFailureRate(t *testing.T) {
	dir := t.TempDir()
	pol := filepath.Join(dir, "p.bin")
	runJSON(t, "train", "--env", "CartPole-v1", "--steps", "4096", "--seed", "1", "--eval-episodes", "0", "--json", "--out", pol)
	res := runJSON(t, "failure-rate", "--policy", pol, "--env", "CartPole-v1", "--episodes", "400",
		"--is-episodes", "400", "--train-episodes", "200", "--pool", "20000", "--json")
	for _, k := range []string{"mc_estimate", "mc_ci", "mc_episodes", "is_estimate", "is_ci", "is_episodes", "event"} {
		if _, ok := res[k]; !ok {
			t.Fatalf("no %q in %v", k, res)
		}
	}
	mc, is := res["mc_ci"].([]any), res["is_ci"].([]any)
	if mc[0].(float64) > is[1].(float64) || is[0].(float64) > mc[1].(float64) {
		t.Errorf("Monte Carlo %v and importance sampling %v intervals do not overlap", mc, is)
	}
	if res["mc_episodes"].(float64) != 400 || res["is_episodes"].(float64) != 400 {
		t.Errorf("episodes %v / %v", res["mc_episodes"], res["is_episodes"])
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--env", "CartPole-v1"}, "--policy is required"},
		{[]string{"--policy", pol, "--env", "PendulumSpin-v0"}, "no failure event"},
		{[]string{"--policy", pol, "--env", "Pendulum-v1"}, "does not fit"},
		{[]string{"--policy", pol, "--env", "CartPole-v1", "--push", "-1"}, "push std"},
		{[]string{"--policy", pol, "--env", "CartPole-v1", "--episodes", "0", "--is-episodes", "0"}, "nothing to do"},
	} {
		code, _, stderr := runPrefer("", append([]string{"failure-rate"}, c.args...)...)
		if code != 2 || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", c.args, code, stderr, c.want)
		}
	}
}
