package main

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prefer-rlhf/prefer/core/env"
	"github.com/prefer-rlhf/prefer/core/loop"
	"github.com/prefer-rlhf/prefer/core/oracle"
	"github.com/prefer-rlhf/prefer/core/ppo"
	"github.com/prefer-rlhf/prefer/core/reward"
)

// fitCartPoleModel fits a small reward model as core/loop's first round does (noiseless labels
// from the fixed-horizon true return of pairs of random-policy clips from a reset, then
// normalised on those clips) and writes it in its JSON stored form, as the classroom dashboard
// downloads it. It checks that the fit learned something.
func fitCartPoleModel(t *testing.T, path string, seed uint64) *reward.Model {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 3))
	e, err := env.Lookup("CartPole-v1")
	if err != nil {
		t.Fatal(err)
	}
	fh, err := env.FixedHorizon(e, 0)
	if err != nil {
		t.Fatal(err)
	}
	clips := loop.Clips(fh, nil, 200, 25, 0, rng)
	d := &reward.Dataset{}
	var obs, act, next []float64
	n := 0
	for i, c := range clips {
		if i%2 == 1 {
			d.AddChoice(clips[i-1].Seg, c.Seg, oracle.Rater{}.Choose(rng, clips[i-1].TrueReturn, c.TrueReturn))
		}
		obs, act, next, n = append(obs, c.Seg.Obs...), append(act, c.Seg.Act...), append(next, c.Seg.Next...), n+c.Seg.Len
	}
	cfg := loop.Defaults("CartPole-v1").Reward
	cfg.Members, cfg.Hidden, cfg.Seed = 2, []int{32}, seed
	m, err := reward.New(cfg, reward.Shape{ObsDim: 4, ActDim: 1, ActN: 2})
	if err != nil {
		t.Fatal(err)
	}
	st, err := m.Fit(d)
	if err != nil {
		t.Fatal(err)
	}
	if st.ValAccuracy < 0.8 {
		t.Fatalf("the test's reward model did not learn: validation accuracy %.2f", st.ValAccuracy)
	}
	if err := m.Normalize(obs, act, next, n); err != nil {
		t.Fatal(err)
	}
	writeJSONFile(t, path, m)
	return m
}

func writeJSONFile(t *testing.T, path string, v any) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// runJSON runs prefer with args and decodes its one JSON object.
func runJSON(t *testing.T, args ...string) map[string]any {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if code := run(args, strings.NewReader(""), &stdout, &stderr); code != 0 {
		t.Fatalf("%v: exit %d: %s", args, code, stderr.String())
	}
	var res map[string]any
	dec := json.NewDecoder(&stdout)
	if err := dec.Decode(&res); err != nil || dec.More() {
		t.Fatalf("%v: stdout is not one JSON object: %v %q", args, err, stdout.String())
	}
	return res
}

func isFinite(v any) bool {
	f, ok := v.(float64)
	return ok && !math.IsNaN(f) && !math.IsInf(f, 0)
}

