package conformance

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/csv"
	"encoding/json"
	"math"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/prefer-rlhf/prefer/server/store"
)

// runSuite runs every conformance test against s. The tests share the server but each makes
// its own projects and raters, so they are independent.
func runSuite(t *testing.T, s *server) {
	a := newAPI(s)
	tests := []struct {
		name string
		run  func(*testing.T, *api)
	}{
		// First: `prefer trainer` trains every project of the server, so it runs before the
		// other tests have made projects of their own.
		{"RemoteTrainer", testRemoteTrainer},
		{"RemoteTextTrainer", testRemoteTextTrainer}, // pauses the projects before it
		{"Health", testHealth},
		{"OpenAPI", testOpenAPI},
		{"Routes", testRoutes},
		{"CreateProject", testCreateProject},
		{"Join", testJoin},
		{"ProjectAccess", testProjectAccess},
		{"SyncStoresOnceAndRejectsAlone", testSyncItems},
		{"SyncRequestErrors", testSyncRequestErrors},
		{"SyncPairs", testSyncPairs},
		{"ConcurrentRetriesStoreOnce", testConcurrentRetries},
		{"ClipsAndModels", testClipsAndModels},
		{"ModelUpdates", testModelUpdates},
		{"Export", testExport},
		{"TextProjects", testTextProjects},
		{"TeacherControls", testTeacherControls},
		{"TrainerAPI", testTrainerAPI},
		{"Overlap", testOverlap},
		{"Quota", testQuota},
		{"CrowdSettings", testCrowdSettings},
		{"RobustnessSettings", testRobustnessSettings},
		{"RedTeamPairs", testRedTeamPairs},
		{"RedTeamSubmissions", testRedTeamSubmissions},
		{"RaterTimes", testRaterTimes},
		{"Classroom", testClassroom},
		{"RateLimit", testRateLimit},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, a) })
	}
}

func testHealth(t *testing.T, a *api) {
	var h struct {
		Status        string `json:"status"`
		SchemaVersion int    `json:"schema_version"`
		Time          string `json:"time"`
	}
	a.req(t, "GET", "/api/v1/health", "", nil).ok(t, http.StatusOK, &h)
	if h.Status != "ok" || h.SchemaVersion != store.LatestVersion() || h.Time == "" {
		t.Fatalf("health %+v; want ok at schema version %d", h, store.LatestVersion())
	}
}

func testOpenAPI(t *testing.T, a *api) {
	var doc map[string]any
	a.req(t, "GET", "/api/v1/openapi.json", "", nil).ok(t, http.StatusOK, &doc)
	if v, _ := doc["openapi"].(string); !strings.HasPrefix(v, "3.") {
		t.Fatalf("openapi is %v", doc["openapi"])
	}
	paths, _ := doc["paths"].(map[string]any)
	for _, p := range []string{"/join", "/projects/{pid}/sync"} {
		if paths[p] == nil {
			t.Errorf("openapi.json has no path %s", p)
		}
	}
}

func testRoutes(t *testing.T, a *api) {
	a.req(t, "GET", "/api/v1/nothing-here", "", nil).isError(t, http.StatusNotFound, "not_found", "")
	r := a.req(t, "DELETE", "/api/v1/join", "", nil)
	r.isError(t, http.StatusMethodNotAllowed, "method_not_allowed", "")
	if !strings.Contains(r.header.Get("Allow"), "POST") {
		t.Errorf("405 Allow header %q", r.header.Get("Allow"))
	}
}

func testCreateProject(t *testing.T, a *api) {
	p := a.newProject(t, "Pendulum-v1")
	if !validUUID(p.ID) || len(p.JoinCode) < 4 {
		t.Fatalf("created %+v", p)
	}
	var got struct {
		Env      string         `json:"env"`
		JoinCode string         `json:"join_code"`
		Settings store.Settings `json:"settings"`
	}
	a.req(t, "GET", "/api/v1/projects/"+p.ID, a.s.teacher, nil).ok(t, http.StatusOK, &got)
	if got.Env != "Pendulum-v1" || got.JoinCode != p.JoinCode || got.Settings != store.DefaultSettings() {
		t.Fatalf("project %+v", got)
	}
	var withSet project
	a.req(t, "POST", "/api/v1/projects", a.s.teacher, map[string]any{"env": "CartPole-v1", "clip_seconds": 2.5, "query": "random"}).ok(t, http.StatusCreated, &withSet)
	a.req(t, "GET", "/api/v1/projects/"+withSet.ID, a.s.teacher, nil).ok(t, http.StatusOK, &got)
	if got.Settings.ClipSeconds != 2.5 || got.Settings.Query != "random" || got.Settings.PairsPerRound != store.DefaultSettings().PairsPerRound {
		t.Fatalf("settings %+v", got.Settings)
	}

	create := func(body any) resp { return a.req(t, "POST", "/api/v1/projects", a.s.teacher, body) }
	create(map[string]any{}).isError(t, 400, "invalid", "env")
	create(map[string]any{"env": "Doom-v0"}).isError(t, 400, "invalid", "env")
	create(map[string]any{"env": "CartPole-v1", "colour": "red"}).isError(t, 400, "unknown_field", "colour")
	create(map[string]any{"env": "CartPole-v1", "clip_seconds": 100}).isError(t, 400, "invalid", "clip_seconds")
	create(map[string]any{"env": "CartPole-v1", "merge_trim": 0.5}).isError(t, 400, "invalid", "merge_trim")
	create(map[string]any{"env": "CartPole-v1", "pairs_per_round": "many"}).isError(t, 400, "bad_json", "pairs_per_round")
	create(raw(`{"env": "CartPole-v1"`)).isError(t, 400, "bad_json", "")
	create(raw(`[1, 2]`)).isError(t, 400, "bad_json", "")
	a.send(t, "POST", "/api/v1/projects", a.s.teacher, "text/plain", raw(`{"env":"CartPole-v1"}`)).isError(t, 415, "unsupported_media_type", "Content-Type")
	big := raw(`{"env": "CartPole-v1", "query": "` + strings.Repeat("x", 1<<20) + `"}`)
	create(big).isError(t, 413, "too_large", "")

	r := a.req(t, "POST", "/api/v1/projects", "", map[string]any{"env": "CartPole-v1"})
	r.isError(t, 401, "unauthorized", "Authorization")
	if !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
		t.Errorf("401 without WWW-Authenticate: %q", r.header.Get("WWW-Authenticate"))
	}
	a.req(t, "POST", "/api/v1/projects", "pt_not-a-token", map[string]any{"env": "CartPole-v1"}).isError(t, 401, "unauthorized", "Authorization")
	rt := a.join(t, p.JoinCode, "Ada")
	a.req(t, "POST", "/api/v1/projects", rt.Token, map[string]any{"env": "CartPole-v1"}).isError(t, 403, "forbidden", "")

	var list struct {
		Projects []project `json:"projects"`
	}
	a.req(t, "GET", "/api/v1/projects", a.s.teacher, nil).ok(t, http.StatusOK, &list)
	if !slices.ContainsFunc(list.Projects, func(x project) bool { return x.ID == p.ID && x.JoinCode == p.JoinCode }) {
		t.Fatalf("project list %+v lacks %s", list.Projects, p.ID)
	}
	a.req(t, "GET", "/api/v1/projects", rt.Token, nil).isError(t, 403, "forbidden", "")
}

