package tests

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/prefer-rlhf/prefer/core/prefs"
	"github.com/prefer-rlhf/prefer/core/text"
	"github.com/prefer-rlhf/prefer/core/wire"
	"github.com/prefer-rlhf/prefer/server/hub"
	"github.com/prefer-rlhf/prefer/server/store"
	bt "github.com/prefer-rlhf/prefer/tests/browsertest"
)

// textSides are continuations the test publishes; one holds markup, which must show as text.
var textSides = []string{
	" was good <b>bold</b> & fine, and our", " was awful and boring again, and the",
	" was great and lovely today, and the", " was terrible as usual, and the plot",
}

// publishTextPairs publishes n pairs of continuations of the corpus's prompts through the
// trainer API, as the hub's trainer does: clips whose start state is the prompt's tokens then
// one -1 per continuation token, and whose actions are the continuation's tokens. It returns
// the prompt and each pair's continuations as text.
func publishTextPairs(t *testing.T, api interface {
	PublishRound(context.Context, *store.Round) error
}, pid string, b wire.TextBundle, n int) (string, map[string][2]string) {
	t.Helper()
	tok, err := text.LoadBPE(b.Tokenizer)
	if err != nil {
		t.Fatal(err)
	}
	prompt := tok.Encode("The food we tried in town was great and")[:b.PromptTokens]
	texts := map[string][2]string{}
	clip := func(id, s string) prefs.Clip {
		c := prefs.Clip{ID: id, Env: b.Env}
		for _, v := range prompt {
			c.StartState = append(c.StartState, float64(v))
		}
		ids := tok.Encode(strings.Repeat(s, 3))[:b.Length]
		for _, v := range ids {
			c.StartState = append(c.StartState, -1)
			c.Actions = append(c.Actions, []float64{float64(v)})
		}
		return c
	}
	decode := func(c prefs.Clip) string {
		var ids []int
		for _, a := range c.Actions {
			ids = append(ids, int(a[0]))
		}
		return tok.Decode(ids)
	}
	r := &store.Round{ProjectID: pid, Round: 1}
	for i := 0; i < n; i++ {
		l, rt := clip(prefs.NewUUID(time.Now()), textSides[i%len(textSides)]), clip(prefs.NewUUID(time.Now()), textSides[(i+1)%len(textSides)])
		id := prefs.NewUUID(time.Now())
		r.Clips = append(r.Clips, l, rt)
		r.Pairs = append(r.Pairs, store.NewPair{ID: id, Left: l.ID, Right: rt.ID, Priority: float64(n - i)})
		texts[id] = [2]string{decode(l), decode(rt)}
	}
	if err := api.PublishRound(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	return tok.Decode(prompt), texts
}

// waitAcrossReload is bt.Wait for a page that may navigate meanwhile.
func waitAcrossReload(t *testing.T, ctx context.Context, what, expr string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
		if err == nil && ok {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	state, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`localStorage.getItem('prefer-app') + ' | ' + location.href + ' | ' + document.body.innerText`))
	t.Fatalf("waiting %v for %s (%s); the page: %s", timeout, what, expr, state)
}

// jsText is the text labeller's reading of the pair on screen.
const jsText = `[...document.querySelectorAll('.prompt, #text-left, #text-right')].map(e => e.textContent)`

