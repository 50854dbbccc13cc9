package tests

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	bt "github.com/prefer-rlhf/prefer/tests/browsertest"
)

// TestClassroomDashboardText is the classroom on a text task (issue 13, item 4): on a hub
// started with a generated corpus and a small language model pretrained on it, the teacher
// picks TextPositive-v0 from the task list's text tasks and starts a session from the
// dashboard, switches demo raters on, and after a few trainer rounds the reward-hacking chart
// draws the gold and learned scores against KL in nats per continuation, and "the policy
// now" shows the held-out prompts continued by the reference and by the latest policy, as
// the policy-text endpoint serves them. Screenshots at 1280x800 and 1920x1080, and scrolled
// to "the policy now".
func TestClassroomDashboardText(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test; pretrains a small language model")
	}
	dir := t.TempDir()
	corpusPath, lmPath := filepath.Join(dir, "reviews.txt"), filepath.Join(dir, "lm.bin")
	reviewCorpus(t, corpusPath)
	if out, err := exec.Command(bt.Binary(t), "lm", "pretrain", "--corpus", corpusPath, "--steps", "150", "--out", lmPath).CombinedOutput(); err != nil {
		t.Fatalf("prefer lm pretrain: %v\n%s", err, out)
	}
	srv := bt.StartServer(t, "--corpus", corpusPath, "--lm", lmPath, "--round-interval", "1s", "--round-labels", "5")
	browser := bt.NewBrowser(t)
	teacher, _ := bt.NewTab(t, browser)
	bt.Do(t, teacher, chromedp.Navigate(srv.URL+"/teacher?token="+srv.TeacherToken))
	bt.Wait(t, teacher, "the dashboard", `document.getElementById('code').textContent.length === 6`, 30*time.Second)

	// The task list has both text tasks among its text group, available on this hub.
	got := bt.Eval[string](t, teacher, `[...document.querySelectorAll('#task optgroup[label="Text tasks"] option')].map(o => o.value + (o.textContent.includes('not on this server') ? '!' : '')).join(' ')`)
	if got != "TextPositive-v0 TextNoE-v0" {
		t.Fatalf("the task list's text tasks: %q", got)
	}
	const task = "TextPositive-v0"
	bt.Do(t, teacher, chromedp.SetValue(chromedp.CSS(`#task`), task), chromedp.Click(chromedp.CSS(`#new-session`)))
	bt.Wait(t, teacher, "the text session", fmt.Sprintf(`document.getElementById('env').textContent === %q`, task), 60*time.Second)
	pid := bt.Eval[string](t, teacher, `new URL(location.href).searchParams.get('project')`)
	// Short rounds: one PPO iteration each.
	teacherAPI(t, srv, "PATCH", "/api/v1/projects/"+pid+"/settings", `{"ppo_steps_per_round": 400, "pairs_per_round": 10}`)

	bt.Do(t, teacher, chromedp.SetValue(chromedp.CSS(`#demo-n`), "3"), chromedp.SetValue(chromedp.CSS(`#demo-noise`), "0"),
		chromedp.Click(chromedp.CSS(`#demo`)))
	bt.Wait(t, teacher, "demo mode on", `document.getElementById('demo').textContent.startsWith('Stop demo')`, 10*time.Second)
	// Three policies: the reference (version 1) and two tuned ones, with gold and learned scores.
	bt.Wait(t, teacher, "three policies on the chart", `(() => {
		const svg = document.querySelector('#reward_hacking svg');
		if (!svg) return false;
		const ls = [...svg.querySelectorAll('polyline')].map(p => p.getAttribute('points').trim().split(/\s+/).length);
		return ls.length >= 2 && ls[0] >= 3 && ls[1] >= 3;
	})()`, 5*time.Minute)
	chart := bt.Eval[string](t, teacher, `document.getElementById('reward_hacking').innerHTML`)
	for _, want := range []string{"KL from the reference (nats per continuation)", "gold score (now", "learned score (now", "d = √KL from the reference"} {
		if !strings.Contains(chart, want) {
			t.Errorf("the chart lacks %q", want)
		}
	}

	// The policy now: the table of continuations is the latest policy's, as the API serves it.
	bt.Wait(t, teacher, "the continuations of a tuned policy", `!document.getElementById('textnow').hidden &&
		document.querySelectorAll('#textnow_rows tr:not(.mean)').length === 3 && !document.getElementById('textnow_after').textContent.includes('reference')`, 60*time.Second)
	// Training paused (a round under way may still publish), the page catches up with the
	// latest version, and shows what the API serves for it.
	bt.Do(t, teacher, chromedp.Click(chromedp.CSS(`#pause`)))
	bt.Wait(t, teacher, "paused", `document.getElementById('pause').textContent === 'Resume training'`, 10*time.Second)
	var pt struct {
		Version       int `json:"version"`
		Continuations []struct {
			Prompt, Before, After string
		} `json:"continuations"`
	}
	var shown string
	for deadline := time.Now().Add(90 * time.Second); time.Now().Before(deadline); time.Sleep(time.Second) {
		srv.GetJSON(t, "/classroom/api/projects/"+pid+"/policy-text", &pt)
		if shown = bt.Eval[string](t, teacher, `document.getElementById('textnow_after').textContent`); strings.Contains(shown, fmt.Sprintf("(version %d)", pt.Version)) {
			break
		}
	}
	row := bt.Eval[[]string](t, teacher, `[...document.querySelectorAll('#textnow_rows tr:first-child td')].map(td => td.firstChild.textContent)`)
	if pt.Version < 2 || len(pt.Continuations) != 3 || !strings.Contains(shown, fmt.Sprintf("(version %d)", pt.Version)) {
		t.Errorf("policy-text version %d, %d continuations; the page shows %q", pt.Version, len(pt.Continuations), shown)
	} else if len(row) != 3 || row[0] != pt.Continuations[0].Prompt+" …" || row[1] != pt.Continuations[0].Before || row[2] != pt.Continuations[0].After {
		t.Errorf("the page's first row %q, the API's %+v", row, pt.Continuations[0])
	}
	if bt.Eval[bool](t, teacher, `!document.getElementById('clip').hidden`) {
		t.Error("a text project shows a clip")
	}
	t.Logf("policy %d continues %q: before %q, after %q", pt.Version, pt.Continuations[0].Prompt, pt.Continuations[0].Before, pt.Continuations[0].After)
	classroomScreenshots(t, teacher, "classroom-dashboard-text", "")
	// At a laptop's size "the policy now" is below the fold.
	classroomScreenshots(t, teacher, "classroom-dashboard-text-policy", ".clipcard")
}