func testJoin(t *testing.T, a *api) {
	p := a.newProject(t, "CartPole-v1")
	r := a.join(t, "  "+strings.ToLower(p.JoinCode)+" ", "Ada Lovelace")
	if !validUUID(r.RaterID) || !strings.HasPrefix(r.Token, "pr_") || r.ProjectID != p.ID {
		t.Fatalf("joined %+v", r)
	}
	r2 := a.join(t, p.JoinCode, "Ada Lovelace")
	if r2.RaterID == r.RaterID || r2.Token == r.Token {
		t.Fatal("two joins gave the same rater")
	}
	join := func(body any) resp { return a.req(t, "POST", "/api/v1/join", "", body) }
	join(map[string]string{"join_code": "NOPE99", "name": "Ada"}).isError(t, 404, "not_found", "join_code")
	join(map[string]string{"join_code": "", "name": "Ada"}).isError(t, 400, "invalid", "join_code")
	join(map[string]string{"join_code": p.JoinCode, "name": "  "}).isError(t, 400, "invalid", "name")
	join(map[string]string{"join_code": p.JoinCode, "name": strings.Repeat("n", 65)}).isError(t, 400, "invalid", "name")
	join(map[string]string{"join_code": p.JoinCode, "name": "a\x07b"}).isError(t, 400, "invalid", "name")
	join(map[string]any{"join_code": p.JoinCode, "name": "Ada", "admin": true}).isError(t, 400, "unknown_field", "admin")
	join(map[string]any{"join_code": 12, "name": "Ada"}).isError(t, 400, "bad_json", "join_code")
}

func testProjectAccess(t *testing.T, a *api) {
	p1, p2 := a.newProject(t, "CartPole-v1"), a.newProject(t, "CartPole-v1")
	r1 := a.join(t, p1.JoinCode, "One")
	var got map[string]any
	a.req(t, "GET", "/api/v1/projects/"+p1.ID, r1.Token, nil).ok(t, http.StatusOK, &got)
	if got["id"] != p1.ID || got["join_code"] != nil {
		t.Fatalf("a rater sees %v (the join code is for the teacher only)", got)
	}
	for _, k := range []string{"settings", "counts", "model_version", "policy_version", "metrics", "history"} {
		if _, ok := got[k]; !ok {
			t.Errorf("project has no %q", k)
		}
	}
	// Another project, existing or not, is forbidden to a rater; every project route.
	pid2, missing := p2.ID, uuid.NewString()
	for _, pid := range []string{pid2, missing} {
		for _, rt := range []struct{ method, path string }{
			{"GET", "/api/v1/projects/" + pid},
			{"POST", "/api/v1/projects/" + pid + "/sync"},
			{"GET", "/api/v1/projects/" + pid + "/clips/" + uuid.NewString()},
			{"GET", "/api/v1/projects/" + pid + "/models/latest"},
			{"GET", "/api/v1/projects/" + pid + "/export"},
			{"GET", "/api/v1/projects/" + pid + "/trainer/labels"},
		} {
			var body any
			if rt.method == "POST" {
				body = map[string]any{}
			}
			a.req(t, rt.method, rt.path, r1.Token, body).isError(t, 403, "forbidden", "")
		}
	}
	a.req(t, "GET", "/api/v1/projects/"+missing, a.s.teacher, nil).isError(t, 404, "not_found", "pid")
	a.req(t, "GET", "/api/v1/projects/"+p1.ID, "", nil).isError(t, 401, "unauthorized", "Authorization")
	a.req(t, "GET", "/api/v1/projects/"+p1.ID, "pr_unknown", nil).isError(t, 401, "unauthorized", "Authorization")
	r := a.send(t, "GET", "/api/v1/projects/"+p1.ID, "", "", nil)
	r.isError(t, 401, "unauthorized", "Authorization")
	// Teacher-only endpoints refuse a rater of the project itself.
	for _, rt := range []struct{ method, path string }{
		{"GET", "/api/v1/projects/" + p1.ID + "/export"},
		{"POST", "/api/v1/projects/" + p1.ID + "/pause"},
		{"PATCH", "/api/v1/projects/" + p1.ID + "/settings"},
		{"GET", "/api/v1/projects/" + p1.ID + "/raters"},
		{"POST", "/api/v1/projects/" + p1.ID + "/raters/" + r1.RaterID + "/exclude"},
		{"GET", "/api/v1/projects/" + p1.ID + "/trainer/checkpoint"},
		{"POST", "/api/v1/projects/" + p1.ID + "/trainer/rounds"},
	} {
		a.req(t, rt.method, rt.path, r1.Token, map[string]any{}).isError(t, 403, "forbidden", "")
	}
}

