package hub

import (
	"math"
	"testing"

	"github.com/prefer-rlhf/prefer/core/env"
	"github.com/prefer-rlhf/prefer/core/redteam"
	"github.com/prefer-rlhf/prefer/core/reward"
	"github.com/prefer-rlhf/prefer/core/wire"
	"github.com/prefer-rlhf/prefer/server/store"
)

// cartPoleModel publishes a fresh reward model of CartPole-v1 as the project's version 2 and
// returns it.
func (e *testEnv) cartPoleModel() *reward.Model {
	e.t.Helper()
	cfg := reward.Defaults()
	cfg.Members, cfg.Hidden, cfg.Seed = 2, []int{8}, 3
	m, err := reward.New(cfg, reward.Shape{ObsDim: 4, ActDim: 1, ActN: 2})
	if err != nil {
		e.t.Fatal(err)
	}
	b, err := m.MarshalJSON()
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.st.PublishRound(bg, &store.Round{ProjectID: e.pid, Model: &store.Model{Version: 2, Weights: b,
		NumParams: len(reward.Params(m))}}); err != nil {
		e.t.Fatal(err)
	}
	return m
}

// pushLeft is a CartPole clip of n steps from rest that always pushes left: the pole falls
// after a few steps.
func pushLeft(n int) wire.RedTeamRequest {
	in := wire.RedTeamRequest{StartState: []float64{0, 0, 0, 0}}
	for range n {
		in.Actions = append(in.Actions, []float64{0})
	}
	return in
}

