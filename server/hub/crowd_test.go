package hub

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"math"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/prefer-rlhf/prefer/core/prefs"
	"github.com/prefer-rlhf/prefer/core/wire"
	"github.com/prefer-rlhf/prefer/server/store"
)

// replacePairs publishes n fresh pairs (priorities n..1) in place of the env's, as a trainer
// round does, and returns their ids in priority order.
func (e *testEnv) replacePairs(n int) []string {
	e.t.Helper()
	var clips []prefs.Clip
	for i := 0; i <= n; i++ {
		clips = append(clips, prefs.Clip{ID: uuid.NewString(), Env: "CartPole-v1", PolicyVersion: 1,
			StartState: []float64{0, 0, 0.001 * float64(i), 0}, Actions: [][]float64{{0}, {1}}})
	}
	var np []store.NewPair
	var ids []string
	for i := 0; i < n; i++ {
		id := uuid.NewString()
		ids = append(ids, id)
		np = append(np, store.NewPair{ID: id, Left: clips[i].ID, Right: clips[i+1].ID, Priority: float64(n - i)})
	}
	if err := e.st.AddClipsAndPairs(bg, e.pid, clips, np, true); err != nil {
		e.t.Fatal(err)
	}
	e.pairs = ids
	return ids
}

func (e *testEnv) join(name, participant string) wire.JoinResponse {
	e.t.Helper()
	body := map[string]any{"join_code": e.code, "name": name}
	if participant != "" {
		body["participant"] = participant
	}
	var jr wire.JoinResponse
	e.do("POST", "/api/v1/join", "", body, 201, &jr)
	return jr
}

func (e *testEnv) label(token string, pairs ...string) syncResponse {
	e.t.Helper()
	var cs []any
	for _, p := range pairs {
		cs = append(cs, e.comparison(p, prefs.Left))
	}
	return e.sync(token, map[string]any{"comparisons": cs})
}

func pairIDs(ps []wire.Pair) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.ID
	}
	return out
}

func contains(ids []string, id string) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// Issue 10's overlap acceptance: three raters who join at once and each ask for 10 pairs get
// the same 10; once three raters labelled a pair, a fourth is not offered it; pairs others
// have started come before fresh ones; gold pairs go to every rater.
func TestOverlapSharesPairs(t *testing.T) {
	e := newEnv(t, Config{})
	if s := store.DefaultSettings(); s.Overlap != 3 {
		t.Fatalf("default overlap %d, want 3", s.Overlap)
	}
	pairs := e.replacePairs(30)
	tokens := make([]string, 3)
	got := make([][]string, 3)
	var wg sync.WaitGroup
	for i := range tokens {
		wg.Add(1)
		go func() {
			defer wg.Done()
			jr := e.join("rater", "")
			tokens[i] = jr.Token
			got[i] = pairIDs(e.sync(jr.Token, map[string]any{"want_pairs": 10}).Pairs)
		}()
	}
	wg.Wait()
	for i := range got {
		if strings.Join(got[i], ",") != strings.Join(pairs[:10], ",") {
			t.Fatalf("rater %d got %v, want the 10 highest-priority pairs %v", i, got[i], pairs[:10])
		}
	}
	// Rater 0 labels a low-priority pair (the 20th): others now get it before fresh pairs.
	started := pairs[19]
	e.label(tokens[0], started)
	if first := pairIDs(e.sync(tokens[1], map[string]any{"want_pairs": 1}).Pairs); len(first) != 1 || first[0] != started {
		t.Fatalf("a started pair is not served first: %v", first)
	}
	// All three label the top pair; a fourth rater is no longer offered it.
	top := pairs[0]
	for _, tok := range tokens {
		if res := e.label(tok, top); len(res.Accepted) != 1 {
			t.Fatalf("label: %+v", res)
		}
	}
	fourth := e.join("fourth", "")
	offered := pairIDs(e.sync(fourth.Token, map[string]any{"want_pairs": 100}).Pairs)
	if contains(offered, top) {
		t.Fatal("a pair labelled by overlap=3 raters is offered to a fourth")
	}
	if len(offered) != 29 || offered[0] != started {
		t.Fatalf("fourth rater got %d pairs, first %v; want 29, the started one first", len(offered), offered[:1])
	}
	// A gold pair goes to every rater, however many labelled it.
	if err := e.st.SetGold(bg, e.pid, top, prefs.Left); err != nil {
		t.Fatal(err)
	}
	if offered := pairIDs(e.sync(fourth.Token, map[string]any{"want_pairs": 100}).Pairs); !contains(offered, top) {
		t.Fatal("a gold pair is not offered to every rater")
	}
	// overlap 1: a pair one rater labelled leaves the queue.
	e.do("PATCH", "/api/v1/projects/"+e.pid+"/settings", e.teacher, map[string]any{"overlap": 1}, 200, nil)
	if offered := pairIDs(e.sync(fourth.Token, map[string]any{"want_pairs": 100}).Pairs); contains(offered, started) {
		t.Fatal("overlap 1: a labelled pair is still offered")
	}
	var proj struct {
		Settings store.Settings `json:"settings"`
	}
	e.do("GET", "/api/v1/projects/"+e.pid, e.teacher, nil, 200, &proj)
	if proj.Settings.Overlap != 1 {
		t.Fatalf("settings %+v", proj.Settings)
	}
	labelled, full, err := e.st.PairCoverage(bg, e.pid, 3)
	if err != nil || labelled != 2 || full != 1 {
		t.Fatalf("coverage %d %d %v, want 2 labelled, 1 at overlap 3", labelled, full, err)
	}
}