func testSyncItems(t *testing.T, a *api) {
	p, other := a.newProject(t, "CartPole-v1"), a.newProject(t, "CartPole-v1")
	pairs := a.publishPairs(t, p.ID, 3)
	foreignPair := a.publishPairs(t, other.ID, 1)[0]
	ada, bob := a.join(t, p.JoinCode, "Ada"), a.join(t, p.JoinCode, "Bob")

	good := []map[string]any{comparison(pairs[0], "left"), comparison(pairs[1], "right"), comparison(pairs[2], "equal"), comparison(pairs[0], "cant_tell")}
	bad := map[int]struct {
		item  map[string]any
		field string
	}{}
	add := func(field string, edit func(c map[string]any)) {
		c := comparison(pairs[0], "left")
		edit(c)
		bad[len(good)+len(bad)] = struct {
			item  map[string]any
			field string
		}{c, field}
	}
	add("id", func(c map[string]any) { c["id"] = "not-a-uuid" })
	add("pair_id", func(c map[string]any) { c["pair_id"] = uuid.NewString() })
	add("pair_id", func(c map[string]any) { c["pair_id"] = foreignPair })
	add("pair_id", func(c map[string]any) { c["pair_id"] = "x" })
	add("choice", func(c map[string]any) { c["choice"] = "both" })
	add("created_at", func(c map[string]any) { c["created_at"] = "yesterday" })
	add("created_at", func(c map[string]any) { c["created_at"] = "2099-01-01T00:00:00Z" })
	add("created_at", func(c map[string]any) { delete(c, "created_at") })
	add("response_ms", func(c map[string]any) { c["response_ms"] = -5 })
	add("response_ms", func(c map[string]any) { c["response_ms"] = 1.5 })
	add("response_ms", func(c map[string]any) { delete(c, "response_ms") })
	add("colour", func(c map[string]any) { c["colour"] = "red" })
	items := make([]any, len(good)+len(bad))
	for i, c := range good {
		items[i] = c
	}
	for i, b := range bad {
		items[i] = b.item
	}
	repeat := good[1] // an id repeated within the batch: the first is kept
	items = append(items, repeat)

	res := a.sync(t, ada, map[string]any{"comparisons": items})
	if got, want := sorted(res.Accepted), ids(good); !slices.Equal(got, want) {
		t.Fatalf("accepted %v, want %v", got, want)
	}
	if !slices.Equal(res.Duplicates, []string{repeat["id"].(string)}) {
		t.Fatalf("duplicates %v, want the repeated id", res.Duplicates)
	}
	if len(res.Rejected) != len(bad) {
		t.Fatalf("rejected %d items, want %d: %+v", len(res.Rejected), len(bad), res.Rejected)
	}
	for _, rj := range res.Rejected {
		b, ok := bad[rj.Index]
		if !ok || rj.Field != b.field || rj.Reason == "" {
			t.Errorf("rejection %+v; want field %q at index %d", rj, b.field, rj.Index)
		}
		if id, _ := b.item["id"].(string); rj.ID != id {
			t.Errorf("rejection %+v names id %q, want %q", rj, rj.ID, id)
		}
	}

	// A re-send is safe: every stored item comes back as a duplicate, nothing is stored twice.
	res = a.sync(t, ada, map[string]any{"comparisons": good})
	if len(res.Accepted) != 0 || !slices.Equal(sorted(res.Duplicates), ids(good)) || len(res.Rejected) != 0 {
		t.Fatalf("re-send: %+v", res)
	}
	// Another rater cannot claim an id: rejected with field id, while their new item is stored.
	mine := comparison(pairs[1], "left")
	res = a.sync(t, bob, map[string]any{"comparisons": []any{good[0], mine}})
	if !slices.Equal(res.Accepted, []string{mine["id"].(string)}) || len(res.Rejected) != 1 || res.Rejected[0].Field != "id" || res.Rejected[0].Index != 0 {
		t.Fatalf("bob's sync: %+v", res)
	}
	var proj struct {
		Counts store.Counts `json:"counts"`
	}
	a.req(t, "GET", "/api/v1/projects/"+p.ID, a.s.teacher, nil).ok(t, http.StatusOK, &proj)
	if proj.Counts.Comparisons != len(good)+1 || proj.Counts.Raters != 2 {
		t.Fatalf("counts %+v; want %d comparisons of 2 raters", proj.Counts, len(good)+1)
	}
}

