package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prefer-rlhf/prefer/core/ppo"
)

func TestExperimentFlagErrors(t *testing.T) {
	for _, args := range [][]string{
		{"experiment", "--env", "NoSuchEnv-v0"},
		{"experiment", "--query", "best"},
		{"experiment", "--teacher", "lazy"},
		{"experiment", "--objective", "max"},
		{"experiment", "--prior", "-0.5"},
		{"experiment", "--noise", "1.5"},
		{"experiment", "--labels", "-3"},
		{"experiment", "--rounds", "-1", "--steps", "-1", "--clip-steps", "-2"},
		{"experiment", "--final-fresh", "-2"},
		{"experiment", "--adversarial", "--adversarial-rounds", "0"},
		{"experiment", "--adversarial", "--adversary-budget", "-5"},
		{"experiment", "--adversarial", "--adversary-failures", "-1"},
		{"experiment", "--bogus"},
		{"experiment", "extra"},
	} {
		var stdout, stderr bytes.Buffer
		code := run(args, strings.NewReader(""), &stdout, &stderr)
		msg := strings.TrimRight(stderr.String(), "\n")
		if code != 2 || msg == "" || stdout.Len() != 0 {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and a message", args, code, msg)
		}
		if !strings.Contains(strings.Join(args, " "), "bogus") && strings.Contains(msg, "\n") {
			t.Errorf("%v: message is more than one line: %q", args, msg)
		}
	}
}

