package tests

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/prefer-rlhf/prefer/core/prefs"
	"github.com/prefer-rlhf/prefer/core/stats"
	bt "github.com/prefer-rlhf/prefer/tests/browsertest"
)

// TestClassroomDashboard is the classroom acceptance test (issue 5): the teacher opens the
// printed teacher link, creates a session on a behaviour from the task list, three students
// join it from three separate browser contexts (no shared storage) and label; the dashboard's
// counts, pairwise agreement and Fleiss' kappa equal those computed here from the hub's
// export; the teacher switches demo raters on from the dashboard, and after a few trainer
// rounds the reward-hacking chart has data on both curves. Screenshots of the dashboard at
// 1280x800 and 1920x1080 go to tests/artifacts.
func TestClassroomDashboard(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test")
	}
	srv := bt.StartServer(t, "--round-interval", "1s", "--round-labels", "5")
	browser := bt.NewBrowser(t)
	teacher, _ := bt.NewTab(t, browser)

	// The teacher link leads to the dashboard of the default session.
	bt.Do(t, teacher, chromedp.Navigate(srv.URL+"/teacher?token="+srv.TeacherToken))
	bt.Wait(t, teacher, "the dashboard", `location.pathname === '/classroom/' && document.getElementById('code').textContent.length === 6`, 30*time.Second)
	oldCode := bt.Eval[string](t, teacher, `document.getElementById('code').textContent`)

	// A new session on a behaviour with no built-in reward.
	const task = "PendulumSpin-v0"
	bt.Do(t, teacher, chromedp.SetValue(chromedp.CSS(`#task`), task), chromedp.Click(chromedp.CSS(`#new-session`)))
	bt.Wait(t, teacher, "the new session", fmt.Sprintf(`document.getElementById('env').textContent === %q && document.getElementById('code').textContent !== %q`, task, oldCode), 30*time.Second)
	pid := bt.Eval[string](t, teacher, `new URL(location.href).searchParams.get('project')`)
	joinURL := bt.Eval[string](t, teacher, `document.getElementById('url').textContent`)
	code := bt.Eval[string](t, teacher, `document.getElementById('code').textContent`)
	if !strings.HasSuffix(joinURL, "/join?code="+code) {
		t.Fatalf("join link %q does not carry the code %q", joinURL, code)
	}
	// Short PPO rounds, so that a few rounds fit in the test; each pair goes to all three
	// students (overlap 3), so they share pairs by design, whatever the trainer does meanwhile.
	teacherAPI(t, srv, "PATCH", "/api/v1/projects/"+pid+"/settings", `{"ppo_steps_per_round": 4000, "pairs_per_round": 30, "overlap": 3}`)

	// Three students, each in a browser context of their own, join together (the hub hands
	// each the same pairs first), then label 6 pairs each with different habits, so that they
	// agree on some shared pairs and not on others.
	habits := [][]string{
		{kb.ArrowLeft, kb.ArrowLeft, kb.ArrowRight, kb.ArrowLeft, kb.ArrowRight, kb.ArrowUp},
		{kb.ArrowLeft, kb.ArrowRight, kb.ArrowRight, kb.ArrowLeft, kb.ArrowLeft, kb.ArrowUp},
		{kb.ArrowLeft, kb.ArrowLeft, kb.ArrowRight, kb.ArrowRight, kb.ArrowRight, kb.ArrowLeft},
	}
	students := make([]context.Context, len(habits))
	for i := range habits {
		ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
		t.Cleanup(cancel)
		classroomJoin(t, ctx, joinURL, []string{"Ada", "Grace", "Alan"}[i])
		students[i] = ctx
	}
	for i, keys := range habits {
		ctx, name := students[i], []string{"Ada", "Grace", "Alan"}[i]
		for _, k := range keys {
			bt.Wait(t, ctx, "a pair", jsPairID+` !== ''`, 60*time.Second)
			id := bt.Eval[string](t, ctx, jsPairID)
			bt.Do(t, ctx, chromedp.KeyEvent(k))
			bt.Wait(t, ctx, "the next pair", fmt.Sprintf(`document.querySelector('.labeller').dataset.lastPair === %q`, id), 10*time.Second)
		}
		bt.Wait(t, ctx, name+"'s labels synced", jsStored+` === '6' && `+jsPending+` === '0'`, 60*time.Second)
	}

	// The dashboard's figures equal the export's, computed here with core/stats.
	labels := classroomExport(t, srv, pid)
	if len(labels) != 18 {
		t.Fatalf("the hub holds %d labels, want 18", len(labels))
	}
	raters := map[string]bool{}
	for _, l := range labels {
		raters[l.Rater] = true
	}
	_, agreement := stats.Pairwise(labels)
	kappa := stats.FleissKappa(labels)
	shared := len(stats.Counts(labels))
	if shared != 6 {
		t.Fatalf("the students share %d pairs, want 6: with overlap 3 all three get the same pairs first", shared)
	}
	// Every shared pair reached the overlap of 3 raters.
	want := map[string]string{"labels": "18", "raters": fmt.Sprint(len(raters)), "agreement": pctText(agreement),
		"kappa": fixedText(kappa, 2), "shared": fmt.Sprint(shared),
		"overlap": "3", "at_overlap": "6", "pairs_labelled": "6", "overlap_share": "100%"}
	bt.Wait(t, teacher, "the dashboard's figures", `document.getElementById('labels').textContent === '18'`, 10*time.Second)
	for id, w := range want {
		if got := bt.Eval[string](t, teacher, `document.getElementById('`+id+`').textContent`); got != w {
			t.Errorf("dashboard #%s = %q, the export says %q", id, got, w)
		}
	}
	t.Logf("dashboard: 18 labels, 3 raters, %d shared pairs, agreement %s, Fleiss' kappa %s", shared, want["agreement"], want["kappa"])
	// And the dashboard API says the same.
	var api struct {
		Summary struct {
			Labels    int      `json:"labels"`
			Agreement *float64 `json:"agreement"`
			Kappa     *float64 `json:"fleiss_kappa"`
			PerRater  []struct {
				Labels int `json:"labels"`
			} `json:"per_rater"`
		} `json:"summary"`
	}
	srv.GetJSON(t, "/classroom/api/projects/"+pid+"/dashboard", &api)
	if api.Summary.Labels != 18 || len(api.Summary.PerRater) != 3 || api.Summary.Agreement == nil ||
		math.Abs(*api.Summary.Agreement-agreement) > 1e-5 || api.Summary.Kappa == nil || math.Abs(*api.Summary.Kappa-kappa) > 1e-5 {
		t.Errorf("dashboard API summary %+v, export: agreement %v kappa %v", api.Summary, agreement, kappa)
	}
	for _, r := range api.Summary.PerRater {
		if r.Labels != 6 {
			t.Errorf("a rater has %d labels on the dashboard, want 6", r.Labels)
		}
	}

	// Rater quality from the dashboard: the most disputed pair becomes a gold pair (left), and
	// the first rater is down-weighted; the API reports both, with gold agreement per rater.
	bt.Wait(t, teacher, "a disputed pair", `!!document.querySelector('#disputed_rows tr button[data-choice=left]')`, 10*time.Second)
	goldPair := bt.Eval[string](t, teacher, `document.querySelector('#disputed_rows tr').dataset.pair`)
	bt.Do(t, teacher, chromedp.Click(chromedp.CSS(`#disputed_rows tr button[data-choice=left]`)))
	bt.Wait(t, teacher, "the gold mark", `document.querySelector('#disputed_rows tr button[data-choice=left]').className === 'on'`, 10*time.Second)
	bt.Do(t, teacher, chromedp.Click(chromedp.CSS(`#rater_rows tr:first-child button[title^=down]`)))
	bt.Wait(t, teacher, "the down-weight", `document.querySelector('#rater_rows tr:first-child').textContent.includes('weight 50%')`, 10*time.Second)
	var q struct {
		Summary struct {
			GoldPairs int `json:"gold_pairs"`
			PerRater  []struct {
				Labels int      `json:"labels"`
				Gold   int      `json:"gold"`
				Rate   *float64 `json:"gold_agreement"`
				Weight float64  `json:"weight"`
			} `json:"per_rater"`
		} `json:"summary"`
	}
	srv.GetJSON(t, "/classroom/api/projects/"+pid+"/dashboard", &q)
	answeredGold, halved := 0, 0
	for _, r := range q.Summary.PerRater {
		if r.Gold > 0 && r.Rate != nil {
			answeredGold++
		}
		if r.Weight == 0.5 {
			halved++
		}
	}
	if q.Summary.GoldPairs != 1 || answeredGold < 2 || halved != 1 {
		t.Errorf("after marking gold pair %s and down-weighting a rater: %+v", goldPair, q.Summary)
	}

	// Demo raters from the dashboard, then a few trainer rounds: both curves of the
	// reward-hacking chart have points.
	bt.Do(t, teacher, chromedp.SetValue(chromedp.CSS(`#demo-n`), "3"), chromedp.SetValue(chromedp.CSS(`#demo-noise`), "0.1"),
		chromedp.Click(chromedp.CSS(`#demo`)))
	bt.Wait(t, teacher, "demo mode on", `document.getElementById('demo').textContent.startsWith('Stop demo')`, 10*time.Second)
	bt.Wait(t, teacher, "three policies with a checker score", `(() => {
		const svg = document.querySelector('#reward_hacking svg');
		if (!svg) return false;
		const ls = [...svg.querySelectorAll('polyline')].map(p => p.getAttribute('points').trim().split(/\s+/).length);
		return ls.length >= 2 && ls[0] >= 3 && ls[1] >= 3;
	})()`, 4*time.Minute)
	bt.Wait(t, teacher, "the policy's clip", `document.getElementById('clip').naturalWidth > 0`, 20*time.Second)
	// Trainer rounds go on while labels pause (trainer.Config.PausedSteps), so the chart can have
	// its points before the demo raters' first sync: wait for their labels rather than expect them.
	bt.Wait(t, teacher, "the demo raters' labels on the dashboard", `+document.getElementById('labels').textContent > 18`, 3*time.Minute)

	// The latest policy downloads as a file that prefer eval loads and scores with the checker.
	pol := srv.Get(t, "/classroom/api/projects/"+pid+"/policy")
	polFile := filepath.Join(t.TempDir(), "policy.bin")
	if err := os.WriteFile(polFile, pol, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bt.Binary(t), "eval", "--policy", polFile, "--env", "checker/"+task, "--episodes", "3", "--json").CombinedOutput()
	var ev struct {
		Episodes int      `json:"episodes"`
		Return   *float64 `json:"eval_return"`
	}
	if err != nil || json.Unmarshal(out, &ev) != nil || ev.Episodes != 3 || ev.Return == nil {
		t.Errorf("prefer eval of the downloaded policy: %v\n%s", err, out)
	} else {
		t.Logf("prefer eval --env checker/%s of the downloaded policy: %.3f", task, *ev.Return)
	}

	// Pause and resume from the dashboard.
	bt.Do(t, teacher, chromedp.Click(chromedp.CSS(`#pause`)))
	bt.Wait(t, teacher, "paused", `document.getElementById('pause').textContent === 'Resume training'`, 10*time.Second)
	var proj struct {
		Paused bool `json:"paused"`
	}
	srv.GetJSON(t, "/api/v1/projects/"+pid, &proj)
	if !proj.Paused {
		t.Error("the dashboard's pause did not pause the project")
	}
	bt.Do(t, teacher, chromedp.Click(chromedp.CSS(`#pause`)))
	bt.Wait(t, teacher, "resumed", `document.getElementById('pause').textContent === 'Pause training'`, 10*time.Second)

	// The printable report renders the charts.
	rep := srv.Get(t, "/classroom/report?project="+pid+"&token="+srv.TeacherToken)
	if !bytes.Contains(rep, []byte("<polyline")) || !bytes.Contains(rep, []byte("Fleiss")) {
		t.Errorf("the report has no chart or figures:\n%.400s", rep)
	}

	classroomScreenshots(t, teacher, "classroom-dashboard", "")
}