func testSyncRequestErrors(t *testing.T, a *api) {
	p := a.newProject(t, "CartPole-v1")
	pair := a.publishPairs(t, p.ID, 1)[0]
	r := a.join(t, p.JoinCode, "Ada")
	sync := func(body any) resp { return a.req(t, "POST", "/api/v1/projects/"+p.ID+"/sync", r.Token, body) }
	sync(map[string]any{"comparisons": []any{}, "verbose": true}).isError(t, 400, "unknown_field", "verbose")
	sync(map[string]any{"want_pairs": 101}).isError(t, 400, "invalid", "want_pairs")
	sync(map[string]any{"want_pairs": -1}).isError(t, 400, "invalid", "want_pairs")
	sync(map[string]any{"want_pairs": "3"}).isError(t, 400, "bad_json", "want_pairs")
	sync(map[string]any{"have_model_version": -1}).isError(t, 400, "invalid", "have_model_version")
	skip := make([]string, 501)
	for i := range skip {
		skip[i] = uuid.NewString()
	}
	sync(map[string]any{"skip_pairs": skip}).isError(t, 400, "invalid", "skip_pairs")
	sync(map[string]any{"comparisons": "all"}).isError(t, 400, "bad_json", "comparisons")
	sync(map[string]any{"model_update": map[string]any{"id": "x"}}).isError(t, 400, "invalid", "model_update.id")
	sync(map[string]any{"model_update": map[string]any{"id": uuid.NewString(), "weights": 1}}).isError(t, 400, "unknown_field", "model_update.weights")
	sync(raw(`{"comparisons": [`)).isError(t, 400, "bad_json", "")
	sync(raw(`{} {}`)).isError(t, 400, "bad_json", "")
	a.send(t, "POST", "/api/v1/projects/"+p.ID+"/sync", r.Token, "application/x-www-form-urlencoded", raw("a=b")).isError(t, 415, "unsupported_media_type", "Content-Type")

	// The batch limit: 500 comparisons pass, 501 are refused whole.
	batch := make([]any, 501)
	for i := range batch {
		batch[i] = comparison(pair, "left")
	}
	sync(map[string]any{"comparisons": batch}).isError(t, 413, "batch_too_large", "comparisons")
	res := a.sync(t, r, map[string]any{"comparisons": batch[:500]})
	if len(res.Accepted) != 500 {
		t.Fatalf("a batch of 500: %d accepted, %d rejected", len(res.Accepted), len(res.Rejected))
	}
	// An empty body and {} just poll.
	a.sync(t, r, raw(""))
	a.sync(t, r, map[string]any{})
	// The teacher is not a rater.
	a.req(t, "POST", "/api/v1/projects/"+p.ID+"/sync", a.s.teacher, map[string]any{}).isError(t, 403, "forbidden", "")
}

func testSyncPairs(t *testing.T, a *api) {
	p := a.newProject(t, "CartPole-v1")
	r := a.join(t, p.JoinCode, "Ada")
	if res := a.sync(t, r, map[string]any{"want_pairs": 5}); len(res.Pairs) != 0 || res.Model != nil || res.Project.ModelVersion != 0 {
		t.Fatalf("before any round: %+v", res)
	}
	pairs := a.publishPairs(t, p.ID, 4) // priorities 4, 3, 2, 1
	res := a.sync(t, r, map[string]any{"want_pairs": 2})
	if len(res.Pairs) != 2 || res.Pairs[0].ID != pairs[0] || res.Pairs[1].ID != pairs[1] {
		t.Fatalf("want the two highest-priority pairs %v, got %+v", pairs[:2], res.Pairs)
	}
	if res.Pairs[0].Left["env"] != "CartPole-v1" || res.Pairs[0].Left["start_state"] == nil || res.Pairs[0].Right["actions"] == nil {
		t.Fatalf("pair clips are not inline: %+v", res.Pairs[0])
	}
	// Skipped pairs and labelled pairs are not served again.
	res = a.sync(t, r, map[string]any{"want_pairs": 10, "skip_pairs": []string{pairs[1]},
		"comparisons": []any{comparison(pairs[0], "left")}})
	if got := pairIDs(res); !slices.Equal(got, []string{pairs[2], pairs[3]}) {
		t.Fatalf("after labelling %s and skipping %s: pairs %v", pairs[0], pairs[1], got)
	}
	// Another rater still gets every pair.
	r2 := a.join(t, p.JoinCode, "Bob")
	if got := pairIDs(a.sync(t, r2, map[string]any{"want_pairs": 10})); len(got) != 4 {
		t.Fatalf("bob gets %v", got)
	}
}

func testConcurrentRetries(t *testing.T, a *api) {
	p := a.newProject(t, "CartPole-v1")
	pairs := a.publishPairs(t, p.ID, 2)
	r := a.join(t, p.JoinCode, "Ada")
	batch := make([]any, 50)
	for i := range batch {
		batch[i] = comparison(pairs[i%2], []string{"left", "right", "equal", "cant_tell"}[i%4])
	}
	// The same batch sent 6 times at once, as a client retrying over a flaky network does:
	// every id is accepted exactly once over all the answers.
	const senders = 6
	results := make([]syncResult, senders)
	var wg sync.WaitGroup
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = a.sync(t, r, map[string]any{"comparisons": batch})
		}()
	}
	wg.Wait()
	accepted := map[string]int{}
	for _, res := range results {
		if len(res.Accepted)+len(res.Duplicates) != len(batch) || len(res.Rejected) != 0 {
			t.Fatalf("an answer does not account for every item: %d accepted, %d duplicates, %+v rejected", len(res.Accepted), len(res.Duplicates), res.Rejected)
		}
		for _, id := range res.Accepted {
			accepted[id]++
		}
	}
	if len(accepted) != len(batch) {
		t.Fatalf("%d ids accepted, want %d", len(accepted), len(batch))
	}
	for id, n := range accepted {
		if n != 1 {
			t.Fatalf("id %s accepted %d times", id, n)
		}
	}
	if n := exportCount(t, a, p.ID); n != len(batch) {
		t.Fatalf("export holds %d comparisons, want %d", n, len(batch))
	}
}