// TestExperimentJSON runs a tiny experiment and checks the closing JSON object and the two
// files it writes.
func TestExperimentJSON(t *testing.T) {
	prefix := filepath.Join(t.TempDir(), "exp")
	var stdout, stderr bytes.Buffer
	code := run([]string{"experiment", "--env", "CartPole-v1", "--labels", "12", "--steps", "2048", "--rounds", "2",
		"--seed", "2", "--query", "random", "--noise", "0.1", "--json", "--out", prefix}, strings.NewReader(""), &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	var res map[string]any
	dec := json.NewDecoder(&stdout)
	if err := dec.Decode(&res); err != nil || dec.More() {
		t.Fatalf("stdout is not one JSON object: %v %q", err, stdout.String())
	}
	for _, k := range []string{"labels_used", "env_steps", "eval_return", "reward_model_val_accuracy", "random_return", "wall_seconds"} {
		if _, ok := res[k]; !ok {
			t.Errorf("result has no %q: %v", k, res)
		}
	}
	if res["labels_used"] != 12.0 || res["env_steps"].(float64) < 2048 || res["query"] != "random" || res["noise"] != 0.1 {
		t.Errorf("result %v", res)
	}
	// On CartPole-v1 a fresh policy trains on the final reward model by default, as many env
	// steps as the loop's (loop.DefaultFinalFresh), and both policies' steps count.
	if _, ok := res["final_fresh"]; !ok || res["env_steps"].(float64) < 2*2048 {
		t.Errorf("no fresh policy by default on CartPole-v1: final_fresh %v, env_steps %v", res["final_fresh"], res["env_steps"])
	}
	var rep struct {
		Curve []struct {
			EnvSteps   int     `json:"env_steps"`
			TrueReturn float64 `json:"true_return"`
		} `json:"curve"`
	}
	b, err := os.ReadFile(prefix + ".json")
	if err != nil || json.Unmarshal(b, &rep) != nil || len(rep.Curve) != 2 {
		t.Errorf("report file: %v, %d curve points, want 2", err, len(rep.Curve))
	}
	svg, err := os.ReadFile(prefix + ".svg")
	if err != nil || !bytes.Contains(svg, []byte("<svg")) || !bytes.Contains(svg, []byte("env steps")) {
		t.Errorf("plot file: %v, %d bytes", err, len(svg))
	}
	// The policy and reward model files load as prefer eval and prefer redteam read them.
	if _, err := loadRewardModel(prefix+"-reward.bin", "CartPole-v1"); err != nil {
		t.Errorf("reward model file: %v", err)
	}
	pol, err := os.ReadFile(prefix + "-policy.bin")
	var p ppo.Policy
	if err != nil || p.UnmarshalBinary(pol) != nil || func() error { _, err := p.Fits("CartPole-v1"); return err }() != nil {
		t.Errorf("policy file: %v", err)
	}
}

// TestExperimentAdversarialJSON: --adversarial adds issue 15's keys to the closing JSON.
func TestExperimentAdversarialJSON(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run([]string{"experiment", "--env", "Pendulum-v1", "--labels", "12", "--steps", "2048", "--rounds", "1",
		"--adversarial", "--adversary-random-refs", "--adversary-budget", "5000", "--json", "--out", filepath.Join(t.TempDir(), "exp")},
		strings.NewReader(""), &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	var res map[string]any
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"effort_before", "effort_after", "effort_after_round", "accuracy_before", "accuracy_after", "rounds", "failures_found", "adversary_budget"} {
		if _, ok := res[k]; !ok {
			t.Errorf("result has no %q: %v", k, res)
		}
	}
	f, _ := res["failures_found"].([]any)
	e, _ := res["effort_after_round"].([]any)
	if res["rounds"] != 2.0 || len(f) != 2 || len(e) != 2 || e[1] != res["effort_after"] || res["adversary_budget"] != 5000.0 {
		t.Errorf("result %v", res)
	}
}

// TestTextExperimentFlagErrors: a text env goes to the text experiment, whose bad flags exit 2
// with one line before any corpus or model is loaded.
func TestTextExperimentFlagErrors(t *testing.T) {
	for _, args := range [][]string{
		{"experiment", "--env", "TextPositive-v0", "--method", "reinforce"},
		{"experiment", "--env=TextPositive-v0", "--labels", "1"},
		{"experiment", "--env", "TextPositive-v0", "--n", "0", "--method", "bon"},
		{"experiment", "--env", "TextNoE-v0", "--noise", "2"},
		{"experiment", "--env", "TextPositive-v0", "--kl-target", "-1"},
		{"experiment", "--env", "TextPositive-v0", "--rounds", "0"},
		{"experiment", "--env", "TextPositive-v0", "--final-share", "-1"},
		{"experiment", "--env", "TextPositive-v0", "extra"},
		{"experiment", "--env", "TextPositive-v0", "--eval-per-prompt", "0"},
		{"experiment", "--env", "TextPositive-v0", "--method", "dpo", "--dpo-extrapolate", "-1"},
		{"experiment", "--env", "TextPositive-v0", "--method", "dpo", "--dpo-extrapolate", "3", "--dpo-kl-samples", "0"},
		{"experiment", "--env", "TextPositive-v0", "--method", "dpo", "--dpo-extrapolate", "3", "--dpo-extrapolate-step", "0"},
		{"experiment", "--env", "TextPositive-v0", "--method", "dpo", "--dpo-extrapolate", "3", "--dpo-extrapolate-step", "1.5"},
		{"experiment", "--env", "TextPositive-v0", "--method", "ppo", "--rm-epochs", "-1"},
		{"experiment", "--env", "TextPositive-v0", "--method", "dpo", "--dpo-replicas", "-2"},
		{"experiment", "--env", "TextPositive-v0", "--method", "ppo", "--ent-coef", "-0.01"},
		{"experiment", "--env", "TextPositive-v0", "--method", "ppo", "--ent-target", "1.4"},
		{"experiment", "--env", "TextPositive-v0", "--method", "ppo", "--ent-coef", "0.01", "--ent-target", "1.4", "--ent-rate", "0"},
		{"experiment", "--env", "TextPositive-v0", "--method", "dpo", "--dpo-judge-soft"},
		{"experiment", "--env", "TextPositive-v0", "--val-kl-budget", "-1"},
		{"experiment", "--env", "TextPositive-v0", "--val-kl-budget", "5", "--val-kl-samples", "0"},
		{"experiment", "--env", "TextPositive-v0", "--val-extrapolate"},
		{"experiment", "--env", "TextPositive-v0", "--val-kl-budget", "5", "--method", "bon"},
		{"experiment", "--env", "TextPositive-v0", "--method", "bon", "--policy-out", "p.model"},
		{"experiment", "--env", "TextPositive-v0", "--frontier", "--policy-out", "p.model"},
		{"experiment", "--env", "TextPositive-v0", "--method", "dpo", "--ptx-best-of", "16"},
		{"experiment", "--env", "TextPositive-v0", "--ptx-best-of", "16", "--ptx", "0"},
		{"experiment", "--env", "TextPositive-v0", "--ptx-best-of", "16", "--ptx-draws", "0"},
	} {
		var stdout, stderr bytes.Buffer
		code := run(args, strings.NewReader(""), &stdout, &stderr)
		msg := strings.TrimRight(stderr.String(), "\n")
		if code != 2 || msg == "" || stdout.Len() != 0 || strings.Contains(msg, "\n") {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and a one-line message", args, code, msg)
		}
	}
	if !isTextEnv([]string{"--seed", "2", "--env", "TextNoE-v0"}) || isTextEnv([]string{"--env", "CartPole-v1"}) || isTextEnv(nil) {
		t.Error("isTextEnv routes the wrong envs")
	}
	if envArg([]string{"--seed", "2", "-env=TextNoE-v0"}) != "TextNoE-v0" || envArg([]string{"--env"}) != "" {
		t.Error("envArg reads the wrong value")
	}
}
