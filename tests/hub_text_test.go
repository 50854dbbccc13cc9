package tests

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prefer-rlhf/prefer/core/prefs"
	"github.com/prefer-rlhf/prefer/core/text"
	"github.com/prefer-rlhf/prefer/core/wire"
)

// reviewCorpus writes a generated corpus of review sentences, half praising and half panning
// with words VADER scores (great, awful, ...), long enough for prompts of 5 tokens: the test
// needs no download.
func reviewCorpus(t *testing.T, path string) {
	t.Helper()
	r := rand.New(rand.NewPCG(11, 0))
	subj := []string{"The film", "This phone", "The food", "Our waiter", "The plot", "This place", "The service", "My room"}
	pos := []string{"great", "good", "lovely", "excellent", "wonderful"}
	neg := []string{"bad", "awful", "boring", "terrible", "poor"}
	extra := []string{"today", "again", "for sure", "as usual", "this time", "at night"}
	pick := func(s []string) string { return s[r.IntN(len(s))] }
	var b strings.Builder
	for range 2000 {
		adj := pos
		if r.IntN(2) == 0 {
			adj = neg
		}
		fmt.Fprintf(&b, "%s we tried in town was %s and %s %s, and %s was %s.\n",
			pick(subj), pick(adj), pick(adj), pick(extra), strings.ToLower(pick(subj)), pick(adj))
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestHubLearnsText is issue 13's "Learning through the API": `prefer serve --demo-raters 10
// --demo-env TextPositive-v0` on a generated corpus and a small model pretrained on it makes
// the hub's trainer publish policies whose gold score (VADER sentiment of their continuations
// of held-out prompts, the history's true_return) beats the reference's, published as policy
// 1, by a clear margin, with a KL from it; the text bundle serves the tokenizer the clips use.
func TestHubLearnsText(t *testing.T) {
	if testing.Short() {
		t.Skip("pretrains a small language model and tunes it")
	}
	// The verdict is taken within a number of published policies, not a time: a loaded machine
	// makes rounds slower, not fewer. hang only stops a run that has stopped publishing.
	const (
		policies  = 30 // about three times what runs take
		hang      = 12 * time.Minute
		margin    = 0.3 // gold (VADER compound, in [-1, 1]): the reference is near 0, tuned policies reach 0.7-0.85
		minLabels = 100
	)
	dir := t.TempDir()
	corpusPath, lmPath := filepath.Join(dir, "reviews.txt"), filepath.Join(dir, "lm.bin")
	reviewCorpus(t, corpusPath)
	if out, err := exec.Command(hubBinary(t), "lm", "pretrain", "--corpus", corpusPath, "--steps", "150", "--out", lmPath).CombinedOutput(); err != nil {
		t.Fatalf("prefer lm pretrain: %v\n%s", err, out)
	}
	h := startHub(t, filepath.Join(dir, "text.db"), "--corpus", corpusPath, "--lm", lmPath,
		"--demo-raters", "10", "--demo-env", "TextPositive-v0", "--round-interval", "2s", "--round-labels", "20")
	c := newHubClient()
	var ps struct {
		Projects []struct {
			ID  string `json:"id"`
			Env string `json:"env"`
		} `json:"projects"`
	}
	if err := c.call("GET", h.base+"/api/v1/projects", h.teacher, nil, &ps); err != nil || len(ps.Projects) != 1 || ps.Projects[0].Env != "TextPositive-v0" {
		t.Fatalf("projects %+v: %v", ps, err)
	}
	pid := ps.Projects[0].ID
	// Shorter rounds than the default, so that the loop turns quickly.
	if err := c.call("PATCH", h.base+"/api/v1/projects/"+pid+"/settings", h.teacher, map[string]any{"ppo_steps_per_round": 8000}, nil); err != nil {
		t.Fatal(err)
	}
	var bundle wire.TextBundle
	if err := c.call("GET", h.base+"/api/v1/projects/"+pid+"/text", h.teacher, nil, &bundle); err != nil {
		t.Fatal(err)
	}
	tok, err := text.LoadBPE(bundle.Tokenizer)
	if err != nil || bundle.Length != 12 || bundle.PromptTokens != 5 {
		t.Fatalf("text bundle %d prompt tokens, length %d: %v", bundle.PromptTokens, bundle.Length, err)
	}

	type point struct {
		Version       int      `json:"version"`
		TrueReturn    *float64 `json:"true_return"`
		LearnedReturn *float64 `json:"learned_return"`
		Labels        int      `json:"labels"`
	}
	start := time.Now()
	var hist []point
	seen := 0
	learned := func() bool {
		n := len(hist)
		return n >= 3 && hist[n-1].Labels >= minLabels && hist[0].Labels == 0 &&
			deref(hist[n-1].TrueReturn) > deref(hist[0].TrueReturn)+margin && deref(hist[n-2].TrueReturn) > deref(hist[0].TrueReturn)+margin
	}
	for time.Since(start) < hang && len(hist) < policies && !learned() {
		time.Sleep(3 * time.Second)
		var p struct {
			History []point `json:"history"`
		}
		if err := c.call("GET", h.base+"/api/v1/projects/"+pid, h.teacher, nil, &p); err != nil {
			t.Fatal(err)
		}
		hist = p.History
		for _, pt := range hist[min(seen, len(hist)):] {
			t.Logf("%5.0fs: policy %d gold %.3f learned %.3f labels %d", time.Since(start).Seconds(), pt.Version,
				deref(pt.TrueReturn), deref(pt.LearnedReturn), pt.Labels)
		}
		seen = len(hist)
	}
	if !learned() {
		t.Fatalf("no two policies in a row on %d labels or more with a gold score %.2f above the reference's in %d policies (%v):\n%s",
			minLabels, margin, len(hist), time.Since(start).Round(time.Second), h.stderr)
	}

	// The pairs are text clips the bundle's tokenizer decodes.
	j, err := c.join(h.base, h.code, "reader")
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.api(h.base, j.Token).Sync(t.Context(), j.ProjectID, wire.SyncRequest[prefs.Comparison]{WantPairs: 2})
	if err != nil || len(res.Pairs) == 0 {
		t.Fatalf("sync: %d pairs, %v", len(res.Pairs), err)
	}
	l := res.Pairs[0].Left
	if len(l.StartState) != bundle.PromptTokens+bundle.Length || len(l.Actions) != bundle.Length {
		t.Fatalf("clip of %d state numbers and %d actions", len(l.StartState), len(l.Actions))
	}
	ids := make([]int, len(l.Actions))
	for i, a := range l.Actions {
		ids[i] = int(a[0])
	}
	t.Logf("a continuation: %q", tok.Decode(ids))
}
