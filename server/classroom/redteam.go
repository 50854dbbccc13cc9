package classroom

import (
	"cmp"
	"math"
	"net/http"
	"slices"
	"time"

	"github.com/prefer-rlhf/prefer/core/jsonnum"
	"github.com/prefer-rlhf/prefer/server/hub"
	"github.com/prefer-rlhf/prefer/server/store"
)

// Leaderboard is the teacher's view of red-teaming by hand (issue 15): what the class found
// with the app's red-team mode, per rater, best hunter first.
type Leaderboard struct {
	Submissions int `json:"submissions"`
	Failures    int `json:"failures"` // submissions whose true return is below the task's threshold
	// Raters are the raters who submitted, ranked by failures found, then by their best
	// submission's r̂ (a failure the model rates higher is the better find), then by count.
	Raters []HunterRow `json:"raters"`
}

// HunterRow is one rater's line on the leaderboard.
type HunterRow struct {
	Rater       string     `json:"rater"`
	Name        string     `json:"name"`
	Submissions int        `json:"submissions"`
	Failures    int        `json:"failures"`
	Best        HunterBest `json:"best"`
	Last        time.Time  `json:"last_at"`
	best        store.RedTeamSubmission
}

// HunterBest is a rater's best submission: a failure before any non-failure, then the highest
// r̂ (the model's worst overrating), then the lowest true return.
type HunterBest struct {
	ID           string      `json:"id"`
	RHat         jsonnum.Num `json:"rhat"` // null: no model when it was submitted
	TrueReturn   float64     `json:"true_return"`
	Threshold    float64     `json:"threshold"`
	Failure      bool        `json:"failure"`
	ModelVersion int         `json:"model_version"`
}

// better reports whether submission a beats b as a rater's best.
func better(a, b *store.RedTeamSubmission) bool {
	if a.Failure != b.Failure {
		return a.Failure
	}
	ra, rb := rhatKey(a.RHat), rhatKey(b.RHat)
	if ra != rb {
		return ra > rb
	}
	return a.TrueReturn < b.TrueReturn
}

// rhatKey orders r̂ with "no model" (NaN) lowest.
func rhatKey(v float64) float64 {
	if math.IsNaN(v) {
		return math.Inf(-1)
	}
	return v
}

// BuildLeaderboard ranks a project's red-team submissions (store.RedTeamSubmissions) by rater.
func BuildLeaderboard(subs []store.RedTeamSubmission) Leaderboard {
	lb := Leaderboard{Submissions: len(subs), Raters: []HunterRow{}}
	at := map[string]int{} // rater -> index in lb.Raters
	for i := range subs {
		s := &subs[i]
		j, ok := at[s.RaterID]
		if !ok {
			j = len(lb.Raters)
			at[s.RaterID] = j
			lb.Raters = append(lb.Raters, HunterRow{Rater: s.RaterID, Name: s.RaterName, best: *s})
		}
		row := &lb.Raters[j]
		row.Submissions++
		if s.Failure {
			row.Failures++
			lb.Failures++
		}
		if better(s, &row.best) {
			row.best = *s
		}
		if s.CreatedAt.After(row.Last) {
			row.Last = s.CreatedAt
		}
	}
	for i := range lb.Raters {
		b := &lb.Raters[i].best
		lb.Raters[i].Best = HunterBest{ID: b.ID, RHat: jsonnum.Num(b.RHat), TrueReturn: b.TrueReturn, Threshold: b.Threshold,
			Failure: b.Failure, ModelVersion: b.ModelVersion}
	}
	slices.SortStableFunc(lb.Raters, func(a, b HunterRow) int {
		if c := cmp.Compare(b.Failures, a.Failures); c != 0 {
			return c
		}
		if better(&a.best, &b.best) {
			return -1
		}
		if better(&b.best, &a.best) {
			return 1
		}
		return cmp.Or(cmp.Compare(b.Submissions, a.Submissions), cmp.Compare(a.Name, b.Name))
	})
	return lb
}

// leaderboard: GET /classroom/api/projects/{pid}/redteam -> Leaderboard (teacher token). The
// dashboard polls it beside the dashboard data.
func (h *Handler) leaderboard(w http.ResponseWriter, r *http.Request) error {
	pid := r.PathValue("pid")
	if err := h.authorize(r, pid); err != nil {
		return err
	}
	ctx := r.Context()
	if _, err := h.store.Project(ctx, pid); err != nil {
		return notFound(err, "pid", "no project "+pid)
	}
	subs, err := h.store.RedTeamSubmissions(ctx, pid)
	if err != nil {
		return err
	}
	hub.WriteJSON(w, http.StatusOK, BuildLeaderboard(subs))
	return nil
}