func testClipsAndModels(t *testing.T, a *api) {
	p, other := a.newProject(t, "CartPole-v1"), a.newProject(t, "CartPole-v1")
	r := a.join(t, p.JoinCode, "Ada")
	c := clip()
	a.req(t, "POST", "/api/v1/projects/"+p.ID+"/trainer/rounds", a.s.teacher, map[string]any{"round": 1, "clips": []any{c}}).ok(t, 201, nil)
	var got map[string]any
	a.req(t, "GET", "/api/v1/projects/"+p.ID+"/clips/"+c["id"].(string), r.Token, nil).ok(t, 200, &got)
	if got["id"] != c["id"] || got["env"] != "CartPole-v1" || len(got["actions"].([]any)) != 3 {
		t.Fatalf("clip %v", got)
	}
	a.req(t, "GET", "/api/v1/projects/"+other.ID+"/clips/"+c["id"].(string), a.s.teacher, nil).isError(t, 404, "not_found", "cid")
	a.req(t, "GET", "/api/v1/projects/"+p.ID+"/clips/"+uuid.NewString(), r.Token, nil).isError(t, 404, "not_found", "cid")

	a.req(t, "GET", "/api/v1/projects/"+p.ID+"/models/latest", r.Token, nil).isError(t, 404, "not_found", "version")
	for _, v := range []string{"0", "-1", "x", "1.5"} {
		a.req(t, "GET", "/api/v1/projects/"+p.ID+"/models/"+v, r.Token, nil).isError(t, 400, "invalid", "version")
	}
	weights := json.RawMessage(`{"format":"prefer-reward","members":[]}`)
	a.req(t, "POST", "/api/v1/projects/"+p.ID+"/trainer/rounds", a.s.teacher, map[string]any{"round": 1,
		"model": map[string]any{"version": 1, "weights": weights, "num_params": 3, "metrics": map[string]float64{"reward/val_accuracy": 0.7}}}).ok(t, 201, nil)
	var m struct {
		Version   int                `json:"version"`
		NumParams int                `json:"num_params"`
		Metrics   map[string]float64 `json:"metrics"`
		Weights   json.RawMessage    `json:"weights"`
		CreatedAt string             `json:"created_at"`
	}
	for _, v := range []string{"latest", "1"} {
		a.req(t, "GET", "/api/v1/projects/"+p.ID+"/models/"+v, r.Token, nil).ok(t, 200, &m)
		if m.Version != 1 || m.NumParams != 3 || m.Metrics["reward/val_accuracy"] != 0.7 || !jsonEqual(m.Weights, weights) || m.CreatedAt == "" {
			t.Fatalf("model %s: %+v", v, m)
		}
	}
	a.req(t, "GET", "/api/v1/projects/"+p.ID+"/models/2", r.Token, nil).isError(t, 404, "not_found", "version")
	// A sync returns the model when the client's is older, and not when it is current.
	if res := a.sync(t, r, map[string]any{"have_model_version": 0}); res.Model == nil || res.Model["version"] != float64(1) || res.Project.ModelVersion != 1 {
		t.Fatalf("sync with an old model: %+v", res)
	}
	if res := a.sync(t, r, map[string]any{"have_model_version": 1}); res.Model != nil {
		t.Fatalf("sync with the current model got one: %+v", res.Model)
	}
}

func testModelUpdates(t *testing.T, a *api) {
	p := a.newProject(t, "CartPole-v1")
	r, r2 := a.join(t, p.JoinCode, "Ada"), a.join(t, p.JoinCode, "Bob")
	upd := func(base int, delta []float64) map[string]any {
		return map[string]any{"id": uuid.NewString(), "base_version": base, "labels": 10, "delta": delta, "metrics": map[string]float64{"acc": 0.8}}
	}
	u := upd(1, []float64{0.1, -0.2, 0.3})
	if res := a.sync(t, r, map[string]any{"model_update": u}); res.ModelUpdate == nil || res.ModelUpdate.Status != "rejected" || res.ModelUpdate.Reason == "" {
		t.Fatalf("an update before any model: %+v", res.ModelUpdate)
	}
	publish := func(v int) {
		a.req(t, "POST", "/api/v1/projects/"+p.ID+"/trainer/rounds", a.s.teacher, map[string]any{"round": v,
			"model": map[string]any{"version": v, "weights": json.RawMessage(`{}`), "num_params": 3}}).ok(t, 201, nil)
	}
	publish(1)
	res := a.sync(t, r, map[string]any{"model_update": u})
	if res.ModelUpdate.Status != "accepted" || res.ModelUpdate.ID != u["id"] {
		t.Fatalf("update: %+v", res.ModelUpdate)
	}
	if res := a.sync(t, r, map[string]any{"model_update": u}); res.ModelUpdate.Status != "duplicate" {
		t.Fatalf("re-sent update: %+v", res.ModelUpdate)
	}
	if res := a.sync(t, r2, map[string]any{"model_update": u}); res.ModelUpdate.Status != "rejected" {
		t.Fatalf("another rater's update id: %+v", res.ModelUpdate)
	}
	f32 := make([]byte, 12)
	for i, v := range []float32{1, 2, 3} {
		binary.LittleEndian.PutUint32(f32[4*i:], math.Float32bits(v))
	}
	u2 := upd(1, nil)
	delete(u2, "delta")
	u2["delta_f32"] = base64.StdEncoding.EncodeToString(f32)
	if res := a.sync(t, r2, map[string]any{"model_update": u2}); res.ModelUpdate.Status != "accepted" {
		t.Fatalf("delta_f32 update: %+v", res.ModelUpdate)
	}
	for name, bad := range map[string]map[string]any{
		"wrong length":   upd(1, []float64{1, 2}),
		"future base":    upd(7, []float64{1, 2, 3}),
		"no labels":      func() map[string]any { x := upd(1, []float64{1, 2, 3}); x["labels"] = 0; return x }(),
		"both encodings": func() map[string]any { x := upd(1, []float64{1, 2, 3}); x["delta_f32"] = "AAAA"; return x }(),
	} {
		if res := a.sync(t, r, map[string]any{"model_update": bad}); res.ModelUpdate.Status != "rejected" || res.ModelUpdate.Reason == "" {
			t.Errorf("%s: %+v", name, res.ModelUpdate)
		}
	}
	// Too old: max_model_staleness versions behind at most.
	a.req(t, "PATCH", "/api/v1/projects/"+p.ID+"/settings", a.s.teacher, map[string]any{"max_model_staleness": 1}).ok(t, 200, nil)
	publish(2)
	publish(3)
	if res := a.sync(t, r, map[string]any{"model_update": upd(1, []float64{1, 2, 3})}); res.ModelUpdate.Status != "rejected" || !strings.Contains(res.ModelUpdate.Reason, "behind") {
		t.Fatalf("a stale update: %+v", res.ModelUpdate)
	}
	var pending struct {
		Updates []struct {
			ID       string `json:"id"`
			RaterID  string `json:"rater_id"`
			DeltaF32 string `json:"delta_f32"`
			Labels   int    `json:"labels"`
		} `json:"updates"`
	}
	a.req(t, "GET", "/api/v1/projects/"+p.ID+"/trainer/updates?status=pending", a.s.teacher, nil).ok(t, 200, &pending)
	if len(pending.Updates) != 2 || pending.Updates[0].ID != u["id"] || pending.Updates[0].RaterID != r.RaterID || pending.Updates[1].DeltaF32 != u2["delta_f32"] {
		t.Fatalf("pending updates %+v", pending.Updates)
	}
}

