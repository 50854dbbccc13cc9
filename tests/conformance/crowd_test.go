package conformance

import (
	"bytes"
	"encoding/csv"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/prefer-rlhf/prefer/core/wire"
)

// The crowd features of issue 10 (overlap, quotas, participant ids, the raters' time table),
// on both servers.

type crowdSync = wire.SyncResponse[wire.Pair]

func (a *api) joinAs(t testing.TB, code, name, participant string) wire.JoinResponse {
	t.Helper()
	var jr wire.JoinResponse
	a.req(t, "POST", "/api/v1/join", "", wire.JoinRequest{JoinCode: code, Name: name, Participant: participant}).ok(t, http.StatusCreated, &jr)
	return jr
}

func (a *api) crowdSync(t testing.TB, pid, token string, body any) crowdSync {
	t.Helper()
	var out crowdSync
	a.req(t, "POST", "/api/v1/projects/"+pid+"/sync", token, body).ok(t, http.StatusOK, &out)
	return out
}

func wirePairIDs(ps []wire.Pair) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.ID
	}
	return out
}

// testOverlap: raters who join at once get the same pairs; a pair leaves the queue at the
// overlap; started pairs come first.
func testOverlap(t *testing.T, a *api) {
	p := a.newProject(t, "CartPole-v1")
	pairs := a.publishPairs(t, p.ID, 20)
	raters := make([]wire.JoinResponse, 3)
	got := make([][]string, 3)
	var wg sync.WaitGroup
	for i := range raters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			raters[i] = a.joinAs(t, p.JoinCode, "r", "")
			got[i] = wirePairIDs(a.crowdSync(t, p.ID, raters[i].Token, map[string]any{"want_pairs": 10}).Pairs)
		}()
	}
	wg.Wait()
	for i := range got {
		if !slices.Equal(got[i], pairs[:10]) {
			t.Fatalf("rater %d got %v; want the same 10 pairs as the others, %v", i, got[i], pairs[:10])
		}
	}
	res := a.crowdSync(t, p.ID, raters[0].Token, map[string]any{"comparisons": []any{comparison(pairs[15], "left")}})
	if res.Project.Overlap != 3 || res.Project.Labels != 1 || res.Project.MaxLabelsPerRater != 0 {
		t.Fatalf("project %+v", res.Project)
	}
	if first := wirePairIDs(a.crowdSync(t, p.ID, raters[1].Token, map[string]any{"want_pairs": 1}).Pairs); !slices.Equal(first, []string{pairs[15]}) {
		t.Fatalf("a started pair is not served first: %v", first)
	}
	for _, r := range raters {
		if res := a.crowdSync(t, p.ID, r.Token, map[string]any{"comparisons": []any{comparison(pairs[0], "right")}}); len(res.Accepted) != 1 {
			t.Fatalf("label: %+v", res)
		}
	}
	fourth := a.joinAs(t, p.JoinCode, "fourth", "")
	offered := wirePairIDs(a.crowdSync(t, p.ID, fourth.Token, map[string]any{"want_pairs": 100}).Pairs)
	if slices.Contains(offered, pairs[0]) || len(offered) != 19 || offered[0] != pairs[15] {
		t.Fatalf("fourth rater: %d pairs, first %v; want 19 without the pair three raters labelled, the started one first", len(offered), offered[:1])
	}
}

// testQuota: the cap, retries as duplicates, and a participant's second device.
func testQuota(t *testing.T, a *api) {
	p := a.newProject(t, "CartPole-v1")
	a.req(t, "PATCH", "/api/v1/projects/"+p.ID+"/settings", a.s.teacher, map[string]any{"max_labels_per_rater": 5}).ok(t, 200, nil)
	pairs := a.publishPairs(t, p.ID, 10)
	dev1 := a.joinAs(t, p.JoinCode, "", "PID-abc")
	if dev1.Participant != "PID-abc" {
		t.Fatalf("join %+v", dev1)
	}
	var cs []map[string]any
	for _, pr := range pairs[:8] {
		cs = append(cs, comparison(pr, "left"))
	}
	res := a.crowdSync(t, p.ID, dev1.Token, map[string]any{"comparisons": cs[:3]})
	if len(res.Accepted) != 3 || res.Project.Labels != 3 {
		t.Fatalf("3 labels: %+v", res)
	}
	dev2 := a.joinAs(t, p.JoinCode, "", "PID-abc")
	if dev2.RaterID != dev1.RaterID || dev2.Token == dev1.Token {
		t.Fatalf("second device %+v, first %+v", dev2, dev1)
	}
	res = a.crowdSync(t, p.ID, dev2.Token, map[string]any{"comparisons": cs, "want_pairs": 10})
	if !slices.Equal(sorted(res.Accepted), ids(cs[3:5])) || len(res.Duplicates) != 3 || len(res.Rejected) != 3 || len(res.Pairs) != 0 || res.Project.Labels != 5 {
		t.Fatalf("8 labels, 3 of them stored, at cap 5: %+v", res)
	}
	for i, r := range res.Rejected {
		if r.Field != wire.QuotaField || r.Index != 5+i || r.ID != cs[5+i]["id"] {
			t.Fatalf("rejection %+v", r)
		}
	}
	res = a.crowdSync(t, p.ID, dev1.Token, map[string]any{"comparisons": cs[:5]})
	if len(res.Duplicates) != 5 || len(res.Accepted) != 0 || len(res.Rejected) != 0 {
		t.Fatalf("retry of the 5: %+v", res)
	}
	if n := exportCount(t, a, p.ID); n != 5 {
		t.Fatalf("%d labels exported, want 5", n)
	}
	// Another rater of the project has a cap of its own.
	other := a.joinAs(t, p.JoinCode, "Bob", "")
	if res := a.crowdSync(t, p.ID, other.Token, map[string]any{"comparisons": cs[5:6]}); len(res.Accepted) != 1 {
		t.Fatalf("bob: %+v", res)
	}
}

