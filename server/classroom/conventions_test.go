package classroom

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/prefer-rlhf/prefer/core/prefs"
	"github.com/prefer-rlhf/prefer/server/hub"
	"github.com/prefer-rlhf/prefer/server/store"
)

// faultyStore fails the calls named in fail, as a broken database would.
type faultyStore struct {
	*store.Store
	fail map[string]bool
}

var errDisk = errors.New("disk I/O error")

func (f *faultyStore) TeacherToken(ctx context.Context, h string) (string, error) {
	if f.fail["TeacherToken"] {
		return "", errDisk
	}
	return f.Store.TeacherToken(ctx, h)
}

func (f *faultyStore) Raters(ctx context.Context, pid string) ([]store.RaterSummary, error) {
	if f.fail["Raters"] {
		return nil, errDisk
	}
	return f.Store.Raters(ctx, pid)
}

func (f *faultyStore) SetRaterWeight(ctx context.Context, pid, rid string, w float64) error {
	if f.fail["SetRaterWeight"] {
		return errDisk
	}
	return f.Store.SetRaterWeight(ctx, pid, rid, w)
}

type crowdClass struct {
	st     *faultyStore
	srv    *httptest.Server
	pid    string
	pairs  []string
	raters []string
}

// newCrowdClass is a project with overlap 2, three pairs and two raters, one of them a crowd
// participant, served by a classroom handler without demo raters (as on the Worker).
func newCrowdClass(t *testing.T) *crowdClass {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(filepath.Join(t.TempDir(), "c.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	set := store.DefaultSettings()
	set.Overlap = 2
	c := &crowdClass{st: &faultyStore{Store: st, fail: map[string]bool{}}, pid: uuid.NewString()}
	if err := st.CreateProject(ctx, &store.Project{ID: c.pid, Env: "CartPole-v1", Settings: set, JoinCode: "CROWD2"}); err != nil {
		t.Fatal(err)
	}
	if err := st.AddTeacherToken(ctx, hub.HashToken("teach"), ""); err != nil {
		t.Fatal(err)
	}
	var clips []prefs.Clip
	var np []store.NewPair
	for i := 0; i < 4; i++ {
		clips = append(clips, prefs.Clip{ID: uuid.NewString(), Env: "CartPole-v1", StartState: []float64{0, 0, 0.01 * float64(i), 0}, Actions: [][]float64{{0}}})
	}
	for i := 0; i < 3; i++ {
		c.pairs = append(c.pairs, uuid.NewString())
		np = append(np, store.NewPair{ID: c.pairs[i], Left: clips[i].ID, Right: clips[i+1].ID})
	}
	if err := st.AddClipsAndPairs(ctx, c.pid, clips, np, true); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for i, part := range []string{"", "PID-7"} {
		r := &store.Rater{ID: uuid.NewString(), ProjectID: c.pid, Name: "<i>r</i>", Participant: part}
		if err := st.CreateRater(ctx, r, hub.HashToken(uuid.NewString())); err != nil {
			t.Fatal(err)
		}
		c.raters = append(c.raters, r.ID)
		// Both label pair 0 (it reaches the overlap of 2); the second also pair 1.
		var cs []prefs.Comparison
		for j, ms := range []int64{4000, 8000}[:i+1] {
			cs = append(cs, prefs.Comparison{ID: uuid.NewString(), PairID: c.pairs[j], Choice: prefs.Left, CreatedAt: now, ResponseMS: ms})
		}
		if _, err := st.AddComparisons(ctx, c.pid, r.ID, cs, now); err != nil {
			t.Fatal(err)
		}
	}
	c.srv = httptest.NewServer(New(c.st, Options{JoinBase: "https://prefer.example.org"}))
	t.Cleanup(c.srv.Close)
	return c
}

func (c *crowdClass) do(t *testing.T, method, path string, body any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.srv.URL+path, rd)
	req.Header.Set("Authorization", "Bearer teach")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

// isError checks the hub's error body: status, code and field.
func isError(t *testing.T, status int, body []byte, wantStatus int, code, field string) {
	t.Helper()
	var e struct {
		Error struct{ Code, Field, Message string } `json:"error"`
	}
	if err := json.Unmarshal(body, &e); err != nil || status != wantStatus || e.Error.Code != code || e.Error.Field != field || e.Error.Message == "" {
		t.Fatalf("got %d %s; want %d %s field %q", status, body, wantStatus, code, field)
	}
}

// The dashboard shows each rater's participant id and time, and the share of labelled pairs
// that reached the overlap.
func TestDashboardCrowdFigures(t *testing.T) {
	c := newCrowdClass(t)
	status, body := c.do(t, "GET", "/classroom/api/projects/"+c.pid+"/dashboard", nil)
	var d struct {
		Project struct {
			Overlap       int  `json:"overlap"`
			DemoAvailable bool `json:"demo_available"`
		} `json:"project"`
		Summary struct {
			PerRater []struct {
				Rater         string   `json:"rater"`
				Participant   string   `json:"participant"`
				ActiveMinutes float64  `json:"active_minutes"`
				Median        *float64 `json:"median_seconds_per_label"`
			} `json:"per_rater"`
			PairsLabelled  int      `json:"pairs_labelled"`
			PairsAtOverlap int      `json:"pairs_at_overlap"`
			OverlapShare   *float64 `json:"overlap_share"`
		} `json:"summary"`
	}
	if err := json.Unmarshal(body, &d); status != 200 || err != nil {
		t.Fatalf("%d %s %v", status, body, err)
	}
	if d.Project.Overlap != 2 || d.Project.DemoAvailable {
		t.Fatalf("project %+v", d.Project)
	}
	s := d.Summary
	if s.PairsLabelled != 2 || s.PairsAtOverlap != 1 || s.OverlapShare == nil || *s.OverlapShare != 0.5 {
		t.Fatalf("overlap figures: %d labelled, %d at overlap, share %v", s.PairsLabelled, s.PairsAtOverlap, s.OverlapShare)
	}
	byRater := map[string]int{}
	for i, r := range s.PerRater {
		byRater[r.Rater] = i
	}
	crowd := s.PerRater[byRater[c.raters[1]]]
	if crowd.Participant != "PID-7" || crowd.ActiveMinutes != 0.2 || crowd.Median == nil || *crowd.Median != 6 {
		t.Fatalf("crowd rater %+v", crowd)
	}
	if other := s.PerRater[byRater[c.raters[0]]]; other.Participant != "" || *other.Median != 4 {
		t.Fatalf("other rater %+v", other)
	}
	status, body = c.do(t, "GET", "/classroom/report?token=teach&project="+c.pid, nil)
	if status != 200 || !bytes.Contains(body, []byte("<td>PID-7</td>")) || !bytes.Contains(body, []byte("pairs at overlap 2 (1 of 2)")) ||
		bytes.Contains(body, []byte("<i>r")) || !bytes.Contains(body, []byte("&lt;i&gt;r&lt;/i&gt;")) {
		t.Fatalf("report %d: %s", status, body)
	}
}

// The classroom answers as the hub does: bad input is 400 naming the field, a missing row 404,
// a store fault 500 without its text, and a database failure while checking the token 500, not
// 401.
func TestClassroomConventions(t *testing.T) {
	c := newCrowdClass(t)
	api := "/classroom/api/projects/" + c.pid
	st, b := c.do(t, "POST", api+"/weight", map[string]any{"rater": c.raters[0], "weight": 2})
	isError(t, st, b, 400, "invalid", "weight")
	st, b = c.do(t, "POST", api+"/weight", map[string]any{"rater": c.raters[0], "weight": "half"})
	isError(t, st, b, 400, "bad_json", "weight")
	st, b = c.do(t, "POST", api+"/weight", map[string]any{"rater": c.raters[0], "weight": 0.5, "why": "x"})
	isError(t, st, b, 400, "unknown_field", "why")
	st, b = c.do(t, "POST", api+"/weight", map[string]any{"rater": uuid.NewString(), "weight": 0.5})
	isError(t, st, b, 404, "not_found", "rater")
	st, b = c.do(t, "POST", api+"/gold", map[string]any{"pair": c.pairs[0], "choice": "cant_tell"})
	isError(t, st, b, 400, "invalid", "choice")
	st, b = c.do(t, "POST", api+"/gold", map[string]any{"pair": "nope", "choice": "left"})
	isError(t, st, b, 400, "invalid", "pair")
	st, b = c.do(t, "POST", api+"/gold", map[string]any{"pair": uuid.NewString(), "choice": "left"})
	isError(t, st, b, 404, "not_found", "pair")
	st, b = c.do(t, "POST", api+"/demo", map[string]any{"raters": 3, "noise": 0})
	isError(t, st, b, 400, "invalid", "raters")
	st, b = c.do(t, "POST", api+"/demo", map[string]any{"raters": 3, "teacher": "lazy"})
	isError(t, st, b, 400, "invalid", "teacher")
	st, b = c.do(t, "POST", api+"/demo", map[string]any{"raters": 3, "noise": 0.2, "teacher": "skip"})
	isError(t, st, b, 400, "invalid", "noise")
	if st, b = c.do(t, "POST", api+"/demo", map[string]any{"raters": 0, "noise": 0}); st != 200 {
		t.Fatalf("stopping demo raters that cannot run: %d %s", st, b)
	}
	if st, b = c.do(t, "POST", api+"/gold", map[string]any{"pair": c.pairs[0], "choice": "left"}); st != 200 {
		t.Fatalf("gold: %d %s", st, b)
	}
	st, b = c.do(t, "GET", "/classroom/report?token=teach", nil)
	isError(t, st, b, 400, "invalid", "project")
	st, b = c.do(t, "GET", "/classroom/api/projects/"+uuid.NewString()+"/dashboard", nil)
	isError(t, st, b, 404, "not_found", "pid")

	c.st.fail["SetRaterWeight"] = true
	st, b = c.do(t, "POST", api+"/weight", map[string]any{"rater": c.raters[0], "weight": 0.5})
	isError(t, st, b, 500, "internal", "")
	if bytes.Contains(b, []byte("disk")) {
		t.Fatalf("a store fault's text reached the client: %s", b)
	}
	c.st.fail["Raters"] = true
	st, b = c.do(t, "GET", api+"/dashboard", nil)
	isError(t, st, b, 500, "internal", "")
	c.st.fail["TeacherToken"] = true
	st, b = c.do(t, "GET", api+"/dashboard", nil)
	isError(t, st, b, 500, "internal", "")
}