// classroomJoin opens a join link, enters a name and waits for the first pair.
func classroomJoin(t *testing.T, ctx context.Context, joinURL, name string) {
	t.Helper()
	bt.Do(t, ctx, chromedp.Navigate(joinURL))
	bt.Wait(t, ctx, "the join form", `!!document.getElementById('join-name')`, 30*time.Second)
	bt.Do(t, ctx, chromedp.SendKeys(chromedp.ID("join-name"), name),
		chromedp.Click(chromedp.CSS(`form.join button[type=submit]`)))
	bt.Wait(t, ctx, "the first pair", jsPairID+` !== ''`, 60*time.Second)
}

// classroomExport reads project pid's labels from the hub's JSONL export.
func classroomExport(t *testing.T, srv *bt.Server, pid string) []stats.Label {
	t.Helper()
	b := srv.Get(t, "/api/v1/projects/"+pid+"/export?format=jsonl")
	var out []stats.Label
	for _, line := range bytes.Split(b, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var r struct {
			RaterID string `json:"rater_id"`
			PairID  string `json:"pair_id"`
			Choice  string `json:"choice"`
		}
		if err := json.Unmarshal(line, &r); err != nil {
			t.Fatal(err)
		}
		out = append(out, stats.Label{Rater: r.RaterID, Item: r.PairID, Choice: prefs.Choice(r.Choice)})
	}
	return out
}