// testCrowdSettings: the new settings' ranges and the participant id's, each naming its field.
func testCrowdSettings(t *testing.T, a *api) {
	p := a.newProject(t, "CartPole-v1")
	for _, b := range []struct {
		field string
		value any
	}{
		{"overlap", 0}, {"overlap", 51}, {"max_labels_per_rater", -1}, {"max_labels_per_rater", 1_000_001},
		{"completion_url", "ftp://x.org"}, {"completion_url", "/done"}, {"instructions", strings.Repeat("a", 4001)},
	} {
		a.req(t, "PATCH", "/api/v1/projects/"+p.ID+"/settings", a.s.teacher, map[string]any{b.field: b.value}).isError(t, 400, "invalid", b.field)
		a.req(t, "POST", "/api/v1/projects", a.s.teacher, map[string]any{"env": "CartPole-v1", b.field: b.value}).isError(t, 400, "invalid", b.field)
	}
	set := map[string]any{"overlap": 2, "max_labels_per_rater": 40, "completion_url": "https://app.prolific.com/submissions/complete?cc=X",
		"instructions": "Pick the clip where the pole stays up.\n\nPress 1 or 2."}
	a.req(t, "PATCH", "/api/v1/projects/"+p.ID+"/settings", a.s.teacher, set).ok(t, 200, nil)
	r := a.joinAs(t, p.JoinCode, "Ada", "")
	if r.Participant != "" {
		t.Fatalf("join without participant: %+v", r)
	}
	got := a.crowdSync(t, p.ID, r.Token, map[string]any{}).Project
	if got.Overlap != 2 || got.MaxLabelsPerRater != 40 || got.CompletionURL != set["completion_url"] || got.Instructions != set["instructions"] || got.Labels != 0 {
		t.Fatalf("sync project %+v", got)
	}
	for _, part := range []string{"  ", strings.Repeat("x", 129), "a\tb"} {
		a.req(t, "POST", "/api/v1/join", "", map[string]any{"join_code": p.JoinCode, "participant": part}).isError(t, 400, "invalid", "participant")
	}
	a.req(t, "POST", "/api/v1/join", "", map[string]any{"join_code": p.JoinCode}).isError(t, 400, "invalid", "name")
}

// testRaterTimes: participant on the raters list and in both exports; the time table as CSV.
func testRaterTimes(t *testing.T, a *api) {
	p := a.newProject(t, "CartPole-v1")
	pairs := a.publishPairs(t, p.ID, 3)
	r := a.joinAs(t, p.JoinCode, "", "abc")
	var cs []any
	for i, ms := range []int{2000, 4000, 900_000} {
		c := comparison(pairs[i], "left")
		c["response_ms"] = ms
		cs = append(cs, c)
	}
	if res := a.crowdSync(t, p.ID, r.Token, map[string]any{"comparisons": cs}); len(res.Accepted) != 3 {
		t.Fatalf("sync %+v", res)
	}
	var rl struct {
		Raters []struct {
			Participant   string   `json:"participant"`
			Labels        int      `json:"labels"`
			ActiveMinutes float64  `json:"active_minutes"`
			Median        *float64 `json:"median_seconds_per_label"`
		} `json:"raters"`
	}
	a.req(t, "GET", "/api/v1/projects/"+p.ID+"/raters", a.s.teacher, nil).ok(t, 200, &rl)
	if len(rl.Raters) != 1 || rl.Raters[0].Participant != "abc" || rl.Raters[0].Labels != 3 ||
		rl.Raters[0].ActiveMinutes != 5.1 || rl.Raters[0].Median == nil || *rl.Raters[0].Median != 4 {
		t.Fatalf("raters %+v", rl.Raters)
	}
	res := a.req(t, "GET", "/api/v1/projects/"+p.ID+"/raters?format=csv", a.s.teacher, nil)
	recs, err := csv.NewReader(bytes.NewReader(res.body)).ReadAll()
	if res.status != 200 || err != nil || len(recs) != 2 || recs[0][2] != "participant" || recs[1][2] != "abc" || recs[1][5] != "5.100" || recs[1][6] != "4.000" {
		t.Fatalf("raters csv %d %q %v", res.status, recs, err)
	}
	res = a.req(t, "GET", "/api/v1/projects/"+p.ID+"/export?format=jsonl", a.s.teacher, nil)
	if n := strings.Count(string(res.body), `"participant":"abc"`); n != 3 {
		t.Fatalf("jsonl export carries participant on %d of 3 rows: %s", n, res.body)
	}
	res = a.req(t, "GET", "/api/v1/projects/"+p.ID+"/export?format=csv", a.s.teacher, nil)
	recs, err = csv.NewReader(bytes.NewReader(res.body)).ReadAll()
	if err != nil || len(recs) != 4 || recs[0][4] != "participant" || recs[1][4] != "abc" || recs[3][4] != "abc" {
		t.Fatalf("csv export %q %v", recs, err)
	}
}