// TestRedTeamScoresWithTheTrueReward: a submission is scored with the task's true reward
// (counted here from the episode's own termination, not from the fixed-horizon score the hub
// uses), called a failure below core/redteam's threshold, scored by the hub's latest model as
// core/redteam's scorer scores it, and stored so that it survives a restart.
func TestRedTeamScoresWithTheTrueReward(t *testing.T) {
	e := newEnv(t, Config{})
	path := "/api/v1/projects/" + e.pid + "/redteam"

	// Version 1 of the test project is not a real model: no r̂, but a true score.
	var res wire.RedTeamResponse
	in := pushLeft(60)
	e.do("POST", path, e.rater, in, 201, &res)
	if res.RHat != nil || res.ModelVersion != 0 {
		t.Fatalf("r̂ %v from model %d, want none", res.RHat, res.ModelVersion)
	}
	_, _, done, err := env.Replay("CartPole-v1", in.StartState, in.Actions)
	if err != nil {
		t.Fatal(err)
	}
	upright := float64(len(done)) // +1 per step until (and including) the one that terminates
	if res.TrueReturn != upright || res.Checker || res.Steps != 60 || res.Env != "CartPole-v1" {
		t.Fatalf("got %+v, want a true return of %v over 60 steps", res, upright)
	}
	thr, _ := redteam.Threshold("CartPole-v1", 60)
	if res.Threshold != thr || !res.Failure || !(upright < thr) {
		t.Fatalf("threshold %v failure %v, want %v and a failure (upright %v steps)", res.Threshold, res.Failure, thr, upright)
	}

	// With a real model, r̂ is the model's return of the clip.
	m := e.cartPoleModel()
	score, err := redteam.ModelScorer(m, "CartPole-v1")
	if err != nil {
		t.Fatal(err)
	}
	balance := wire.RedTeamRequest{StartState: []float64{0, 0, 0, 0}}
	for i := range 20 {
		balance.Actions = append(balance.Actions, []float64{float64(i % 2)})
	}
	var ok wire.RedTeamResponse
	e.do("POST", path, e.rater, balance, 201, &ok)
	wantR, wantT, err := score(balance.StartState, balance.Actions)
	if err != nil {
		t.Fatal(err)
	}
	if ok.RHat == nil || math.Abs(*ok.RHat-wantR) > 1e-9 || ok.ModelVersion != 2 {
		t.Fatalf("r̂ %v from model %d, want %v from 2", ok.RHat, ok.ModelVersion, wantR)
	}
	if ok.TrueReturn != wantT || ok.TrueReturn != 20 || ok.Failure {
		t.Fatalf("a balanced clip: true %v failure %v, want 20 and no failure", ok.TrueReturn, ok.Failure)
	}

	// Stored, and still there after the store is closed and opened again.
	e.st.Close()
	st, err := store.Open(e.path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	subs, err := st.RedTeamSubmissions(bg, e.pid)
	if err != nil {
		t.Fatal(err)
	}
	if len(subs) != 2 {
		t.Fatalf("%d submissions stored, want 2", len(subs))
	}
	a, b := subs[0], subs[1]
	if a.ID != res.ID || a.RaterID != e.raterID || a.RaterName != "Ada" || a.TrueReturn != upright || !a.Failure ||
		!math.IsNaN(a.RHat) || a.ModelVersion != 0 || a.Threshold != thr {
		t.Fatalf("first stored %+v", a)
	}
	if b.ID != ok.ID || b.Failure || math.Abs(b.RHat-wantR) > 1e-9 || b.ModelVersion != 2 || b.TrueReturn != 20 {
		t.Fatalf("second stored %+v", b)
	}
}

// TestRedTeamChecksTheCaller: raters of the project only; no token, an unknown one, the
// teacher's (no rater to credit) and another project's rater are refused.
func TestRedTeamChecksTheCaller(t *testing.T) {
	e := newEnv(t, Config{})
	path := "/api/v1/projects/" + e.pid + "/redteam"
	in := pushLeft(5)
	e.apiErr("POST", path, "", in, 401, "unauthorized", "Authorization")
	e.apiErr("POST", path, "pr_nope", in, 401, "unauthorized", "Authorization")
	e.apiErr("POST", path, e.teacher, in, 403, "forbidden", "")
	e.apiErr("POST", path, e.otherProjectRater(), in, 403, "forbidden", "")
	subs, err := e.st.RedTeamSubmissions(bg, e.pid)
	if err != nil || len(subs) != 0 {
		t.Fatalf("%d stored (%v) after refused submissions", len(subs), err)
	}
}

// TestRedTeamValidation: bad clips are 400s naming the field at fault, and none is stored.
func TestRedTeamValidation(t *testing.T) {
	e := newEnv(t, Config{})
	path := "/api/v1/projects/" + e.pid + "/redteam"
	long := pushLeft(501) // CartPole-v1's episodes last 500 steps
	for _, c := range []struct {
		name        string
		body        any
		code, field string
	}{
		{"short state", map[string]any{"start_state": []float64{0, 0, 0}, "actions": [][]float64{{0}}}, "invalid", "start_state"},
		{"no state", map[string]any{"actions": [][]float64{{0}}}, "invalid", "start_state"},
		{"no actions", map[string]any{"start_state": []float64{0, 0, 0, 0}}, "invalid", "actions"},
		{"too long", long, "invalid", "actions"},
		{"not an action", map[string]any{"start_state": []float64{0, 0, 0, 0}, "actions": [][]float64{{0}, {2}}}, "invalid", "actions[1]"},
		{"two numbers", map[string]any{"start_state": []float64{0, 0, 0, 0}, "actions": [][]float64{{0, 1}}}, "invalid", "actions[0]"},
		{"a string", `{"start_state": [0, 0, 0, 0], "actions": "left"}`, "bad_json", "actions"},
		{"unknown field", `{"start_state": [0, 0, 0, 0], "actions": [[0]], "env": "Pendulum-v1"}`, "unknown_field", "env"},
	} {
		t.Run(c.name, func(t *testing.T) {
			e.t = t
			e.apiErr("POST", path, e.rater, c.body, 400, c.code, c.field)
		})
	}
	subs, err := e.st.RedTeamSubmissions(bg, e.pid)
	if err != nil || len(subs) != 0 {
		t.Fatalf("%d stored (%v) after bad submissions", len(subs), err)
	}
}
