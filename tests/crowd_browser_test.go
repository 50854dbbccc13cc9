package tests

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	bt "github.com/prefer-rlhf/prefer/tests/browsertest"
)

// The crowd study of TestCrowdRater and TestWorkerCrowdRater: a cap of crowdQuota labels,
// instructions of two paragraphs, and a completion link.
const (
	crowdQuota      = 6
	crowdCompletion = "https://app.prolific.com/submissions/complete?cc=PREFER1"
	crowdFirst      = "Compare the two clips and pick the one where the pole stays upright longer."
)

// crowdSettings are the study's project settings.
var crowdSettings = map[string]any{"max_labels_per_rater": crowdQuota, "completion_url": crowdCompletion,
	"instructions": crowdFirst + "\n\nUse the arrow keys: left or right for the better clip, up if both are equally good, down if you cannot tell."}

// TestCrowdRater is issue 10's crowd acceptance on `prefer serve`: a rater arrives through
// /join?code=C&PROLIFIC_PID=abc, joins with no name, reads the instructions, labels up to the
// project's cap with the keyboard (the help key shows the instructions again on the way), and
// sees the thank-you screen with the completion link; a reload and the same link again keep
// the same rater. The JSONL and CSV exports carry participant "abc" on each label, and the
// raters API and the teacher's dashboard report the rater's labels and time. Screenshots of the instructions and the
// thank-you screen go to tests/artifacts.
func TestCrowdRater(t *testing.T) {
	srv := bt.StartServer(t)
	b, _ := json.Marshal(crowdSettings)
	teacherAPI(t, srv, "PATCH", "/api/v1/projects/"+srv.ProjectID+"/settings", string(b))
	u, err := url.Parse(srv.JoinURL)
	if err != nil {
		t.Fatal(err)
	}
	crowdRater(t, srv.URL, srv.TeacherToken, srv.ProjectID, u.Query().Get("code"), true)
}

