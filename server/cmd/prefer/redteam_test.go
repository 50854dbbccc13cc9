package main

import (
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prefer-rlhf/prefer/core/env"
	"github.com/prefer-rlhf/prefer/core/loop"
	"github.com/prefer-rlhf/prefer/core/oracle"
	"github.com/prefer-rlhf/prefer/core/reward"
)

// fitFlawedCartPoleModel fits a reward model on CartPole clips labelled by a rater who
// prefers the clip with the lower true return: a model that likes what the true reward
// punishes, which the adversary must expose.
func fitFlawedCartPoleModel(t *testing.T, path string) {
	t.Helper()
	rng := rand.New(rand.NewPCG(5, 3))
	e, _ := env.Lookup("CartPole-v1")
	fh, err := env.FixedHorizon(e, 0)
	if err != nil {
		t.Fatal(err)
	}
	clips := loop.Clips(fh, nil, 200, 25, 0, rng)
	d := &reward.Dataset{}
	for i := 1; i < len(clips); i += 2 {
		d.AddChoice(clips[i-1].Seg, clips[i].Seg, oracle.Rater{}.Choose(rng, -clips[i-1].TrueReturn, -clips[i].TrueReturn))
	}
	cfg := loop.Defaults("CartPole-v1").Reward
	cfg.Members, cfg.Hidden, cfg.Seed = 2, []int{32}, 5
	m, err := reward.New(cfg, reward.Shape{ObsDim: 4, ActDim: 1, ActN: 2})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Fit(d); err != nil {
		t.Fatal(err)
	}
	writeJSONFile(t, path, m)
}

// The adversary finds replayable failing clips of a model trained to like falling, the same
// ones for the same seed; bad input exits with code 2.
func TestRedteam(t *testing.T) {
	model := filepath.Join(t.TempDir(), "flawed.json")
	fitFlawedCartPoleModel(t, model)
	args := []string{"redteam", "--env", "CartPole-v1", "--reward-model", model, "--seed", "3", "--budget", "20000", "--json"}
	res := runJSON(t, args...)
	pairs, _ := res["pairs"].([]any)
	if len(pairs) == 0 || res["effort"].(float64) <= 0 {
		t.Fatalf("no failure of a flawed model: %v", res)
	}
	f := pairs[0].(map[string]any)["failing"].(map[string]any)
	clip := f["clip"].(map[string]any)
	var start []float64
	for _, v := range clip["start_state"].([]any) {
		start = append(start, v.(float64))
	}
	var actions [][]float64
	for _, a := range clip["actions"].([]any) {
		actions = append(actions, []float64{a.([]any)[0].(float64)})
	}
	truth, err := env.ScoreClip("CartPole-v1", start, actions)
	if err != nil || truth != f["true"].(float64) || truth >= res["threshold"].(float64) || f["rhat"].(float64) <= res["rhat_bar"].(float64) {
		t.Fatalf("the failing clip replays to true %g (%v); reported %v, threshold %v", truth, err, f, res["threshold"])
	}
	if again := runJSON(t, args...); again["effort"] != res["effort"] {
		t.Errorf("not deterministic: effort %v then %v", res["effort"], again["effort"])
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--reward-model", model}, "--env is required"},
		{[]string{"--env", "CartPole-v1"}, "--reward-model is required"},
		{[]string{"--env", "CartPole-v1", "--reward-model", model, "--budget", "0"}, "must be positive"},
		{[]string{"--env", "Pendulum-v1", "--reward-model", model}, "reads transitions"},
		{[]string{"--env", "Nope-v0", "--reward-model", model}, "no failure threshold"},
	} {
		code, _, stderr := runPrefer("", append([]string{"redteam"}, c.args...)...)
		if code != 2 || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", c.args, code, stderr, c.want)
		}
	}
}