func testExport(t *testing.T, a *api) {
	p := a.newProject(t, "CartPole-v1")
	pairs := a.publishPairs(t, p.ID, 2)
	r := a.join(t, p.JoinCode, "Ada, \"the first\"")
	cs := []any{comparison(pairs[0], "left"), comparison(pairs[1], "cant_tell")}
	a.sync(t, r, map[string]any{"comparisons": cs})

	res := a.req(t, "GET", "/api/v1/projects/"+p.ID+"/export", a.s.teacher, nil)
	if res.status != 200 || !strings.HasPrefix(res.header.Get("Content-Type"), "application/x-ndjson") {
		t.Fatalf("export: %d %s", res.status, res.header.Get("Content-Type"))
	}
	var rows []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(res.body))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var row map[string]any
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			t.Fatal(err)
		}
		rows = append(rows, row)
	}
	if len(rows) != 2 || rows[0]["id"] != cs[0].(map[string]any)["id"] || rows[1]["choice"] != "cant_tell" || rows[0]["rater_name"] != "Ada, \"the first\"" || rows[0]["excluded"] != false {
		t.Fatalf("export rows %v", rows)
	}
	for _, k := range []string{"project_id", "rater_id", "pair_id", "created_at", "response_ms", "received_at"} {
		if rows[0][k] == nil {
			t.Errorf("export row has no %s", k)
		}
	}
	if l, _ := rows[0]["left"].(map[string]any); l["env"] != "CartPole-v1" || l["actions"] == nil {
		t.Fatalf("left clip not inline: %v", rows[0]["left"])
	}
	res = a.req(t, "GET", "/api/v1/projects/"+p.ID+"/export?format=csv", a.s.teacher, nil)
	if res.status != 200 || !strings.HasPrefix(res.header.Get("Content-Type"), "text/csv") {
		t.Fatalf("csv export: %d %s", res.status, res.header.Get("Content-Type"))
	}
	recs, err := csv.NewReader(bytes.NewReader(res.body)).ReadAll()
	if err != nil || len(recs) != 3 || recs[0][0] != "id" || recs[1][3] != "Ada, \"the first\"" {
		t.Fatalf("csv %v %v", recs, err)
	}
	a.req(t, "GET", "/api/v1/projects/"+p.ID+"/export?format=xml", a.s.teacher, nil).isError(t, 400, "invalid", "format")
}

