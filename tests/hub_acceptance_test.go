package tests

import (
	"encoding/json"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestHubLearnsAsTheExperiments is issue 11's acceptance, through the HTTP API only: `prefer
// serve --demo-raters 1 --demo-noise 0` on the default CartPole-v1 project, labels capped at
// 300 per rater, must within 10 minutes publish a policy that `prefer eval` scores at least
// 475 over 100 episodes, with the last three published policies (trained on all 300 labels, or
// the last at 10 minutes) all at 475 or more on the project's history (PPO goes on while the
// labels pause) and the learned returns on one scale (r̂ normalised over the labelled
// clips: a 500-step return of a few hundred, not the tens of thousands of a scale that moves).
// It takes up to 10 minutes of two cores, so it runs only with PREFER_HUB_ACCEPTANCE=1;
// PREFER_HUB_SEED=S passes `--seed S` to the hub's trainer (issue 11 asks for seeds 1-3).
func TestHubLearnsAsTheExperiments(t *testing.T) {
	if os.Getenv("PREFER_HUB_ACCEPTANCE") == "" {
		t.Skip("set PREFER_HUB_ACCEPTANCE=1 to run (up to 10 minutes)")
	}
	const (
		target    = 475.0
		budget    = 10 * time.Minute
		maxScale  = 5000.0 // |learned return| over a 500-step episode, r̂ of unit scale
		maxLabels = 300
	)
	flags := []string{"--demo-raters", "1", "--demo-noise", "0"}
	if s := os.Getenv("PREFER_HUB_SEED"); s != "" {
		flags = append(flags, "--seed", s)
	}
	h := startHub(t, filepath.Join(t.TempDir(), "accept.db"), flags...)
	c := newHubClient()
	var ps struct {
		Projects []struct {
			ID  string `json:"id"`
			Env string `json:"env"`
		} `json:"projects"`
	}
	if err := c.call("GET", h.base+"/api/v1/projects", h.teacher, nil, &ps); err != nil || len(ps.Projects) != 1 || ps.Projects[0].Env != "CartPole-v1" {
		t.Fatalf("projects %+v: %v", ps, err)
	}
	pid := ps.Projects[0].ID
	if err := c.call("PATCH", h.base+"/api/v1/projects/"+pid+"/settings", h.teacher, map[string]any{"max_labels_per_rater": maxLabels}, nil); err != nil {
		t.Fatal(err)
	}
	type point struct {
		Version       int      `json:"version"`
		TrueReturn    *float64 `json:"true_return"`
		LearnedReturn *float64 `json:"learned_return"`
		Labels        int      `json:"labels"`
		EnvSteps      int      `json:"env_steps"`
	}
	start := time.Now()
	var hist []point
	seen := 0
	for time.Since(start) < budget {
		time.Sleep(5 * time.Second)
		var p struct {
			History []point `json:"history"`
		}
		if err := c.call("GET", h.base+"/api/v1/projects/"+pid, h.teacher, nil, &p); err != nil {
			t.Fatal(err)
		}
		hist = p.History
		for _, pt := range hist[min(seen, len(hist)):] {
			t.Logf("%5.0fs: policy %d true %v learned %v labels %d steps %d", time.Since(start).Seconds(), pt.Version,
				deref(pt.TrueReturn), deref(pt.LearnedReturn), pt.Labels, pt.EnvSteps)
		}
		seen = len(hist)
		// Done when three policies in a row, trained on all the labels there will be, reach
		// the goal; otherwise the last three at the end of the budget are judged.
		if n := len(hist); n >= 3 && hist[n-3].Labels >= maxLabels &&
			deref(hist[n-1].TrueReturn) >= target && deref(hist[n-2].TrueReturn) >= target && deref(hist[n-3].TrueReturn) >= target {
			break
		}
	}
	n := len(hist)
	if n < 3 {
		t.Fatalf("%d policies published in %v", n, budget)
	}
	for _, pt := range hist[n-3:] {
		if r := deref(pt.TrueReturn); !(r >= target) {
			t.Fatalf("policy %d: true return %.1f on the history, want the last three >= %.0f", pt.Version, r, target)
		}
	}
	for _, pt := range hist {
		if l := deref(pt.LearnedReturn); math.IsNaN(l) || math.Abs(l) > maxScale {
			t.Errorf("policy %d: learned return %v, off the scale (|.| <= %.0f)", pt.Version, l, maxScale)
		}
	}
	// The published policy, scored by `prefer eval` on 100 fresh episodes.
	req, _ := http.NewRequest("GET", h.base+"/classroom/api/projects/"+pid+"/policy", nil)
	req.Header.Set("Authorization", "Bearer "+h.teacher)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("policy download: %d %v", resp.StatusCode, err)
	}
	file := filepath.Join(t.TempDir(), "policy.bin")
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(hubBinary(t), "eval", "--policy", file, "--env", "CartPole-v1", "--episodes", "100", "--json").Output()
	if err != nil {
		t.Fatalf("prefer eval: %v", err)
	}
	var ev struct {
		EvalReturn float64 `json:"eval_return"`
	}
	if err := json.Unmarshal(out, &ev); err != nil {
		t.Fatalf("prefer eval: %v: %s", err, out)
	}
	t.Logf("published policy: prefer eval %.1f over 100 episodes, after %v; %d PPO updates not kept, %d old policies back", ev.EvalReturn,
		time.Since(start).Round(time.Second), strings.Count(h.stderr.String(), "PPO update not kept"), strings.Count(h.stderr.String(), "an old policy back"))
	if ev.EvalReturn < target {
		t.Fatalf("published policy evaluates %.1f, want >= %.0f", ev.EvalReturn, target)
	}
}

func deref(x *float64) float64 {
	if x == nil {
		return math.NaN()
	}
	return *x
}
