package main

import (
	"bytes"
	"encoding/json"
	"math"
	"path/filepath"
	"strings"
	"testing"
)

func TestTrainFlagErrors(t *testing.T) {
	for _, args := range [][]string{
		{"train"},                          // no env
		{"train", "--env", "NoSuchEnv-v0"}, // unknown env
		{"train", "--env", "CartPole-v1", "--steps", "-5"},
		{"train", "--env", "CartPole-v1", "--config", "fancy"},
		{"train", "--env", "CartPole-v1", "--seed", "minus-one"},
		{"train", "--bogus"},
		{"train", "--env", "CartPole-v1", "extra"},
		{"eval", "--env", "CartPole-v1"}, // no policy
		{"eval", "--policy", "/nonexistent/p.bin", "--env", "CartPole-v1"},
		{"eval", "--policy", "x.bin", "--env", "CartPole-v1", "--episodes", "0"},
	} {
		var stdout, stderr bytes.Buffer
		code := run(args, strings.NewReader(""), &stdout, &stderr)
		msg := strings.TrimRight(stderr.String(), "\n")
		if code != 2 || msg == "" || strings.Contains(msg, "\n") || stdout.Len() != 0 {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and one line", args, code, msg)
		}
	}
}

// TestTrainJSONAndEval trains briefly, checks the JSON object, and loads the policy back with
// prefer eval, which must see the same return as the training run's evaluation.
func TestTrainJSONAndEval(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.bin")
	var stdout, stderr bytes.Buffer
	code := run([]string{"train", "--env", "CartPole-v1", "--steps", "2048", "--seed", "3", "--json", "--out", path, "--eval-episodes", "10"},
		strings.NewReader(""), &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	var res map[string]any
	dec := json.NewDecoder(&stdout)
	if err := dec.Decode(&res); err != nil || dec.More() {
		t.Fatalf("stdout is not one JSON object: %v %q", err, stdout.String())
	}
	for _, k := range []string{"env", "seed", "env_steps", "wall_seconds", "steps_per_second", "solved_at_steps", "solved_at_seconds", "eval_return"} {
		if _, ok := res[k]; !ok {
			t.Errorf("result has no %q: %v", k, res)
		}
	}
	if res["env"] != "CartPole-v1" || res["seed"] != 3.0 || res["env_steps"].(float64) < 2048 {
		t.Errorf("result %v", res)
	}
	if res["solved_at_steps"] != nil { // 2048 steps cannot hold 20 episodes of ≥ 475
		t.Errorf("solved at %v steps after 2048", res["solved_at_steps"])
	}

	stdout.Reset()
	stderr.Reset()
	code = run([]string{"eval", "--policy", path, "--env", "CartPole-v1", "--episodes", "10", "--seed", "3", "--json"},
		strings.NewReader(""), &stdout, &stderr)
	var ev map[string]any
	if code != 0 || json.Unmarshal(stdout.Bytes(), &ev) != nil {
		t.Fatalf("eval: exit %d: %s %s", code, stdout.String(), stderr.String())
	}
	if ev["eval_return"] != res["eval_return"] {
		t.Errorf("the loaded policy returns %v, the trained one %v", ev["eval_return"], res["eval_return"])
	}

	// A loaded policy that does not fit the env is bad input.
	stderr.Reset()
	if code := run([]string{"eval", "--policy", path, "--env", "Pendulum-v1"}, strings.NewReader(""), &stdout, &stderr); code != 2 {
		t.Errorf("evaluating a CartPole policy on Pendulum: exit %d (%s)", code, stderr.String())
	}
}

func TestBenchMedian(t *testing.T) {
	inf := math.Inf(1)
	for _, tc := range []struct {
		xs   []float64
		want any
	}{
		{[]float64{3, 1, 2}, 2.0},
		{[]float64{4, 1, 3, 2}, 2.5},
		{[]float64{1, inf, 2, inf, 3}, 3.0},
		{[]float64{1, inf, inf}, nil}, // most seeds never solved
	} {
		if got := median(tc.xs); got != tc.want {
			t.Errorf("median(%v) = %v, want %v", tc.xs, got, tc.want)
		}
	}
}