// Issue 10's quota acceptance: with max_labels_per_rater 5, 8 new labels give 5 accepted and
// 3 rejected with field quota; a retry of the 5 is duplicates; a participant re-joining from
// another device is the same rater and its earlier labels count.
func TestQuota(t *testing.T) {
	e := newEnv(t, Config{})
	pairs := e.replacePairs(12)
	e.do("PATCH", "/api/v1/projects/"+e.pid+"/settings", e.teacher, map[string]any{"max_labels_per_rater": 5}, 200, nil)
	var cs []any
	for _, p := range pairs[:8] {
		cs = append(cs, e.comparison(p, prefs.Right))
	}
	res := e.sync(e.rater, map[string]any{"comparisons": cs, "want_pairs": 10})
	if len(res.Accepted) != 5 || len(res.Rejected) != 3 || len(res.Duplicates) != 0 {
		t.Fatalf("8 labels at cap 5: %+v", res)
	}
	for i, id := range res.Accepted {
		if id != cs[i].(map[string]any)["id"] {
			t.Fatalf("accepted %v: not the first five in batch order", res.Accepted)
		}
	}
	for i, r := range res.Rejected {
		if r.Field != wire.QuotaField || r.Index != 5+i || r.ID != cs[5+i].(map[string]any)["id"] || r.Reason == "" {
			t.Fatalf("rejection %d: %+v", i, r)
		}
	}
	if res.Project.Labels != 5 || res.Project.MaxLabelsPerRater != 5 || len(res.Pairs) != 0 {
		t.Fatalf("project %+v, %d pairs at the cap", res.Project, len(res.Pairs))
	}
	if n, _ := e.st.CountComparisons(bg, e.pid); n != 5 {
		t.Fatalf("%d comparisons stored, want 5", n)
	}
	// A retry: the five are duplicates (checked before the cap), the three still over it.
	res = e.sync(e.rater, map[string]any{"comparisons": cs})
	if len(res.Duplicates) != 5 || len(res.Accepted) != 0 || len(res.Rejected) != 3 || res.Rejected[0].Field != "quota" {
		t.Fatalf("retry: %+v", res)
	}

	// A crowd participant: 3 labels on one device, then the same id from another.
	dev1 := e.join("", "PID-abc")
	if dev1.Participant != "PID-abc" {
		t.Fatalf("join %+v", dev1)
	}
	if res := e.label(dev1.Token, pairs[0], pairs[1], pairs[2]); len(res.Accepted) != 3 {
		t.Fatalf("device 1: %+v", res)
	}
	dev2 := e.join("", " PID-abc ")
	if dev2.RaterID != dev1.RaterID || dev2.Token == dev1.Token || dev2.Participant != "PID-abc" {
		t.Fatalf("re-join %+v, first %+v: not the same rater with a new token", dev2, dev1)
	}
	res = e.sync(dev2.Token, map[string]any{"want_pairs": 10})
	if res.Project.Labels != 3 || len(res.Pairs) != 2 {
		t.Fatalf("device 2 sees %d labels and %d pairs, want 3 and 2", res.Project.Labels, len(res.Pairs))
	}
	for _, p := range res.Pairs {
		if p.ID == pairs[0] || p.ID == pairs[1] || p.ID == pairs[2] {
			t.Fatal("device 2 is offered a pair device 1 labelled")
		}
	}
	if res := e.label(dev2.Token, pairs[3], pairs[4], pairs[5]); len(res.Accepted) != 2 || len(res.Rejected) != 1 || res.Project.Labels != 5 {
		t.Fatalf("device 2 past the cap: %+v", res)
	}
	// The first device's token still works and sees the cap.
	if res := e.sync(dev1.Token, map[string]any{"want_pairs": 5}); res.Project.Labels != 5 || len(res.Pairs) != 0 {
		t.Fatalf("device 1 after device 2: %+v", res.Project)
	}
	var rl struct {
		Raters []raterJSON `json:"raters"`
	}
	e.do("GET", "/api/v1/projects/"+e.pid+"/raters", e.teacher, nil, 200, &rl)
	if len(rl.Raters) != 2 || rl.Raters[1].Participant != "PID-abc" || rl.Raters[1].Name != "PID-abc" || rl.Raters[1].Labels != 5 {
		t.Fatalf("raters %+v", rl.Raters)
	}
	// Lifting the cap serves pairs again.
	e.do("PATCH", "/api/v1/projects/"+e.pid+"/settings", e.teacher, map[string]any{"max_labels_per_rater": 0}, 200, nil)
	if res := e.sync(dev1.Token, map[string]any{"want_pairs": 5}); len(res.Pairs) == 0 || res.Project.MaxLabelsPerRater != 0 {
		t.Fatalf("no cap: %+v", res.Project)
	}
}