func testTeacherControls(t *testing.T, a *api) {
	p := a.newProject(t, "CartPole-v1")
	pairs := a.publishPairs(t, p.ID, 1)
	ada, bob := a.join(t, p.JoinCode, "Ada"), a.join(t, p.JoinCode, "Bob")
	a.sync(t, ada, map[string]any{"comparisons": []any{comparison(pairs[0], "left")}})
	a.sync(t, bob, map[string]any{"comparisons": []any{comparison(pairs[0], "right")}})
	base := "/api/v1/projects/" + p.ID

	var st map[string]any
	a.req(t, "POST", base+"/pause", a.s.teacher, nil).ok(t, 200, &st)
	if st["paused"] != true || st["id"] != p.ID {
		t.Fatalf("pause: %v", st)
	}
	if res := a.sync(t, ada, map[string]any{"comparisons": []any{comparison(pairs[0], "equal")}}); !res.Project.Paused || len(res.Accepted) != 1 {
		t.Fatalf("a paused project still takes labels: %+v", res)
	}
	a.req(t, "POST", base+"/resume", a.s.teacher, map[string]any{}).ok(t, 200, &st)
	if st["paused"] != false {
		t.Fatalf("resume: %v", st)
	}
	a.req(t, "POST", base+"/pause", a.s.teacher, map[string]any{"now": true}).isError(t, 400, "unknown_field", "now")

	var set struct {
		Settings store.Settings `json:"settings"`
	}
	a.req(t, "PATCH", base+"/settings", a.s.teacher, map[string]any{"pairs_per_round": 7}).ok(t, 200, &set)
	want := store.DefaultSettings()
	want.PairsPerRound = 7
	if set.Settings != want {
		t.Fatalf("settings %+v", set.Settings)
	}
	a.req(t, "PATCH", base+"/settings", a.s.teacher, map[string]any{"query": "loudest"}).isError(t, 400, "invalid", "query")
	a.req(t, "PATCH", base+"/settings", a.s.teacher, map[string]any{"env": "Pendulum-v1"}).isError(t, 400, "unknown_field", "env")

	var rs struct {
		Raters []struct {
			ID          string `json:"id"`
			Name        string `json:"name"`
			Excluded    bool   `json:"excluded"`
			Comparisons int    `json:"comparisons"`
			LastSeenAt  any    `json:"last_seen_at"`
		} `json:"raters"`
	}
	a.req(t, "GET", base+"/raters", a.s.teacher, nil).ok(t, 200, &rs)
	if len(rs.Raters) != 2 || rs.Raters[0].Name != "Ada" || rs.Raters[0].Comparisons != 2 || rs.Raters[1].Comparisons != 1 || rs.Raters[0].LastSeenAt == nil {
		t.Fatalf("raters %+v", rs.Raters)
	}

	a.req(t, "POST", base+"/raters/"+bob.RaterID+"/exclude", a.s.teacher, nil).ok(t, 200, &st)
	if st["excluded"] != true {
		t.Fatalf("exclude: %v", st)
	}
	if ls := labels(t, a, p.ID, false); len(ls) != 2 {
		t.Fatalf("labels without bob: %d, want 2", len(ls))
	}
	if ls := labels(t, a, p.ID, true); len(ls) != 3 {
		t.Fatalf("labels with bob: %d, want 3", len(ls))
	}
	var proj struct {
		Counts store.Counts `json:"counts"`
	}
	a.req(t, "GET", base, a.s.teacher, nil).ok(t, 200, &proj)
	if proj.Counts.Comparisons != 3 || proj.Counts.ExcludedLabels != 1 {
		t.Fatalf("counts %+v: excluding deletes nothing", proj.Counts)
	}
	a.req(t, "POST", base+"/raters/"+bob.RaterID+"/restore", a.s.teacher, nil).ok(t, 200, &st)
	if ls := labels(t, a, p.ID, false); len(ls) != 3 {
		t.Fatalf("labels after restoring bob: %d", len(ls))
	}
	a.req(t, "POST", base+"/raters/"+uuid.NewString()+"/exclude", a.s.teacher, nil).isError(t, 404, "not_found", "rid")
	other := a.newProject(t, "CartPole-v1")
	a.req(t, "POST", "/api/v1/projects/"+other.ID+"/raters/"+bob.RaterID+"/exclude", a.s.teacher, nil).isError(t, 404, "not_found", "rid")
}

func testTrainerAPI(t *testing.T, a *api) {
	p := a.newProject(t, "CartPole-v1")
	base := "/api/v1/projects/" + p.ID + "/trainer"
	a.req(t, "GET", base+"/checkpoint", a.s.teacher, nil).isError(t, 404, "not_found", "")
	l, r := clip(), clip()
	pair := uuid.NewString()
	lr := 12.5
	round := map[string]any{"round": 1, "checkpoint": []byte("state-1"), "replace_pairs": true,
		"model":  map[string]any{"version": 1, "weights": json.RawMessage(`{"format":"prefer-reward"}`), "num_params": 5},
		"policy": map[string]any{"version": 1, "weights": []byte{1, 2, 3}, "learned_return": lr, "true_return": nil, "env_steps": 2048, "labels": 0},
		"clips":  []any{l, r}, "pairs": []any{map[string]any{"id": pair, "left": l["id"], "right": r["id"], "priority": 0.3}}}
	var out map[string]any
	a.req(t, "POST", base+"/rounds", a.s.teacher, round).ok(t, 201, &out)
	if out["round"] != float64(1) {
		t.Fatalf("publish: %v", out)
	}
	// A retried round (same number, with a checkpoint) writes nothing and says so.
	a.req(t, "POST", base+"/rounds", a.s.teacher, round).ok(t, 200, &out)
	if out["duplicate"] != true {
		t.Fatalf("re-published round: %v", out)
	}
	var cp struct {
		Round int    `json:"round"`
		State []byte `json:"state"`
	}
	a.req(t, "GET", base+"/checkpoint", a.s.teacher, nil).ok(t, 200, &cp)
	if cp.Round != 1 || string(cp.State) != "state-1" {
		t.Fatalf("checkpoint %+v", cp)
	}
	var proj struct {
		PolicyVersion int `json:"policy_version"`
		ModelVersion  int `json:"model_version"`
		History       []struct {
			LearnedReturn *float64 `json:"learned_return"`
			TrueReturn    *float64 `json:"true_return"`
			EnvSteps      int      `json:"env_steps"`
		} `json:"history"`
	}
	a.req(t, "GET", "/api/v1/projects/"+p.ID, a.s.teacher, nil).ok(t, 200, &proj)
	if proj.PolicyVersion != 1 || proj.ModelVersion != 1 || len(proj.History) != 1 || *proj.History[0].LearnedReturn != lr || proj.History[0].TrueReturn != nil || proj.History[0].EnvSteps != 2048 {
		t.Fatalf("project after a round: %+v", proj)
	}
	var clips struct {
		Clips []map[string]any `json:"clips"`
	}
	a.req(t, "POST", base+"/clips", a.s.teacher, map[string]any{"ids": []string{r["id"].(string), uuid.NewString(), l["id"].(string)}}).ok(t, 200, &clips)
	if len(clips.Clips) != 2 || clips.Clips[0]["id"] != r["id"] || clips.Clips[1]["id"] != l["id"] {
		t.Fatalf("clip lookup %v", clips.Clips)
	}
	a.req(t, "POST", base+"/clips", a.s.teacher, map[string]any{"ids": []string{"x"}}).isError(t, 400, "invalid", "ids[0]")

	rt := a.join(t, p.JoinCode, "Ada")
	c := comparison(pair, "right")
	a.sync(t, rt, map[string]any{"comparisons": []any{c}})
	var ls struct {
		Labels []map[string]any `json:"labels"`
	}
	a.req(t, "GET", base+"/labels", a.s.teacher, nil).ok(t, 200, &ls)
	if len(ls.Labels) != 1 || ls.Labels[0]["id"] != c["id"] || ls.Labels[0]["left"] != l["id"] || ls.Labels[0]["right"] != r["id"] || ls.Labels[0]["choice"] != "right" || ls.Labels[0]["rater_id"] != rt.RaterID {
		t.Fatalf("labels %v", ls.Labels)
	}
	seq := int64(ls.Labels[0]["seq"].(float64))
	a.req(t, "GET", base+path("/labels?after=%d", seq), a.s.teacher, nil).ok(t, 200, &ls)
	if len(ls.Labels) != 0 {
		t.Fatalf("labels after the last: %v", ls.Labels)
	}
	a.req(t, "GET", base+"/labels?after=-1", a.s.teacher, nil).isError(t, 400, "invalid", "after")
	a.req(t, "GET", base+"/labels?excluded=maybe", a.s.teacher, nil).isError(t, 400, "invalid", "excluded")
	a.req(t, "GET", base+"/updates?status=lost", a.s.teacher, nil).isError(t, 400, "invalid", "status")

	// Validation of a round, each refused whole.
	bad := func(edit func(m map[string]any)) resp {
		m := map[string]any{"round": 2}
		edit(m)
		return a.req(t, "POST", base+"/rounds", a.s.teacher, m)
	}
	bad(func(m map[string]any) { m["round"] = 0 }).isError(t, 400, "invalid", "round")
	bad(func(m map[string]any) {
		m["model"] = map[string]any{"version": 5, "weights": json.RawMessage(`{}`), "num_params": 1}
	}).isError(t, 400, "invalid", "model.version")
	bad(func(m map[string]any) { m["policy"] = map[string]any{"version": 1, "weights": []byte{1}} }).isError(t, 400, "invalid", "policy.version")
	bad(func(m map[string]any) {
		c := clip()
		c["env"] = "Pendulum-v1"
		m["clips"] = []any{c}
	}).isError(t, 400, "invalid", "clips[0].env")
	bad(func(m map[string]any) {
		c := clip()
		delete(c, "actions")
		m["clips"] = []any{c}
	}).isError(t, 400, "invalid", "clips[0].actions")
	bad(func(m map[string]any) { m["clips"] = []any{l} }).isError(t, 400, "invalid", "clips[0].id")
	bad(func(m map[string]any) {
		m["pairs"] = []any{map[string]any{"id": uuid.NewString(), "left": l["id"], "right": uuid.NewString()}}
	}).isError(t, 400, "invalid", "pairs[0].right")
	bad(func(m map[string]any) { m["merged"] = []string{uuid.NewString()} }).isError(t, 400, "invalid", "merged")
	bad(func(m map[string]any) { m["extra"] = 1 }).isError(t, 400, "unknown_field", "extra")
	if lsn := labels(t, a, p.ID, false); len(lsn) != 1 {
		t.Fatalf("refused rounds changed the labels: %d", len(lsn))
	}
}