// A reward model fitted here is written as a file, PPO trains on it with prefer train, and
// prefer eval scores the policy under it: both report the same learned_return and eval_return
// for the same episodes, and the learned return is the model's own sum over those episodes.
// Training on the file learns: after 32k steps both returns are well above those of the
// policy after one update (seed 2: eval 43.4 -> 105.9, learned -777 -> -636 when written).
func TestTrainAndEvalOnRewardModel(t *testing.T) {
	dir := t.TempDir()
	modelPath, polPath := filepath.Join(dir, "reward-model-p1-v3.json"), filepath.Join(dir, "p.bin")
	model := fitCartPoleModel(t, modelPath, 2)

	early := runJSON(t, "train", "--env", "CartPole-v1", "--reward-model", modelPath, "--steps", "256", "--seed", "2",
		"--eval-episodes", "10", "--json", "--out", filepath.Join(dir, "early.bin"))
	res := runJSON(t, "train", "--env", "CartPole-v1", "--reward-model", modelPath, "--steps", "32768", "--seed", "2",
		"--eval-episodes", "10", "--json", "--out", polPath)
	if !isFinite(early["eval_return"]) || !isFinite(early["learned_return"]) || !isFinite(res["eval_return"]) || !isFinite(res["learned_return"]) {
		t.Fatalf("returns not finite: %v, %v", early, res)
	}
	t.Logf("eval_return %v -> %v, learned_return %v -> %v", early["eval_return"], res["eval_return"], early["learned_return"], res["learned_return"])
	if e, l := res["eval_return"].(float64)-early["eval_return"].(float64), res["learned_return"].(float64)-early["learned_return"].(float64); e < 50 || l < 100 {
		t.Errorf("PPO on the loaded reward did not learn: eval_return %v -> %v, learned_return %v -> %v",
			early["eval_return"], res["eval_return"], early["learned_return"], res["learned_return"])
	}
	for _, k := range []string{"env", "seed", "env_steps", "eval_return", "eval_episodes", "policy", "reward_model", "eval_env", "learned_return"} {
		if _, ok := res[k]; !ok {
			t.Errorf("train result has no %q: %v", k, res)
		}
	}
	if res["reward_model"] != modelPath || res["eval_env"] != "CartPole-v1" || !isFinite(res["learned_return"]) ||
		res["solved_at_steps"] != nil || res["env_steps"].(float64) < 16384 {
		t.Errorf("train result %v", res)
	}

	ev := runJSON(t, "eval", "--policy", polPath, "--env", "CartPole-v1", "--reward-model", modelPath,
		"--episodes", "10", "--seed", "2", "--json")
	if ev["learned_return"] != res["learned_return"] || ev["eval_return"] != res["eval_return"] || ev["reward_model"] != modelPath {
		t.Errorf("eval of the trained policy %v; train reported %v", ev, res)
	}

	// learned_return is the model's return of the policy's fixed-horizon episodes: recompute
	// one episode by hand with the in-memory model.
	data, err := os.ReadFile(polPath)
	if err != nil {
		t.Fatal(err)
	}
	var pol ppo.Policy
	if err := pol.UnmarshalBinary(data); err != nil {
		t.Fatal(err)
	}
	rets, err := ppo.LearnedReturns(&pol, model, "CartPole-v1", 10, 2)
	if err != nil {
		t.Fatal(err)
	}
	if got := mean(rets); math.Abs(got-ev["learned_return"].(float64)) > 1e-9 {
		t.Errorf("learned_return %v, the model's returns average %v", ev["learned_return"], got)
	}
	if rets[0] == rets[1] && rets[1] == rets[2] {
		t.Errorf("episodes from different starts have the same learned return %v", rets[0])
	}

	// Without --reward-model, eval's JSON has no learned_return.
	if ev := runJSON(t, "eval", "--policy", polPath, "--env", "CartPole-v1", "--episodes", "2", "--json"); ev["learned_return"] != nil {
		t.Errorf("eval without a reward model reports learned_return: %v", ev)
	}
}

// On a behaviour, prefer train uses the learned reward and scores the policy with the
// behaviour's scripted checker.
func TestTrainBehaviourOnRewardModel(t *testing.T) {
	dir := t.TempDir()
	modelPath := filepath.Join(dir, "m.json")
	cfg := reward.Defaults()
	cfg.Members, cfg.Hidden = 1, []int{8}
	m, err := reward.New(cfg, reward.Shape{ObsDim: 3, ActDim: 1}) // Pendulum's transitions
	if err != nil {
		t.Fatal(err)
	}
	writeJSONFile(t, modelPath, m)
	res := runJSON(t, "train", "--env", "PendulumSpin-v0", "--reward-model", modelPath, "--steps", "512", "--seed", "1",
		"--eval-episodes", "2", "--json", "--out", filepath.Join(dir, "p.bin"))
	if res["eval_env"] != "checker/PendulumSpin-v0" || !isFinite(res["eval_return"]) || !isFinite(res["learned_return"]) {
		t.Errorf("train result %v", res)
	}
}