// testClassroom: the teacher dashboard is served by both servers, with the crowd figures, and
// its gold pairs reach every rater past the overlap.
func testClassroom(t *testing.T, a *api) {
	p := a.newProject(t, "CartPole-v1")
	a.req(t, "PATCH", "/api/v1/projects/"+p.ID+"/settings", a.s.teacher, map[string]any{"overlap": 1}).ok(t, 200, nil)
	pairs := a.publishPairs(t, p.ID, 2)
	crowd := a.joinAs(t, p.JoinCode, "", "PID-9")
	c := comparison(pairs[0], "left")
	c["response_ms"] = 3000
	if res := a.crowdSync(t, p.ID, crowd.Token, map[string]any{"comparisons": []any{c}}); len(res.Accepted) != 1 {
		t.Fatalf("sync %+v", res)
	}
	other := a.joinAs(t, p.JoinCode, "Bob", "")
	if got := wirePairIDs(a.crowdSync(t, p.ID, other.Token, map[string]any{"want_pairs": 5}).Pairs); !slices.Equal(got, pairs[1:]) {
		t.Fatalf("overlap 1: bob gets %v, want only the unlabelled pair", got)
	}
	base := "/classroom/api/projects/" + p.ID
	a.req(t, "POST", base+"/gold", a.s.teacher, map[string]any{"pair": pairs[0], "choice": "left"}).ok(t, 200, nil)
	if got := wirePairIDs(a.crowdSync(t, p.ID, other.Token, map[string]any{"want_pairs": 5}).Pairs); !slices.Contains(got, pairs[0]) {
		t.Fatalf("a gold pair does not reach every rater: %v", got)
	}
	var d struct {
		Summary struct {
			PerRater []struct {
				Participant   string   `json:"participant"`
				ActiveMinutes float64  `json:"active_minutes"`
				Median        *float64 `json:"median_seconds_per_label"`
			} `json:"per_rater"`
			GoldPairs      int      `json:"gold_pairs"`
			PairsAtOverlap int      `json:"pairs_at_overlap"`
			OverlapShare   *float64 `json:"overlap_share"`
		} `json:"summary"`
	}
	a.req(t, "GET", base+"/dashboard", a.s.teacher, nil).ok(t, 200, &d)
	s := d.Summary
	if len(s.PerRater) != 1 || s.PerRater[0].Participant != "PID-9" || s.PerRater[0].ActiveMinutes != 0.05 || s.PerRater[0].Median == nil ||
		*s.PerRater[0].Median != 3 || s.GoldPairs != 1 || s.PairsAtOverlap != 1 || s.OverlapShare == nil || *s.OverlapShare != 1 {
		t.Fatalf("dashboard %+v", s)
	}
	a.req(t, "GET", base+"/dashboard", crowd.Token, nil).isError(t, 401, "unauthorized", "Authorization")
	a.req(t, "POST", base+"/weight", a.s.teacher, map[string]any{"rater": crowd.RaterID, "weight": 7}).isError(t, 400, "invalid", "weight")
	res := a.req(t, "GET", "/classroom/?token="+a.s.teacher, "", nil)
	if res.status != 200 || !strings.HasPrefix(res.header.Get("Content-Type"), "text/html") || !bytes.Contains(res.body, []byte("rater_rows")) {
		t.Fatalf("dashboard page: %d %s", res.status, res.header.Get("Content-Type"))
	}
	res = a.req(t, "GET", "/classroom/report?project="+p.ID+"&token="+a.s.teacher, "", nil)
	if res.status != 200 || !bytes.Contains(res.body, []byte("PID-9")) {
		t.Fatalf("report: %d", res.status)
	}
}
