package conformance

import (
	"math"
	"net/http"
	"os/exec"
	"testing"
)

// testRemoteTrainer is the first end-to-end scenario over the API, with `prefer trainer`
// training the server from outside: the trainer publishes the first pairs, a rater joins and
// labels 20 pairs (re-sending a batch on the way), every label arrives exactly once, and the
// trainer's next round learns from them and publishes a new model, a policy and new pairs.
func testRemoteTrainer(t *testing.T, a *api) {
	var p project
	a.req(t, "POST", "/api/v1/projects", a.s.teacher, map[string]any{"env": "CartPole-v1",
		"ppo_steps_per_round": 4096, "pairs_per_round": 30}).ok(t, http.StatusCreated, &p)
	trainOnce := func() {
		t.Helper()
		cmd := exec.Command(preferBin(t), "trainer", "--hub", a.s.url, "--token", a.s.teacher, "--once", "--round-labels", "10", "--round-interval", "0")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("prefer trainer: %v\n%s", err, out)
		}
		t.Logf("prefer trainer:\n%s", out)
	}
	trainOnce()

	r := a.join(t, p.JoinCode, "Ada")
	res := a.sync(t, r, map[string]any{"want_pairs": 20})
	if len(res.Pairs) != 20 || res.Model == nil || res.Project.ModelVersion != 1 {
		t.Fatalf("after the first round: %d pairs, model %v, status %+v", len(res.Pairs), res.Model != nil, res.Project)
	}
	// A rater who prefers the clip that starts with the pole nearer upright.
	var labels []any
	for _, pr := range res.Pairs {
		l := math.Abs(pr.Left["start_state"].([]any)[2].(float64))
		rr := math.Abs(pr.Right["start_state"].([]any)[2].(float64))
		choice := "left"
		if rr < l {
			choice = "right"
		}
		labels = append(labels, comparison(pr.ID, choice))
	}
	first := a.sync(t, r, map[string]any{"comparisons": labels[:12]})
	again := a.sync(t, r, map[string]any{"comparisons": labels[:12]}) // the answer was lost: re-send
	rest := a.sync(t, r, map[string]any{"comparisons": labels[10:]})  // overlaps the first batch
	if len(first.Accepted) != 12 || len(again.Duplicates) != 12 || len(rest.Accepted) != 8 || len(rest.Duplicates) != 2 {
		t.Fatalf("accepted %d, then %d duplicates, then %d accepted and %d duplicates", len(first.Accepted), len(again.Duplicates), len(rest.Accepted), len(rest.Duplicates))
	}
	if n := exportCount(t, a, p.ID); n != 20 {
		t.Fatalf("the hub holds %d comparisons, want the 20 labels once each", n)
	}

	trainOnce()
	var proj struct {
		ModelVersion  int `json:"model_version"`
		PolicyVersion int `json:"policy_version"`
		Counts        struct {
			ActivePairs int `json:"active_pairs"`
			Pairs       int `json:"pairs"`
		} `json:"counts"`
		History []struct {
			Labels   int `json:"labels"`
			EnvSteps int `json:"env_steps"`
		} `json:"history"`
	}
	a.req(t, "GET", "/api/v1/projects/"+p.ID, a.s.teacher, nil).ok(t, http.StatusOK, &proj)
	if proj.ModelVersion != 2 || proj.PolicyVersion != 1 || len(proj.History) != 1 || proj.History[0].Labels != 20 || proj.History[0].EnvSteps < 4096 {
		t.Fatalf("after the second round: %+v", proj)
	}
	if proj.Counts.Pairs != 60 || proj.Counts.ActivePairs != 30 {
		t.Fatalf("pairs after two rounds: %+v; want 60, of which the newest 30 active", proj.Counts)
	}
	if res := a.sync(t, r, map[string]any{"want_pairs": 5, "have_model_version": 1}); len(res.Pairs) != 5 || res.Model == nil {
		t.Fatalf("after the second round the rater gets %d pairs, model %v", len(res.Pairs), res.Model != nil)
	}
}