// teacherAPI sends a JSON request with the teacher token and fails the test unless it is a 2xx.
func teacherAPI(t *testing.T, srv *bt.Server, method, path, body string) {
	t.Helper()
	req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+srv.TeacherToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("%s %s: %s\n%s", method, path, resp.Status, b)
	}
}

// pctText and fixedText format as the dashboard does (Math.round(100 v) + "%", v.toFixed(d)).
func pctText(v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	return fmt.Sprintf("%d%%", int(math.Floor(100*v+0.5)))
}

func fixedText(v float64, d int) string {
	if math.IsNaN(v) {
		return "–"
	}
	return fmt.Sprintf("%.*f", d, v)
}

// classroomScreenshots saves the dashboard at a laptop's and a projector's size, as
// artifacts/NAME-WxH.png, scrolled to the element scrollTo (a CSS selector) unless it is "".
func classroomScreenshots(t *testing.T, ctx context.Context, name, scrollTo string) {
	t.Helper()
	if err := os.MkdirAll("artifacts", 0o755); err != nil {
		t.Fatal(err)
	}
	for _, s := range [][2]int64{{1280, 800}, {1920, 1080}} {
		bt.Do(t, ctx, chromedp.EmulateViewport(s[0], s[1], chromedp.EmulateScale(1)))
		if scrollTo != "" {
			bt.Do(t, ctx, chromedp.ScrollIntoView(chromedp.CSS(scrollTo)))
		}
		time.Sleep(2 * time.Second) // a poll at the new size
		b, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatal(err)
		}
		file := filepath.Join("artifacts", fmt.Sprintf("%s-%dx%d.png", name, s[0], s[1]))
		if err := os.WriteFile(file, b, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot %s", file)
	}
}