// Every new setting and the participant id are validated, and a bad value names its field.
func TestCrowdValidation(t *testing.T) {
	e := newEnv(t, Config{})
	bad := []struct {
		field string
		value any
	}{
		{"overlap", 0}, {"overlap", 51}, {"overlap", 1.5}, {"overlap", "3"},
		{"max_labels_per_rater", -1}, {"max_labels_per_rater", 1_000_001},
		{"completion_url", "ftp://x.org/done"}, {"completion_url", "/done"}, {"completion_url", "javascript:alert(1)"},
		{"completion_url", "https://x.org/" + strings.Repeat("a", 2048)}, {"completion_url", 7},
		{"instructions", strings.Repeat("a", 4001)}, {"instructions", "a\x00b"},
	}
	for _, b := range bad {
		code := "invalid"
		if _, isString := b.value.(string); (b.field == "overlap" && b.value != 0 && b.value != 51) || (b.field == "completion_url" && !isString) {
			code = "bad_json"
		}
		e.apiErr("PATCH", "/api/v1/projects/"+e.pid+"/settings", e.teacher, map[string]any{b.field: b.value}, 400, code, b.field)
		e.apiErr("POST", "/api/v1/projects", e.teacher, map[string]any{"env": "CartPole-v1", b.field: b.value}, 400, code, b.field)
	}
	good := map[string]any{"overlap": 50, "max_labels_per_rater": 1_000_000, "completion_url": "https://app.prolific.com/submissions/complete?cc=C1",
		"instructions": strings.Repeat("é", 3990) + "\n\nend\t."}
	var out struct {
		Settings store.Settings `json:"settings"`
	}
	e.do("PATCH", "/api/v1/projects/"+e.pid+"/settings", e.teacher, good, 200, &out)
	if out.Settings.Overlap != 50 || out.Settings.MaxLabelsPerRater != 1_000_000 || out.Settings.CompletionURL != good["completion_url"] || out.Settings.Instructions != good["instructions"] {
		t.Fatalf("settings %+v", out.Settings)
	}
	res := e.sync(e.rater, map[string]any{})
	if res.Project.Overlap != 50 || res.Project.CompletionURL != good["completion_url"] || res.Project.Instructions != good["instructions"] {
		t.Fatalf("sync project %+v", res.Project)
	}
	var cr map[string]string
	e.do("POST", "/api/v1/projects", e.teacher, map[string]any{"env": "CartPole-v1"}, 201, &cr)
	var proj struct {
		Settings store.Settings `json:"settings"`
	}
	e.do("GET", "/api/v1/projects/"+cr["id"], e.teacher, nil, 200, &proj)
	if proj.Settings.Overlap != 3 || proj.Settings.MaxLabelsPerRater != 0 || proj.Settings.CompletionURL != "" || proj.Settings.Instructions != "" {
		t.Fatalf("new project's settings %+v", proj.Settings)
	}

	p := "/api/v1/join"
	for _, part := range []any{"   ", strings.Repeat("x", 129), "a\nb", "a\x7fb", 5} {
		code := "invalid"
		if _, ok := part.(string); !ok {
			code = "bad_json"
		}
		e.apiErr("POST", p, "", map[string]any{"join_code": e.code, "participant": part}, 400, code, "participant")
	}
	jr := e.join("", strings.Repeat("é", 128))
	if jr.Participant != strings.Repeat("é", 128) {
		t.Fatalf("128-character participant: %+v", jr)
	}
	r, err := e.st.RaterByTokenHash(bg, HashToken(jr.Token))
	if err != nil || r.Name != strings.Repeat("é", MaxNameLen) {
		t.Fatalf("name defaults to the participant id, cut to 64: %+v %v", r, err)
	}
	// Without a participant, name is still required; a plain join answers participant "".
	e.apiErr("POST", p, "", map[string]any{"join_code": e.code, "name": " "}, 400, "invalid", "name")
	if jr := e.join("Plain", ""); jr.Participant != "" {
		t.Fatalf("plain join %+v", jr)
	}
}

