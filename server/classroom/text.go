package classroom

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"

	"github.com/prefer-rlhf/prefer/core/jsonnum"
	"github.com/prefer-rlhf/prefer/core/lm"
	"github.com/prefer-rlhf/prefer/core/text"
	"github.com/prefer-rlhf/prefer/server/hub"
)

// Text projects (issue 13) in the classroom: the task list's text tasks, and "the policy now"
// as continuations of fixed held-out prompts, the reference's beside the current policy's.

// TextSource gives the server's text world and the reference language model its trainer tunes,
// loading them on the first call (prefer serve passes the trainer's own loader,
// server/langmodel.Loader, so the model is loaded once for both).
type TextSource func() (*text.World, *lm.Model, error)

// TextPrompts is how many held-out prompts "the policy now" continues for a text project.
const TextPrompts = 3

// textSeed seeds the sampler of "the policy now": one fixed seed, so that the reference and
// every policy version continue the same prompts from the same random numbers, and a policy
// that has not moved writes what the reference writes.
const textSeed = 1

// Continuation is a held-out prompt continued by the reference (before) and by a policy
// (after), each with the task's gold score (text.World.Score: VADER sentiment for
// TextPositive-v0, the checker's score for TextNoE-v0).
type Continuation struct {
	Prompt     string      `json:"prompt"`
	Before     string      `json:"before"`
	After      string      `json:"after"`
	GoldBefore jsonnum.Num `json:"gold_before"`
	GoldAfter  jsonnum.Num `json:"gold_after"`
}

// PolicyText is "the policy now" of a text project.
type PolicyText struct {
	Env string `json:"env"`
	// Version is the policy that wrote "after"; version 1 is the reference itself (the
	// trainer publishes it first), so its "after" is its "before".
	Version int    `json:"version"`
	Gold    string `json:"gold"` // how the gold score scores, in words
	Seed    uint64 `json:"seed"` // the sampler's seed
	// Continuations are of the first TextPrompts held-out prompts.
	Continuations []Continuation `json:"continuations"`
}

// Continuations continues each of the first n held-out prompts of w by Length tokens of
// task, once from ref and once from pol, with core/lm's sampler at temperature 1 (the models carry the
// text tasks' temperature in their weights, lm.Model.Temper) drawing from a
// generator seeded with seed for each model (common random numbers: where pol has not moved
// from ref, the two continuations are the same), and scores each with the task's gold score.
// The held-out prompts are every fourth of w.Prompts, as core/textrl splits them: the trainer
// measures policies on them and never trains on them. (Sampling is core/lm's own, not
// textrl's, which would bring PPO and DPO into the Worker's binary through this package.)
func Continuations(w *text.World, task text.Task, ref, pol *lm.Model, n int, seed uint64) ([]Continuation, error) {
	a, b := pol.Config, ref.Config
	if a.Vocab != b.Vocab || a.Ctx != b.Ctx || a.Dim != b.Dim || a.Layers != b.Layers || a.Heads != b.Heads {
		return nil, errors.New("classroom: the policy is not a tuned copy of the reference language model")
	}
	if ref.Config.Vocab != w.Tok.VocabSize() {
		return nil, fmt.Errorf("classroom: the model has %d tokens, the tokenizer %d", ref.Config.Vocab, w.Tok.VocabSize())
	}
	var prompts []int
	k := 0
	for i := 0; i < len(w.Prompts) && k < n; i += 4 {
		prompts, k = append(prompts, w.Prompts[i]...), k+1
	}
	L := task.Length
	draw := func(m *lm.Model) ([]int, error) {
		toks, _, err := m.NewSampler(k).Generate(rand.New(rand.NewPCG(seed, 0x6e6f77)), prompts, L, 1)
		return toks, err
	}
	before, err := draw(ref)
	if err != nil {
		return nil, fmt.Errorf("classroom: %w", err)
	}
	after, err := draw(pol)
	if err != nil {
		return nil, fmt.Errorf("classroom: %w", err)
	}
	P := w.PromptLen()
	out := make([]Continuation, k)
	for i := range out {
		b, a := w.Tok.Decode(before[i*L:(i+1)*L]), w.Tok.Decode(after[i*L:(i+1)*L])
		out[i] = Continuation{Prompt: w.Tok.Decode(prompts[i*P : (i+1)*P]), Before: b, After: a,
			GoldBefore: jsonnum.Num(w.Score(task, b)), GoldAfter: jsonnum.Num(w.Score(task, a))}
	}
	return out, nil
}