// crowdRater runs the crowd rater's path on the hub at base, whose project pid (join code
// code) has crowdSettings, and checks the exports and the raters API with the teacher token.
func crowdRater(t *testing.T, base, token, pid, code string, shots bool) {
	link := base + "/join?code=" + url.QueryEscape(code) + "&PROLIFIC_PID=abc"

	ctx := bt.NewBrowser(t)
	bt.Do(t, ctx, chromedp.Navigate(link))
	bt.Wait(t, ctx, "the instructions", `!!document.getElementById('instructions')`, 30*time.Second)
	if n := bt.Eval[int](t, ctx, `document.querySelectorAll('#join-name').length`); n != 0 {
		t.Error("a rater with a participant id was asked for a name")
	}
	paras := bt.Eval[[]string](t, ctx, `[...document.querySelectorAll('#instructions p')].map(p => p.textContent)`)
	if len(paras) != 2 || paras[0] != crowdFirst {
		t.Fatalf("the instructions show %q", paras)
	}
	if shots {
		screenshots(t, ctx, "instructions")
	}
	bt.Do(t, ctx, chromedp.KeyEvent(kb.ArrowLeft))
	if bt.Eval[string](t, ctx, jsStored) != "0" {
		t.Fatal("an arrow key answered a pair behind the instructions")
	}
	// Start has the focus: Enter starts, so the rater needs no mouse at all.
	bt.Do(t, ctx, chromedp.KeyEvent(kb.Enter))

	got := map[string]string{}
	for i := 0; i < crowdQuota; i++ {
		bt.Wait(t, ctx, "a pair", jsPairID+` !== ''`, 30*time.Second)
		if i == 2 { // the help key opens the instructions and closes them again
			bt.Do(t, ctx, chromedp.KeyEvent("h"))
			bt.Wait(t, ctx, "the instructions again", `!!document.getElementById('instructions')`, 5*time.Second)
			bt.Do(t, ctx, chromedp.KeyEvent("h"))
			bt.Wait(t, ctx, "the pair again", jsPairID+` !== ''`, 5*time.Second)
		}
		id := bt.Eval[string](t, ctx, jsPairID)
		if _, dup := got[id]; dup {
			t.Fatalf("pair %s was shown twice", id)
		}
		bt.Do(t, ctx, chromedp.KeyEvent(arrowKeys[i%4]))
		got[id] = choices[i%4]
		if i < crowdQuota-1 {
			bt.Wait(t, ctx, "the next pair", fmt.Sprintf(`%s !== '' && %s !== %q`, jsPairID, jsPairID, id), 5*time.Second)
		}
	}
	bt.Wait(t, ctx, "the completion link", `!!document.getElementById('complete')`, 30*time.Second)
	if href := bt.Eval[string](t, ctx, `document.getElementById('complete').href`); href != crowdCompletion {
		t.Errorf("the completion link goes to %q, want %q", href, crowdCompletion)
	}
	if n := bt.Eval[int](t, ctx, `document.querySelectorAll('.labeller').length`); n != 0 {
		t.Error("pairs are still offered at the cap")
	}
	if shots {
		screenshots(t, ctx, "thank-you")
	}

	// A reload, and the same link again, keep the rater at the cap: no second join, no pair.
	bt.Do(t, ctx, chromedp.Reload())
	bt.Wait(t, ctx, "the thank-you screen after a reload", `!!document.getElementById('complete')`, 30*time.Second)
	bt.Do(t, ctx, chromedp.Navigate(link))
	bt.Wait(t, ctx, "the thank-you screen from the link again", `!!document.getElementById('complete')`, 30*time.Second)

	// Every exported label carries the participant id.
	jsonl := bt.Get(t, base, token, "/api/v1/projects/"+pid+"/export?format=jsonl")
	var cs []bt.Comparison
	for _, line := range bytes.Split(jsonl, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var l struct {
			bt.Comparison
			Participant string `json:"participant"`
		}
		if err := json.Unmarshal(line, &l); err != nil || l.Participant != "abc" {
			t.Errorf("JSONL export line without participant abc (%v): %s", err, line)
		}
		cs = append(cs, l.Comparison)
	}
	checkComparisons(t, cs, got)
	rows, err := csv.NewReader(bytes.NewReader(bt.Get(t, base, token, "/api/v1/projects/"+pid+"/export?format=csv"))).ReadAll()
	if err != nil || len(rows) != crowdQuota+1 {
		t.Fatalf("CSV export: %d rows (%v), want a header and %d", len(rows), err, crowdQuota)
	}
	col := slices.Index(rows[0], "participant")
	if col < 0 {
		t.Fatalf("the CSV export has no participant column: %q", rows[0])
	}
	for _, r := range rows[1:] {
		if r[col] != "abc" {
			t.Errorf("CSV row with participant %q: %q", r[col], r)
		}
	}

	// The raters API: one rater, participant abc, its labels and its time.
	var raters struct {
		Raters []struct {
			Participant   string   `json:"participant"`
			Labels        int      `json:"labels"`
			ActiveMinutes *float64 `json:"active_minutes"`
			MedianSeconds *float64 `json:"median_seconds_per_label"`
		} `json:"raters"`
	}
	if err := json.Unmarshal(bt.Get(t, base, token, "/api/v1/projects/"+pid+"/raters"), &raters); err != nil {
		t.Fatalf("the raters API: %v", err)
	}
	if len(raters.Raters) != 1 {
		t.Fatalf("%d raters, want 1 (the same participant joined twice)", len(raters.Raters))
	}
	r := raters.Raters[0]
	if r.Participant != "abc" || r.Labels != crowdQuota || r.ActiveMinutes == nil || *r.ActiveMinutes <= 0 ||
		r.MedianSeconds == nil || *r.MedianSeconds <= 0 {
		t.Errorf("the raters API says %+v", r)
	} else {
		t.Logf("rater abc: %d labels, %.3f active minutes, median %.2f s per label", r.Labels, *r.ActiveMinutes, *r.MedianSeconds)
	}

	// The teacher's dashboard, and its data, show the participant and the time.
	var dash struct {
		Summary struct {
			PerRater []struct {
				Participant   string   `json:"participant"`
				ActiveMinutes float64  `json:"active_minutes"`
				MedianSeconds *float64 `json:"median_seconds_per_label"`
			} `json:"per_rater"`
		} `json:"summary"`
	}
	if err := json.Unmarshal(bt.Get(t, base, token, "/classroom/api/projects/"+pid+"/dashboard"), &dash); err != nil {
		t.Fatalf("the dashboard's data: %v", err)
	}
	if pr := dash.Summary.PerRater; len(pr) != 1 || pr[0].Participant != "abc" || pr[0].ActiveMinutes <= 0 ||
		pr[0].MedianSeconds == nil || *pr[0].MedianSeconds <= 0 {
		t.Errorf("the dashboard's data per rater: %+v", pr)
	}
	teacher, _ := bt.NewTab(t, ctx)
	bt.Do(t, teacher, chromedp.Navigate(base+"/classroom/?project="+url.QueryEscape(pid)+"&token="+url.QueryEscape(token)))
	bt.Wait(t, teacher, "the rater's row", `!!document.querySelector('#rater_rows tr')`, 30*time.Second)
	cells := bt.Eval[[]string](t, teacher, `[...document.querySelector('#rater_rows tr').children].slice(-3).map(td => td.textContent)`)
	if len(cells) != 3 || cells[0] != "abc" || cells[1] == "–" || cells[2] == "–" || cells[2] == "" {
		t.Errorf("the dashboard's rater row ends with %q, want participant abc, active minutes and median seconds", cells)
	}
}