// The teacher's per-rater time figures, the raters CSV and the exports' participant column.
func TestRaterTimesAndExports(t *testing.T) {
	e := newEnv(t, Config{})
	jr := e.join("Crowd", "abc")
	var cs []any
	for i, ms := range []int{1000, 3000, 600_000} { // the third is an idle tab: capped at 5 min
		c := e.comparison(e.pairs[i], prefs.Left)
		c["response_ms"] = ms
		cs = append(cs, c)
	}
	if res := e.sync(jr.Token, map[string]any{"comparisons": cs}); len(res.Accepted) != 3 {
		t.Fatalf("sync %+v", res)
	}
	var rl struct {
		Raters []raterJSON `json:"raters"`
	}
	e.do("GET", "/api/v1/projects/"+e.pid+"/raters", e.teacher, nil, 200, &rl)
	if len(rl.Raters) != 2 {
		t.Fatalf("raters %+v", rl.Raters)
	}
	ada, crowd := rl.Raters[0], rl.Raters[1]
	if ada.Labels != 0 || ada.ActiveMinutes != 0 || ada.MedianSecondsPerLabel != nil || ada.Participant != "" {
		t.Fatalf("a rater without labels: %+v", ada)
	}
	wantActive := float64(1000+3000+300_000) / 60000
	if crowd.Participant != "abc" || crowd.Labels != 3 || math.Abs(crowd.ActiveMinutes-wantActive) > 1e-9 ||
		crowd.MedianSecondsPerLabel == nil || *crowd.MedianSecondsPerLabel != 3 {
		t.Fatalf("crowd rater %+v", crowd)
	}
	// An even count takes the mean of the middle two.
	if res := e.label(jr.Token, e.pairs[0]); len(res.Accepted) != 1 { // 1500 ms
		t.Fatalf("sync %+v", res)
	}
	e.do("GET", "/api/v1/projects/"+e.pid+"/raters", e.teacher, nil, 200, &rl)
	if m := rl.Raters[1].MedianSecondsPerLabel; m == nil || *m != 2.25 {
		t.Fatalf("median of 1, 1.5, 3, 600 s: %v", m)
	}

	resp, b := e.raw("GET", "/api/v1/projects/"+e.pid+"/raters?format=csv", e.teacher, nil, nil)
	recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if resp.StatusCode != 200 || err != nil || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") || len(recs) != 3 {
		t.Fatalf("raters csv %d %v %q", resp.StatusCode, err, recs)
	}
	if strings.Join(recs[0], ",") != strings.Join(RaterTimeColumns, ",") {
		t.Fatalf("header %v", recs[0])
	}
	row := map[string]string{}
	for i, c := range recs[0] {
		row[c] = recs[2][i]
	}
	if row["participant"] != "abc" || row["labels"] != "4" || row["active_minutes"] != "5.092" || row["median_seconds_per_label"] != "2.250" || row["name"] != "Crowd" {
		t.Fatalf("csv row %v", row)
	}
	if recs[1][6] != "" { // Ada: no labels, no median
		t.Fatalf("empty median %q", recs[1][6])
	}
	e.apiErr("GET", "/api/v1/projects/"+e.pid+"/raters?format=xml", e.teacher, nil, 400, "invalid", "format")
	e.apiErr("GET", "/api/v1/projects/"+e.pid+"/raters?format=csv", e.rater, nil, 403, "forbidden", "")

	_, b = e.raw("GET", "/api/v1/projects/"+e.pid+"/export?format=jsonl", e.teacher, nil, nil)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 4 {
		t.Fatalf("jsonl %s", b)
	}
	for _, l := range lines {
		var rec ExportRecord
		if err := json.Unmarshal([]byte(l), &rec); err != nil || rec.Participant != "abc" {
			t.Fatalf("jsonl row %s %v", l, err)
		}
	}
	_, b = e.raw("GET", "/api/v1/projects/"+e.pid+"/export?format=csv", e.teacher, nil, nil)
	recs, _ = csv.NewReader(bytes.NewReader(b)).ReadAll()
	if len(recs) != 5 || recs[0][4] != "participant" || recs[1][4] != "abc" {
		t.Fatalf("csv export %q", recs)
	}
}