// policyText: GET /classroom/api/projects/{pid}/policy-text (teacher) is "the policy now" of a
// text project (PolicyText), sampled on the server from the latest published policy (PPO's or
// DPO's alike: both are core/lm models) once per policy version; later polls read the cache.
func (h *Handler) policyText(w http.ResponseWriter, r *http.Request) error {
	pid := r.PathValue("pid")
	if err := h.authorize(r, pid); err != nil {
		return err
	}
	proj, err := h.store.Project(r.Context(), pid)
	if err != nil {
		return notFound(err, "pid", "no project "+pid)
	}
	task, ok := text.TaskOf(proj.Env)
	if !ok {
		return hub.NotFound("pid", "project "+pid+" is not a text project (env "+proj.Env+"): its policy plays at clip.svg")
	}
	lp, err := h.store.LatestPolicy(r.Context(), pid)
	if err != nil {
		return notFound(err, "pid", "no policy yet: the trainer publishes the reference model as policy 1 after its first round")
	}
	// One sampling at a time: a poll that arrives while a version is being sampled waits for
	// it and then reads the cache.
	h.textMu.Lock()
	defer h.textMu.Unlock()
	c, ok := h.textNow[pid]
	if !ok || c.Version != lp.Version {
		if h.text == nil {
			return hub.NotFound("pid", "this server has no language model to sample text projects' continuations (prefer serve has one)")
		}
		world, ref, err := h.text()
		if err != nil {
			return fmt.Errorf("classroom: loading the text world: %w", err)
		}
		pol, err := lm.Decode(lp.Weights)
		if err != nil {
			return fmt.Errorf("classroom: policy version %d of %s: %w", lp.Version, pid, err)
		}
		conts, err := Continuations(world, task, ref, pol, TextPrompts, textSeed)
		if err != nil {
			return err
		}
		c = PolicyText{Env: proj.Env, Version: lp.Version, Gold: task.Checker, Seed: textSeed, Continuations: conts}
		h.textNow[pid] = c
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Policy-Version", strconv.Itoa(c.Version))
	hub.WriteJSON(w, http.StatusOK, c)
	return nil
}

// TaskList is the task list as this server can run it: a text task is available once the
// text world is installed, or where the server can load it (TextSource), with a note of what
// the first session will load. A server with neither (the Worker) runs text sessions too,
// trained from outside by `prefer trainer --hub`, which uploads the tokenizer; the note says
// so, and what needs prefer serve.
func (h *Handler) TaskList() []Task {
	ts := Tasks()
	for i := range ts {
		if !ts[i].Text || ts[i].Available {
			continue
		}
		ts[i].Available = true
		if h.text == nil {
			ts[i].Note = "a text session here is trained by `prefer trainer --hub URL --corpus FILE` (FILE: a text file of review sentences), " +
				"which uploads the tokenizer before the first pairs; \"the policy now\" and demo raters need prefer serve"
			continue
		}
		ts[i].Note = "the first text session loads the review corpus, downloading it from npm unless it is cached; " +
			"offline, restart prefer serve with --corpus FILE (a text file of review sentences)"
	}
	return ts
}

// isText reports whether env is a text task's, whose policies are language models.
func isText(env string) bool {
	_, ok := text.TaskOf(env)
	return ok
}
