package conformance

import (
	"testing"

	"github.com/prefer-rlhf/prefer/core/env"
	"github.com/prefer-rlhf/prefer/core/redteam"
)

// testRedTeamSubmissions: a rater's red-team clip is scored with the task's true reward and
// called a failure below core/redteam's threshold (no model yet: r̂ is null); a bad action is
// a 400 naming it, a teacher token is refused, and the classroom leaderboard lists the
// submission under the rater's name.
func testRedTeamSubmissions(t *testing.T, a *api) {
	p := a.newProject(t, "CartPole-v1")
	r := a.join(t, p.JoinCode, "Eve")
	start := []float64{0, 0, 0, 0}
	var acts [][]float64
	for range 40 {
		acts = append(acts, []float64{0}) // push left until the pole falls
	}
	path := "/api/v1/projects/" + p.ID + "/redteam"
	var res struct {
		ID         string   `json:"id"`
		Steps      int      `json:"steps"`
		TrueReturn float64  `json:"true_return"`
		Threshold  float64  `json:"threshold"`
		Failure    bool     `json:"failure"`
		RHat       *float64 `json:"rhat"`
	}
	a.req(t, "POST", path, r.Token, map[string]any{"start_state": start, "actions": acts}).ok(t, 201, &res)
	truth, err := env.ScoreClip("CartPole-v1", start, acts)
	if err != nil {
		t.Fatal(err)
	}
	thr, _ := redteam.Threshold("CartPole-v1", 40)
	if res.ID == "" || res.Steps != 40 || res.TrueReturn != truth || res.Threshold != thr || !res.Failure || res.RHat != nil {
		t.Fatalf("verdict %+v, want true return %v below %v and no r̂", res, truth, thr)
	}
	a.req(t, "POST", path, r.Token, map[string]any{"start_state": start, "actions": [][]float64{{0}, {3}}}).isError(t, 400, "invalid", "actions[1]")
	a.req(t, "POST", path, r.Token, map[string]any{"start_state": []float64{0}, "actions": acts}).isError(t, 400, "invalid", "start_state")
	a.req(t, "POST", path, a.s.teacher, map[string]any{"start_state": start, "actions": acts}).isError(t, 403, "forbidden", "")
	a.req(t, "POST", path, "", map[string]any{"start_state": start, "actions": acts}).isError(t, 401, "unauthorized", "Authorization")

	var lb struct {
		Submissions int `json:"submissions"`
		Failures    int `json:"failures"`
		Raters      []struct {
			Rater string `json:"rater"`
			Name  string `json:"name"`
			Best  struct {
				ID         string   `json:"id"`
				TrueReturn float64  `json:"true_return"`
				RHat       *float64 `json:"rhat"`
			} `json:"best"`
		} `json:"raters"`
	}
	lbPath := "/classroom/api/projects/" + p.ID + "/redteam"
	a.req(t, "GET", lbPath, a.s.teacher, nil).ok(t, 200, &lb)
	if lb.Submissions != 1 || lb.Failures != 1 || len(lb.Raters) != 1 || lb.Raters[0].Name != "Eve" || lb.Raters[0].Rater != r.RaterID ||
		lb.Raters[0].Best.ID != res.ID || lb.Raters[0].Best.TrueReturn != truth || lb.Raters[0].Best.RHat != nil {
		t.Fatalf("leaderboard %+v", lb)
	}
	a.req(t, "GET", lbPath, r.Token, nil).isError(t, 401, "unauthorized", "Authorization")
}