// TestBrowserClassOfThree is issue 13's "Class of three": a teacher creates a TextPositive-v0
// project on a hub started with --corpus (a small generated corpus); text pairs are published
// through the trainer API; three students each join in a browser of their own and label 10
// pairs with the keyboard. The app for clip projects switches itself to the text build on the
// first text pair. The third student goes offline after 4 labels, labels 6 more, reloads the
// page offline (the service worker serves the text build, IndexedDB the tokenizer and the
// pairs) and syncs once back online. The native export then holds exactly the 30 labels, each
// once, and the TRL export one line per left or right choice (prompt, chosen, rejected as
// chosen). Screenshots of the text labeller are saved at phone and laptop sizes.
func TestBrowserClassOfThree(t *testing.T) {
	_, srv, api, pid, code, bundle := startTextProject(t)
	prompt, texts := publishTextPairs(t, api, pid, bundle, 40)
	link := srv.URL + "/join?code=" + code

	students := []map[string]string{{}, {}, {}}
	for s, name := range []string{"Ada", "Grace", "Edsger"} {
		ctx := bt.NewBrowser(t)
		bt.Do(t, ctx, chromedp.Navigate(link))
		bt.Wait(t, ctx, "the join form", `!!document.getElementById('join-name')`, 30*time.Second)
		bt.Do(t, ctx, chromedp.SendKeys(chromedp.ID("join-name"), name), chromedp.Click(chromedp.CSS(`form.join button[type=submit]`)))
		// The page reloads itself into the text build on the first text pair.
		waitAcrossReload(t, ctx, "the text build", `localStorage.getItem('prefer-app') === 'text' && !!document.getElementById('text-left') && (`+jsPairID+`) !== ''`, 60*time.Second)
		shown := bt.Eval[[]string](t, ctx, jsText)
		if len(shown) != 3 || !strings.Contains(shown[0], "The food we tried") || !strings.HasPrefix(shown[1], "…") {
			t.Fatalf("%s reads %q", name, shown)
		}
		if s == 0 {
			if goal := bt.Eval[string](t, ctx, `document.querySelector('.prompt').dataset.goal`); !strings.Contains(goal, bundle.Instructions) {
				t.Errorf("the task reads %q", goal)
			}
			screenshots(t, ctx, "text-labeller")
			// Markup in a continuation is text, never HTML.
			if !bt.Eval[bool](t, ctx, `document.getElementById('text-left').textContent.includes('<b>bold') && !document.querySelector('.cont b')`) {
				t.Error("markup in a continuation did not show as text")
			}
		}
		if s < 2 {
			labelWithKeys(t, ctx, 10, s, students[s])
			bt.Wait(t, ctx, "every label synced", jsStored+` === '10' && `+jsPending+` === '0'`, 30*time.Second)
			// The local text reward model fits in the text build's worker.
			bt.Wait(t, ctx, "the local model's fit", `/^fitted on \d+ labels/.test(document.getElementById('model-labels').textContent)`, 60*time.Second)
			if s == 0 {
				// Its prediction for the last pair names the words that moved it.
				bt.Wait(t, ctx, "the marked words", `(document.querySelector('.pred') || {}).textContent?.includes('Words that moved it: “')`, 30*time.Second)
				t.Logf("model panel: %s", bt.Eval[string](t, ctx, `document.querySelector('.answer').textContent`))
			}
			continue
		}
		labelWithKeys(t, ctx, 4, s, students[s])
		bt.Wait(t, ctx, "4 labels synced", jsStored+` === '4' && `+jsPending+` === '0'`, 30*time.Second)
		bt.WaitServiceWorker(t, ctx)
		bt.SetOffline(t, ctx, true)
		bt.Wait(t, ctx, "the offline status", `document.getElementById('net').textContent.includes('Offline')`, 10*time.Second)
		labelWithKeys(t, ctx, 3, s+4, students[s])
		start := time.Now()
		bt.Do(t, ctx, chromedp.Reload())
		bt.Wait(t, ctx, "the text labeller, offline", `!!document.getElementById('text-left') && (`+jsPairID+`) !== ''`, 30*time.Second)
		t.Logf("a returning rater offline: a text pair on screen %v after the reload (a noisy figure on a shared machine)", time.Since(start).Round(time.Millisecond))
		// A page started offline says so, with no offline event to hear.
		bt.Wait(t, ctx, "the offline status after the reload", `document.getElementById('net').textContent.includes('Offline')`, 10*time.Second)
		if bt.Eval[[]string](t, ctx, jsText)[0] == "" {
			t.Fatal("the offline reload shows no prompt")
		}
		labelWithKeys(t, ctx, 3, s+7, students[s])
		bt.Wait(t, ctx, "6 labels waiting", jsPending+` === '6'`, 10*time.Second)
		bt.SetOffline(t, ctx, false)
		bt.Wait(t, ctx, "every label synced", jsStored+` === '10' && `+jsPending+` === '0'`, 60*time.Second)
	}

	// The native export: 30 comparisons, each once, 10 per student with their choices.
	raw := bt.Get(t, srv.URL, srv.TeacherToken, "/api/v1/projects/"+pid+"/export?format=jsonl")
	byRater := map[string][]bt.Comparison{}
	seen := map[string]bool{}
	n := 0
	for _, line := range bytes.Split(raw, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var c bt.Comparison
		if err := json.Unmarshal(line, &c); err != nil {
			t.Fatal(err)
		}
		if seen[c.ID] {
			t.Errorf("comparison %s exported twice", c.ID)
		}
		seen[c.ID] = true
		byRater[c.RaterID] = append(byRater[c.RaterID], c)
		n++
	}
	if n != 30 || len(byRater) != 3 {
		t.Fatalf("the export holds %d comparisons from %d raters, want 30 from 3", n, len(byRater))
	}
	matched := map[int]bool{}
	for rater, cs := range byRater {
		found := false
		for s, want := range students {
			got := map[string]string{}
			for _, c := range cs {
				got[c.PairID] = c.Choice
			}
			if !matched[s] && fmt.Sprint(got) == fmt.Sprint(want) && len(cs) == len(want) {
				matched[s], found = true, true
				break
			}
		}
		if !found {
			t.Errorf("rater %s's %d exported labels are no student's choices", rater, len(cs))
		}
	}

	// The TRL export: one line per left or right choice, chosen and rejected as chosen.
	var want, got []string
	for _, st := range students {
		for pair, ch := range st {
			tx := texts[pair]
			switch ch {
			case "left":
				want = append(want, tx[0]+" ≻ "+tx[1])
			case "right":
				want = append(want, tx[1]+" ≻ "+tx[0])
			}
		}
	}
	raw = bt.Get(t, srv.URL, srv.TeacherToken, "/api/v1/projects/"+pid+"/export?format=trl")
	for _, line := range bytes.Split(raw, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var rec struct{ Prompt, Chosen, Rejected string }
		if err := json.Unmarshal(line, &rec); err != nil || rec.Prompt != prompt {
			t.Fatalf("TRL line %s: %v (prompt want %q)", line, err, prompt)
		}
		got = append(got, rec.Chosen+" ≻ "+rec.Rejected)
	}
	sort.Strings(want)
	sort.Strings(got)
	if len(want) == 0 || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("the TRL export has %d lines %q, want %d %q", len(got), got, len(want), want)
	}
}

// startTextProject starts a hub without a trainer on a generated review corpus (the file
// corpus, in a fresh directory) and creates a TextPositive-v0 project: its id, join code and
// text bundle.
func startTextProject(t *testing.T) (corpus string, srv *bt.Server, api *hub.Client, pid, code string, bundle wire.TextBundle) {
	corpus = filepath.Join(t.TempDir(), "reviews.txt")
	reviewCorpus(t, corpus)
	srv = bt.StartServer(t, "--corpus", corpus, "--no-trainer")
	api = newHubClient().api(srv.URL, srv.TeacherToken)
	pid, code, err := api.CreateProject(context.Background(), "TextPositive-v0", nil)
	if err != nil {
		t.Fatal(err)
	}
	srv.GetJSON(t, "/api/v1/projects/"+pid+"/text", &bundle)
	return corpus, srv, api, pid, code, bundle
}