func testRateLimit(t *testing.T, a *api) {
	p := a.newProject(t, "CartPole-v1")
	r := a.join(t, p.JoinCode, "Ada")
	// 8 senders with one token until the first 429 (or 2000 requests): the burst passes, then
	// the server refuses as soon as requests come faster than the bucket refills.
	var mu sync.Mutex
	var limited *resp
	okCount, sent := 0, 0
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				stop := limited != nil || sent >= 2000
				sent++
				mu.Unlock()
				if stop {
					return
				}
				res := a.sendOnce(t, "GET", "/api/v1/projects/"+p.ID, r.Token, "", nil)
				mu.Lock()
				switch res.status {
				case http.StatusOK:
					okCount++
				case http.StatusTooManyRequests:
					if limited == nil {
						limited = &res
					}
				default:
					t.Errorf("status %d: %s", res.status, res.body)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if limited == nil || okCount < a.s.burst {
		t.Fatalf("%d answered before the first 429 (limited: %v); want at least the burst of %d answered, then a 429", okCount, limited != nil, a.s.burst)
	}
	limited.isError(t, 429, "rate_limited", "")
	if ra := limited.header.Get("Retry-After"); ra == "" || ra == "0" {
		t.Fatalf("Retry-After %q", ra)
	}
	// Another token has its own bucket.
	r2 := a.join(t, p.JoinCode, "Bob")
	a.sendOnce(t, "GET", "/api/v1/projects/"+p.ID, r2.Token, "", nil).ok(t, 200, nil)
	t.Logf("%s: %d answered before the first 429", a.s.name, okCount)
}

// Helpers.

func labels(t *testing.T, a *api, pid string, excluded bool) []map[string]any {
	t.Helper()
	var ls struct {
		Labels []map[string]any `json:"labels"`
	}
	a.req(t, "GET", path("/api/v1/projects/%s/trainer/labels?excluded=%v", pid, excluded), a.s.teacher, nil).ok(t, 200, &ls)
	return ls.Labels
}

func exportCount(t *testing.T, a *api, pid string) int {
	t.Helper()
	res := a.req(t, "GET", "/api/v1/projects/"+pid+"/export", a.s.teacher, nil)
	res.ok(t, 200, nil)
	return bytes.Count(res.body, []byte("\n"))
}

func pairIDs(res syncResult) []string {
	var out []string
	for _, p := range res.Pairs {
		out = append(out, p.ID)
	}
	return out
}

func ids(cs []map[string]any) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c["id"].(string))
	}
	sort.Strings(out)
	return out
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	sort.Strings(s)
	return s
}

func validUUID(s string) bool {
	_, err := uuid.Parse(s)
	return err == nil && len(s) == 36
}

func jsonEqual(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return bytes.Equal(xa, ya)
}
