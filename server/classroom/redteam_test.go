package classroom

import (
	"context"
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/prefer-rlhf/prefer/server/store"
)

// The leaderboard ranks raters by failures found, then by their best find's r̂; a rater's best
// is a failure before anything else, then the highest r̂, then the lowest true return.
func TestBuildLeaderboard(t *testing.T) {
	at := time.Unix(1e9, 0)
	sub := func(id, rater string, truth, rhat float64) store.RedTeamSubmission {
		at = at.Add(time.Second)
		return store.RedTeamSubmission{ID: id, RaterID: rater, RaterName: "n-" + rater, TrueReturn: truth, Threshold: 10,
			Failure: truth < 10, RHat: rhat, CreatedAt: at}
	}
	lb := BuildLeaderboard([]store.RedTeamSubmission{
		sub("a1", "a", 20, 90), // no failure, however high r̂
		sub("a2", "a", 5, 3),
		sub("b1", "b", 4, math.NaN()), // no model then
		sub("b2", "b", 9, 7),
		sub("b3", "b", 2, 7), // ties b2's r̂ with a lower true return
		sub("c1", "c", 30, 50),
		sub("d1", "d", 1, 2),
	})
	if lb.Submissions != 7 || lb.Failures != 5 {
		t.Fatalf("totals %d submissions %d failures", lb.Submissions, lb.Failures)
	}
	var got []string
	for _, r := range lb.Raters {
		got = append(got, r.Rater+":"+r.Best.ID)
	}
	want := []string{"b:b3", "a:a2", "d:d1", "c:c1"}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
	b := lb.Raters[0]
	if b.Submissions != 3 || b.Failures != 3 || b.Name != "n-b" || b.Best.TrueReturn != 2 || float64(b.Best.RHat) != 7 || !b.Best.Failure {
		t.Fatalf("b's row %+v", b)
	}
	if c := lb.Raters[3]; c.Failures != 0 || c.Best.Failure || c.Best.TrueReturn != 30 {
		t.Fatalf("c's row %+v", c)
	}
	if e := BuildLeaderboard(nil); e.Raters == nil || len(e.Raters) != 0 {
		t.Fatalf("empty leaderboard %+v: raters must be [] in JSON", e)
	}
}

// The leaderboard endpoint reads the store's submissions, needs the teacher token, and names
// an unknown project.
func TestLeaderboardEndpoint(t *testing.T) {
	c := newCrowdClass(t)
	ctx := context.Background()
	for i, truth := range []float64{3, 60} {
		if err := c.st.AddRedTeam(ctx, &store.RedTeamSubmission{ID: uuid.NewString(), ProjectID: c.pid, RaterID: c.raters[i],
			StartState: []float64{0, 0, 0, 0}, Actions: [][]float64{{0}}, TrueReturn: truth, Threshold: 37.5,
			Failure: truth < 37.5, RHat: float64(10 * i), ModelVersion: 2, CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	api := "/classroom/api/projects/" + c.pid + "/redteam"
	st, b := c.do(t, "GET", api, nil)
	if st != 200 {
		t.Fatalf("%d %s", st, b)
	}
	var lb Leaderboard
	if err := json.Unmarshal(b, &lb); err != nil {
		t.Fatal(err)
	}
	if lb.Submissions != 2 || lb.Failures != 1 || len(lb.Raters) != 2 || lb.Raters[0].Rater != c.raters[0] ||
		lb.Raters[0].Best.TrueReturn != 3 || !lb.Raters[0].Best.Failure || lb.Raters[1].Best.TrueReturn != 60 {
		t.Fatalf("leaderboard %s", b)
	}
	st, b = c.do(t, "GET", "/classroom/api/projects/"+uuid.NewString()+"/redteam", nil)
	isError(t, st, b, 404, "not_found", "pid")
	c.st.fail["RedTeamSubmissions"] = true
	st, b = c.do(t, "GET", api, nil)
	isError(t, st, b, 500, "internal", "")
}

func (f *faultyStore) RedTeamSubmissions(ctx context.Context, pid string) ([]store.RedTeamSubmission, error) {
	if f.fail["RedTeamSubmissions"] {
		return nil, errDisk
	}
	return f.Store.RedTeamSubmissions(ctx, pid)
}