// learnedReturns with the true Pendulum reward as the "learned" one reproduces ppo.Evaluate's
// returns episode by episode: the same starts, the same deterministic actions, each reward on
// the right transition, and Pendulum's 200-step horizon (it never terminates, so the
// fixed-horizon episode is the standard one).
func TestLearnedReturnsMatchEvaluate(t *testing.T) {
	tr, err := ppo.New(ppo.DefaultConfig("Pendulum-v1"), 5)
	if err != nil {
		t.Fatal(err)
	}
	pol := tr.Policy()
	// Gymnasium's Pendulum cost, from the observation before the step and the clipped torque.
	trueReward := ppo.RewardFunc(func(obs, act, _ []float64, n int, out []float64) {
		for i := 0; i < n; i++ {
			th, thdot := math.Atan2(obs[3*i+1], obs[3*i]), obs[3*i+2]
			u := max(-2, min(2, act[i]))
			out[i] = -(th*th + 0.1*thdot*thdot + 0.001*u*u)
		}
	})
	got, err := ppo.LearnedReturns(pol, trueReward, "Pendulum-v1", 5, 11)
	if err != nil {
		t.Fatal(err)
	}
	want, err := ppo.EvaluateReturns(pol, "Pendulum-v1", 5, 11)
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-6*math.Abs(want[i]) {
			t.Errorf("episode %d: learned return %v, ppo.Evaluate's %v", i, got[i], want[i])
		}
	}
	if want[0] == want[1] {
		t.Errorf("episodes 0 and 1 have the same return %v: not different starts", want[0])
	}
}

// Bad input to --reward-model (and a behaviour without one) is one line on stderr and exit 2.
func TestRewardModelBadInput(t *testing.T) {
	dir := t.TempDir()
	cartModel := filepath.Join(dir, "cart.json")
	cfg := reward.Defaults()
	cfg.Members, cfg.Hidden = 1, []int{4}
	m, err := reward.New(cfg, reward.Shape{ObsDim: 4, ActDim: 1, ActN: 2})
	if err != nil {
		t.Fatal(err)
	}
	writeJSONFile(t, cartModel, m)
	notModel := filepath.Join(dir, "labels.json")
	os.WriteFile(notModel, []byte(`{"format":"prefer-labels","version":1}`), 0o644)
	garbage := filepath.Join(dir, "garbage.json")
	os.WriteFile(garbage, []byte("PMLP\x01 not json"), 0o644)
	tr, err := ppo.New(ppo.DefaultConfig("Pendulum-v1"), 1)
	if err != nil {
		t.Fatal(err)
	}
	pendPolicy := filepath.Join(dir, "pend.bin")
	b, _ := tr.Policy().MarshalBinary()
	os.WriteFile(pendPolicy, b, 0o644)
	missing := filepath.Join(dir, "nope.json")

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"train", "--env", "CartPole-v1", "--reward-model", missing}, "no such file"},
		{[]string{"train", "--env", "CartPole-v1", "--reward-model", notModel}, "not a prefer-reward model file"},
		{[]string{"train", "--env", "CartPole-v1", "--reward-model", garbage}, "not a prefer-reward model file"},
		{[]string{"train", "--env", "CartPole-v1", "--reward-model", pendPolicy}, "not a prefer-reward model file"},
		{[]string{"train", "--env", "Pendulum-v1", "--reward-model", cartModel}, "obs 4"},
		{[]string{"train", "--env", "PendulumSpin-v0"}, "has no reward"},
		{[]string{"eval", "--policy", pendPolicy, "--env", "Pendulum-v1", "--reward-model", missing}, "no such file"},
		{[]string{"eval", "--policy", pendPolicy, "--env", "Pendulum-v1", "--reward-model", notModel}, "not a prefer-reward model file"},
		{[]string{"eval", "--policy", pendPolicy, "--env", "Pendulum-v1", "--reward-model", cartModel}, "obs 4"},
		{[]string{"eval", "--policy", pendPolicy, "--env", "PendulumSpin-v0"}, "checker/PendulumSpin-v0"},
	} {
		var stdout, stderr bytes.Buffer
		code := run(tc.args, strings.NewReader(""), &stdout, &stderr)
		msg := strings.TrimRight(stderr.String(), "\n")
		if code != 2 || strings.Contains(msg, "\n") || !strings.Contains(msg, tc.want) || stdout.Len() != 0 {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and one line with %q", tc.args, code, msg, tc.want)
		}
	}
}
