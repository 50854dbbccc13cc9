package classroom

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/prefer-rlhf/prefer/core/prefs"
	"github.com/prefer-rlhf/prefer/core/reward"
	"github.com/prefer-rlhf/prefer/server/hub"
	"github.com/prefer-rlhf/prefer/server/store"
)

// A class of three raters on PendulumSpin-v0 labels four pairs through the store; the
// dashboard's figures are those of Summarize on the same labels, and it needs the teacher token.
func TestDashboard(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(filepath.Join(t.TempDir(), "c.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	p := &store.Project{ID: "p1", Env: "PendulumSpin-v0", JoinCode: "K7Q2XM"}
	if err := st.CreateProject(ctx, p); err != nil {
		t.Fatal(err)
	}
	if err := st.AddTeacherToken(ctx, hub.HashToken("teach"), ""); err != nil {
		t.Fatal(err)
	}
	var clips []prefs.Clip
	var pairs []store.NewPair
	for i := 0; i < 8; i++ {
		clips = append(clips, prefs.Clip{ID: fmt.Sprintf("c%d", i), Env: p.Env, StartState: []float64{3, 0}, Actions: [][]float64{{1}, {1}}})
	}
	for i := 0; i < 4; i++ {
		pairs = append(pairs, store.NewPair{ID: fmt.Sprintf("pair%d", i), Left: clips[2*i].ID, Right: clips[2*i+1].ID, Priority: 1})
	}
	if err := st.AddClipsAndPairs(ctx, p.ID, clips, pairs, false); err != nil {
		t.Fatal(err)
	}
	answers := map[string][]prefs.Choice{ // the class of core/stats' tests
		"a": {prefs.Left, prefs.Left, prefs.Right, prefs.Equal},
		"b": {prefs.Left, prefs.Right, prefs.Right, prefs.Left},
		"c": {prefs.Left, prefs.Left, "", prefs.CantTell},
	}
	now := time.Now()
	var rows []LabelRow
	for _, name := range []string{"a", "b", "c"} {
		r := &store.Rater{ID: "r-" + name, ProjectID: p.ID, Name: name}
		if err := st.CreateRater(ctx, r, hub.HashToken("tok-"+name)); err != nil {
			t.Fatal(err)
		}
		var cs []prefs.Comparison
		for i, c := range answers[name] {
			if c == "" {
				continue
			}
			cs = append(cs, prefs.Comparison{ID: uuid.NewString(), PairID: pairs[i].ID, Choice: c, CreatedAt: now})
			rows = append(rows, LabelRow{Rater: r.ID, RaterName: name, Pair: pairs[i].ID, Choice: c, At: now})
		}
		if res, err := st.AddComparisons(ctx, p.ID, r.ID, cs, now); err != nil || len(res.Accepted) != len(cs) {
			t.Fatalf("AddComparisons: %+v %v", res, err)
		}
	}
	// Two policies with their KL from the initial policy, and model assistance switched off.
	for v, kl := range []float64{0.02, 0.09} {
		if err := st.PublishRound(ctx, &store.Round{ProjectID: p.ID, Round: v + 1, Policy: &store.Policy{Version: v + 1,
			Weights: []byte{1}, LearnedReturn: float64(v), TrueReturn: float64(v), KL: kl, EnvSteps: int64(1000 * (v + 1))}}); err != nil {
			t.Fatal(err)
		}
	}
	set := p.Settings
	set.HideModelPredictions = true
	if err := st.SetSettings(ctx, p.ID, set); err != nil {
		t.Fatal(err)
	}
	h := NewHandler(st, "http://192.168.1.23:8080", nil)
	srv := httptest.NewServer(h)
	defer srv.Close()

	get := func(path, token string) (*http.Response, []byte) {
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var b strings.Builder
		buf := make([]byte, 1<<16)
		for {
			n, err := res.Body.Read(buf)
			b.Write(buf[:n])
			if err != nil {
				break
			}
		}
		return res, []byte(b.String())
	}
	if res, _ := get("/classroom/api/projects/p1/dashboard", ""); res.StatusCode != 401 {
		t.Fatalf("no token: %d", res.StatusCode)
	}
	if res, _ := get("/classroom/api/projects/p1/dashboard", "tok-a"); res.StatusCode != 401 {
		t.Fatalf("a rater's token: %d", res.StatusCode)
	}
	if res, _ := get("/classroom/api/projects/nope/dashboard", "teach"); res.StatusCode != 404 {
		t.Fatalf("unknown project: %d", res.StatusCode)
	}
	res, body := get("/classroom/api/projects/p1/dashboard", "teach")
	if res.StatusCode != 200 {
		t.Fatalf("dashboard: %d %s", res.StatusCode, body)
	}
	var d struct {
		Project  ProjectInfo       `json:"project"`
		Summary  Summary           `json:"summary"`
		Charts   map[string]string `json:"charts"`
		Policies []struct {
			KL *float64 `json:"kl"`
		} `json:"policies"`
	}
	if err := json.Unmarshal(body, &d); err != nil {
		t.Fatal(err)
	}
	if len(d.Policies) != 2 || d.Policies[0].KL == nil || *d.Policies[0].KL != 0.02 || *d.Policies[1].KL != 0.09 {
		t.Fatalf("policies' KL from the initial policy: %s", body)
	}
	if rh := d.Charts["reward_hacking"]; strings.Contains(rh, "not recorded") || !strings.Contains(rh, "KL from the initial policy") {
		t.Fatal("the reward-hacking chart does not draw the recorded KL")
	}
	if !d.Project.HideModelPredictions {
		t.Fatal("dashboard does not show that model predictions are hidden")
	}
	want := Summarize(rows, nil, time.Now())
	if d.Summary.Labels != 11 || len(d.Summary.PerRater) != 3 || d.Summary.SharedPairs != want.SharedPairs ||
		math.Abs(float64(d.Summary.Agreement)-5.0/8) > 1e-5 || math.Abs(float64(d.Summary.Kappa-want.Kappa)) > 1e-5 {
		t.Fatalf("summary %+v, want %+v", d.Summary, want)
	}
	if d.Project.JoinURL != "http://192.168.1.23:8080/join?code=K7Q2XM" || !d.Project.Checker ||
		!strings.HasPrefix(d.Project.QR, "<svg") || d.Project.Goal == "" {
		t.Fatalf("project %+v", d.Project)
	}
	for _, k := range []string{"reward_hacking", "accuracy", "per_minute"} {
		if !strings.Contains(d.Charts[k], "<svg") {
			t.Fatalf("chart %s missing", k)
		}
	}
	if res, body := get("/classroom/", ""); res.StatusCode != 200 || !strings.Contains(string(body), "Fleiss") {
		t.Fatalf("page: %d", res.StatusCode)
	}
	if res, body := get("/classroom/api/tasks", ""); res.StatusCode != 200 || !strings.Contains(string(body), "MountainCarRock-v0") {
		t.Fatalf("tasks: %d %s", res.StatusCode, body)
	}
}

// The reward-model download needs this project's teacher token, is a 404 before the trainer
// has published a model, then serves the latest version as a file that reward.Model decodes
// into a model predicting exactly as the published one; a stored version that is not in
// core/reward's format is a server error, not a broken download.
func TestRewardModelFile(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(filepath.Join(t.TempDir(), "c.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, id := range []string{"p1", "p2"} {
		if err := st.CreateProject(ctx, &store.Project{ID: id, Env: "CartPole-v1", JoinCode: "JOIN" + id}); err != nil {
			t.Fatal(err)
		}
	}
	for tok, scope := range map[string]string{"teach": "", "teach-p2": "p2"} {
		if err := st.AddTeacherToken(ctx, hub.HashToken(tok), scope); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.CreateRater(ctx, &store.Rater{ID: "r1", ProjectID: "p1", Name: "a"}, hub.HashToken("tok-a")); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(NewHandler(st, "http://localhost", nil))
	defer srv.Close()
	get := func(token string) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest("GET", srv.URL+"/classroom/api/projects/p1/reward-model", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		return res, b
	}
	for _, tok := range []string{"", "tok-a", "wrong"} {
		if res, body := get(tok); res.StatusCode != http.StatusUnauthorized || !strings.Contains(string(body), `"unauthorized"`) {
			t.Errorf("token %q: %d %s", tok, res.StatusCode, body)
		}
	}
	// A teacher token of another project is refused as the hub refuses it.
	if res, body := get("teach-p2"); res.StatusCode != http.StatusForbidden || !strings.Contains(string(body), `"forbidden"`) {
		t.Errorf("another project's teacher token: %d %s", res.StatusCode, body)
	}
	if res, body := get("teach"); res.StatusCode != http.StatusNotFound || !strings.Contains(string(body), "no reward model yet") {
		t.Fatalf("before any model: %d %s", res.StatusCode, body)
	}
	if !strings.Contains(string(dashboardHTML), `id="export-reward-model"`) || !strings.Contains(string(dashboardHTML), `download("reward-model")`) {
		t.Error("the dashboard's exports do not offer the reward model")
	}

	cfg := reward.Defaults()
	cfg.Members, cfg.Hidden, cfg.Seed = 2, []int{8}, 4
	var published []*reward.Model
	for v := 1; v <= 2; v++ {
		cfg.Seed++
		m, err := reward.New(cfg, reward.Shape{ObsDim: 4, ActDim: 1, ActN: 2})
		if err != nil {
			t.Fatal(err)
		}
		w, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.PublishRound(ctx, &store.Round{ProjectID: "p1", Round: v, Model: &store.Model{Version: v, Weights: w, NumParams: 1}}); err != nil {
			t.Fatal(err)
		}
		published = append(published, m)
	}
	res, body := get("teach")
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/json" ||
		res.Header.Get("Content-Disposition") != `attachment; filename="reward-model-p1-v2.json"` {
		t.Fatalf("download: %d %v %.200s", res.StatusCode, res.Header, body)
	}
	var got reward.Model
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("the downloaded file does not load: %v", err)
	}
	obs := []float64{0.1, -0.2, 0.03, 0.4, -1, 0.5, 0.2, -0.3}
	act := []float64{0, 1}
	want, have := make([]float64, 2), make([]float64, 2)
	published[1].Rewards(obs, act, obs, 2, want)
	got.Rewards(obs, act, obs, 2, have)
	if have[0] != want[0] || have[1] != want[1] {
		t.Fatalf("the downloaded model predicts %v, the latest published one %v", have, want)
	}
	published[0].Rewards(obs, act, obs, 2, want)
	if have[0] == want[0] {
		t.Fatal("the download is not the latest version")
	}

	if err := st.PublishRound(ctx, &store.Round{ProjectID: "p1", Round: 3, Model: &store.Model{Version: 3,
		Weights: json.RawMessage(`{"format":"something-else"}`), NumParams: 1}}); err != nil {
		t.Fatal(err)
	}
	// A store fault, not the teacher's: 500 with the hub's body, the detail in the log.
	if res, body := get("teach"); res.StatusCode != http.StatusInternalServerError || !strings.Contains(string(body), `"internal"`) {
		t.Fatalf("a stored model in another format: %d %s", res.StatusCode, body)
	}
}
