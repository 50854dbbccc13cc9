package tests

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	bt "github.com/prefer-rlhf/prefer/tests/browsertest"
	"github.com/prefer-rlhf/prefer/tests/worker"
)

// TestMain removes the Worker build and the prefer binary that tests/worker made, if any.
func TestMain(m *testing.M) {
	code := m.Run()
	worker.RemoveBuild()
	os.Exit(code)
}

// TestWorkerBrowser is the browser app's first scenario (join with the join link, label 20
// pairs with the keyboard, every label arrives exactly once) against the Cloudflare Worker
// under wrangler dev --local, which serves the app same-origin, with `prefer trainer --once`
// producing the pairs from outside, as it does for a deployed Worker (issue 6).
func TestWorkerBrowser(t *testing.T) {
	s := worker.Start(t, nil)
	p := workerProject(t, s, nil)

	ctx := bt.NewBrowser(t)
	joinAt(t, ctx, s.URL+"/join?code="+url.QueryEscape(p.JoinCode), p.JoinCode, "Ada")
	got := map[string]string{}
	labelWithKeys(t, ctx, 20, 0, got)
	bt.Wait(t, ctx, "every label stored and synced", jsStored+` === '20' && `+jsPending+` === '0'`, 30*time.Second)
	if txt := bt.Eval[string](t, ctx, `document.getElementById('pending').textContent`); !strings.Contains(txt, "0 labels waiting") {
		t.Errorf("status says %q, want 0 labels waiting", txt)
	}

	// The Worker's export holds exactly those 20 choices, each once.
	var raw []byte
	workerDo(t, s, "GET", "/api/v1/projects/"+p.ID+"/export?format=jsonl", nil, http.StatusOK, &raw)
	var cs []bt.Comparison
	for _, line := range bytes.Split(raw, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var c bt.Comparison
		if err := json.Unmarshal(line, &c); err != nil {
			t.Fatalf("export line %q: %v", line, err)
		}
		cs = append(cs, c)
	}
	checkComparisons(t, cs, got)
	t.Logf("the Worker holds the 20 labels once each, with the rater's choices")
}

// TestWorkerCrowdRater is TestCrowdRater's crowd rater on the Cloudflare Worker under wrangler
// dev --local: participant link, instructions, the cap, the completion link, the participant
// on every exported label and the rater's time, as on `prefer serve`.
func TestWorkerCrowdRater(t *testing.T) {
	s := worker.Start(t, nil)
	p := workerProject(t, s, crowdSettings)
	crowdRater(t, s.URL, s.TeacherToken, p.ID, p.JoinCode, false)
}

// workerProject creates a CartPole project on the Worker with the teacher token, as a
// teacher's dashboard does, with settings on top of short rounds, and runs the remote trainer's
// first round, which publishes a model and 30 pairs (more than a test labels, since each
// answer must bring the next pair).
func workerProject(t *testing.T, s *worker.Server, settings map[string]any) (p struct {
	ID       string `json:"id"`
	JoinCode string `json:"join_code"`
}) {
	t.Helper()
	body := map[string]any{"env": "CartPole-v1", "ppo_steps_per_round": 4096, "pairs_per_round": 30}
	for k, v := range settings {
		body[k] = v
	}
	workerDo(t, s, "POST", "/api/v1/projects", body, http.StatusCreated, &p)
	if p.ID == "" || p.JoinCode == "" {
		t.Fatalf("the new project has id %q and join code %q", p.ID, p.JoinCode)
	}
	bin, err := worker.PreferBin()
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "trainer", "--hub", s.URL, "--token", s.TeacherToken, "--once",
		"--round-labels", "10", "--round-interval", "0").CombinedOutput()
	if err != nil {
		t.Fatalf("prefer trainer: %v\n%s", err, out)
	}
	return p
}

// joinAt opens joinURL, checks that the join form has code filled in, joins as name and waits
// for the first pair. It is joinWithLink for a hub that is not a *bt.Server.
func joinAt(t *testing.T, ctx context.Context, joinURL, code, name string) {
	t.Helper()
	bt.Do(t, ctx, chromedp.Navigate(joinURL))
	bt.Wait(t, ctx, "the join form", `!!document.getElementById('join-name')`, 30*time.Second)
	if got := bt.Eval[string](t, ctx, `document.getElementById('join-code').value`); got != code {
		t.Fatalf("the join link's code is not prefilled: %q, want %q", got, code)
	}
	bt.Do(t, ctx, chromedp.SendKeys(chromedp.ID("join-name"), name),
		chromedp.Click(chromedp.CSS(`form.join button[type=submit]`)))
	bt.Wait(t, ctx, "the first pair", jsPairID+` !== ''`, 30*time.Second)
}

// checkComparisons asserts that cs are exactly the choices in want (pair id -> choice), no
// comparison or pair twice.
func checkComparisons(t *testing.T, cs []bt.Comparison, want map[string]string) {
	t.Helper()
	ids := map[string]bool{}
	pairs := map[string]string{}
	for _, c := range cs {
		if ids[c.ID] {
			t.Errorf("comparison %s stored twice", c.ID)
		}
		ids[c.ID] = true
		if _, dup := pairs[c.PairID]; dup {
			t.Errorf("pair %s answered twice", c.PairID)
		}
		pairs[c.PairID] = c.Choice
	}
	if len(cs) != len(want) {
		t.Fatalf("the hub holds %d comparisons, want %d", len(cs), len(want))
	}
	for id, ch := range want {
		if pairs[id] != ch {
			t.Errorf("pair %s: the hub holds %q, the rater chose %q", id, pairs[id], ch)
		}
	}
}

// workerDo sends a request with the teacher token (body as JSON when not nil), fails the test
// unless the status is want, and decodes the answer into out: raw bytes into a *[]byte, JSON
// otherwise.
func workerDo(t *testing.T, s *worker.Server, method, path string, body any, want int, out any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, s.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+s.TeacherToken)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := (&http.Client{Timeout: 60 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != want {
		t.Fatalf("%s %s: %s, want %d\n%s", method, path, res.Status, want, b)
	}
	if raw, ok := out.(*[]byte); ok {
		*raw = b
		return
	}
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatalf("%s %s: %v\n%s", method, path, err, b)
	}
}
