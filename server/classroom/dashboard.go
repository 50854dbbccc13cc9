package classroom

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/http"

	"github.com/prefer-rlhf/prefer/core/env"
	"github.com/prefer-rlhf/prefer/core/jsonnum"
	"github.com/prefer-rlhf/prefer/core/ppo"
	"github.com/prefer-rlhf/prefer/server/hub"
	"github.com/prefer-rlhf/prefer/server/store"
)

// Dashboard is the data behind the dashboard, one poll's worth.
type Dashboard struct {
	Project  ProjectInfo   `json:"project"`
	Summary  Summary       `json:"summary"`
	Policies []PolicyPoint `json:"policies"`
	Models   []ModelPoint  `json:"models"`
	// Charts are SVG documents drawn on the server, ready to be put in the page.
	Charts map[string]string `json:"charts"`
}

// ProjectInfo describes the class session.
type ProjectInfo struct {
	ID      string `json:"id"`
	Env     string `json:"env"`
	Goal    string `json:"goal"`
	Checker bool   `json:"checker"` // a behaviour: the "true" curve is the scripted checker
	// Text is a text project: the "true" curve is the gold score, "the policy now" is at
	// policy-text (continuations of held-out prompts) instead of clip.svg.
	Text     bool      `json:"text"`
	JoinCode string    `json:"join_code"`
	JoinURL  string    `json:"join_url"`
	QR       string    `json:"qr_svg"`
	Paused   bool      `json:"paused"`
	Demo     DemoState `json:"demo"`
	// HideModelPredictions is the model-assistance switch (store.Settings): raters' apps hide
	// their model's predicted preference.
	HideModelPredictions bool `json:"hide_model_predictions"`
	// PolicyVersion is the latest policy's version (0: none yet).
	PolicyVersion int `json:"policy_version"`
	// DemoAvailable is false where demo raters cannot run (the Worker).
	DemoAvailable bool `json:"demo_available"`
	// Overlap and MaxLabelsPerRater are the crowd settings (store.Settings).
	Overlap           int `json:"overlap"`
	MaxLabelsPerRater int `json:"max_labels_per_rater"`
}

// crowdFigures adds what a crowd project is run and paid by: each rater's participant id and
// time (store.Raters: active time with each label capped, median time per label), and the
// share of labelled pairs that reached the project's overlap.
func (h *Handler) crowdFigures(ctx context.Context, p *store.Project, s *Summary) error {
	rs, err := h.store.Raters(ctx, p.ID)
	if err != nil {
		return err
	}
	byID := make(map[string]store.RaterSummary, len(rs))
	for _, r := range rs {
		byID[r.ID] = r
	}
	for i := range s.PerRater {
		pr := &s.PerRater[i]
		r, ok := byID[pr.Rater]
		pr.MedianSeconds = jsonnum.Num(math.NaN())
		if ok {
			pr.Participant = r.Participant
			pr.ActiveMinutes = float64(r.ActiveMS) / 60000
			pr.MedianSeconds = jsonnum.Num(r.MedianMS / 1000)
		}
	}
	labelled, full, err := h.store.PairCoverage(ctx, p.ID, p.Settings.Overlap)
	if err != nil {
		return err
	}
	s.PairsLabelled, s.PairsAtOverlap = labelled, full
	s.OverlapShare = jsonnum.Num(math.NaN())
	if labelled > 0 {
		s.OverlapShare = jsonnum.Num(float64(full) / float64(labelled))
	}
	return nil
}

func (h *Handler) dashboard(w http.ResponseWriter, r *http.Request) error {
	pid := r.PathValue("pid")
	if err := h.authorize(r, pid); err != nil {
		return err
	}
	d, err := h.Build(r.Context(), pid)
	if err != nil {
		return notFound(err, "pid", "no project "+pid)
	}
	hub.WriteJSON(w, http.StatusOK, d)
	return nil
}

// Build assembles the dashboard of project pid.
func (h *Handler) Build(ctx context.Context, pid string) (*Dashboard, error) {
	p, err := h.store.Project(ctx, pid)
	if err != nil {
		return nil, err
	}
	task, _ := TaskOf(p.Env)
	d := &Dashboard{Project: ProjectInfo{ID: p.ID, Env: p.Env, Goal: task.Goal, Checker: task.Checker, Text: task.Text,
		JoinCode: p.JoinCode, JoinURL: h.joinBase + "/join?code=" + p.JoinCode, Paused: p.Paused,
		HideModelPredictions: p.Settings.HideModelPredictions, DemoAvailable: h.demo != nil,
		Overlap: p.Settings.Overlap, MaxLabelsPerRater: p.Settings.MaxLabelsPerRater}}
	if h.demo != nil {
		d.Project.Demo = h.demo.State(pid)
	}
	if d.Project.Goal == "" {
		d.Project.Goal = p.Env
	}
	if qr, err := QRSVG(d.Project.JoinURL, "Join link "+d.Project.JoinURL); err == nil {
		d.Project.QR = string(qr)
	}

	var rows []LabelRow
	err = h.store.Export(ctx, pid, func(e *store.ExportRow) error {
		rows = append(rows, LabelRow{Rater: e.RaterID, RaterName: e.RaterName, Pair: e.PairID, Choice: e.Choice,
			At: e.ReceivedAt, Excluded: e.Excluded})
		return nil
	})
	if err != nil {
		return nil, err
	}
	gold, err := h.store.Gold(ctx, pid)
	if err != nil {
		return nil, err
	}
	weights, err := h.store.RaterWeights(ctx, pid)
	if err != nil {
		return nil, err
	}
	d.Summary = Summarize(rows, gold, h.now())
	for i := range d.Summary.PerRater {
		d.Summary.PerRater[i].Weight = 1
		if w, ok := weights[d.Summary.PerRater[i].Rater]; ok {
			d.Summary.PerRater[i].Weight = w
		}
	}
	for i := range d.Summary.Disputed {
		d.Summary.Disputed[i].Gold = gold[d.Summary.Disputed[i].Pair]
	}
	d.Summary.GoldPairs = len(gold)
	if err := h.crowdFigures(ctx, p, &d.Summary); err != nil {
		return nil, err
	}

	if d.Policies, d.Project.PolicyVersion, err = h.policies(ctx, p); err != nil {
		return nil, err
	}
	if d.Models, err = h.modelPoints(ctx, pid); err != nil {
		return nil, err
	}
	ax := Axes{True: "true reward", Text: task.Text}
	switch {
	case task.Text:
		ax.True = "gold score"
	case task.Checker:
		ax.True = "checker"
	}
	d.Charts = map[string]string{
		"reward_hacking": string(RewardHackingSVG(d.Policies, ax, 960, 540)),
		"accuracy":       string(AccuracySVG(d.Models, 640, 280)),
		"per_minute":     string(MinutesSVG(d.Summary.PerMinute, 640, 240)),
	}
	return d, nil
}

// policies returns the policy history, oldest first. For a behaviour, the true return is the
// checker's score of the policy, as the trainer recorded it; where it did not, it is measured
// here (ppo.Evaluate on env.ScoredEnv) for each new latest policy and remembered.
func (h *Handler) policies(ctx context.Context, p *store.Project) ([]PolicyPoint, int, error) {
	hist, err := h.store.PolicyHistory(ctx, p.ID, 500)
	if err != nil {
		return nil, 0, err
	}
	_, isBehaviour := env.BehaviourOf(p.Env)
	latest := 0
	for _, q := range hist {
		latest = max(latest, q.Version)
	}
	// The trainer records a behaviour's checker score itself (server/trainer/round.go); the
	// dashboard measures only where it did not (a policy from an older trainer).
	measured := false
	for _, q := range hist {
		if q.Version == latest && !math.IsNaN(q.TrueReturn) {
			measured = true
		}
	}
	if isBehaviour && latest > 0 && !measured {
		h.mu.Lock()
		_, done := h.checker[p.ID][latest]
		h.mu.Unlock()
		if !done {
			score := math.NaN()
			if lp, err := h.store.LatestPolicy(ctx, p.ID); err == nil && lp.Version == latest {
				var pol ppo.Policy
				if pol.UnmarshalBinary(lp.Weights) == nil {
					if scored, err := env.ScoredEnv(p.Env); err == nil {
						score = ppo.Evaluate(&pol, scored, 5, uint64(latest))
					}
				}
			}
			h.mu.Lock()
			if h.checker[p.ID] == nil {
				h.checker[p.ID] = map[int]float64{}
			}
			h.checker[p.ID][latest] = score
			h.mu.Unlock()
		}
	}
	out := make([]PolicyPoint, 0, len(hist))
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, q := range hist {
		pt := PolicyPoint{Version: q.Version, EnvSteps: q.EnvSteps, Learned: q.LearnedReturn, True: q.TrueReturn, KL: q.KL}
		if s, ok := h.checker[p.ID][q.Version]; ok && isBehaviour && math.IsNaN(pt.True) {
			pt.True = s
		}
		out = append(out, pt)
	}
	return out, latest, nil
}

// modelPoints returns the reward models' validation accuracy by version, reading each new
// version once.
func (h *Handler) modelPoints(ctx context.Context, pid string) ([]ModelPoint, error) {
	latest, err := h.store.LatestModelVersion(ctx, pid)
	if err != nil {
		return nil, err
	}
	h.mu.Lock()
	have := h.models[pid]
	h.mu.Unlock()
	next := 1
	if len(have) > 0 {
		next = have[len(have)-1].Version + 1
	}
	for v := next; v <= latest; v++ {
		m, err := h.store.Model(ctx, pid, v)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		acc, ok := m.Metrics["reward/val_accuracy"]
		if !ok {
			acc = math.NaN()
		}
		have = append(have, ModelPoint{Version: v, Labels: int(m.Metrics["reward/labels"]), ValAccuracy: acc})
	}
	h.mu.Lock()
	h.models[pid] = have
	h.mu.Unlock()
	return append([]ModelPoint(nil), have...), nil
}

// MarshalJSON encodes NaN as null.
func (p PolicyPoint) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Version  int         `json:"version"`
		EnvSteps int64       `json:"env_steps"`
		Learned  jsonnum.Num `json:"learned_return"`
		True     jsonnum.Num `json:"true_return"`
		KL       jsonnum.Num `json:"kl"`
	}{p.Version, p.EnvSteps, jsonnum.Num(p.Learned), jsonnum.Num(p.True), jsonnum.Num(p.KL)})
}

// MarshalJSON encodes NaN as null.
func (m ModelPoint) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Version     int         `json:"version"`
		Labels      int         `json:"labels"`
		ValAccuracy jsonnum.Num `json:"val_accuracy"`
	}{m.Version, m.Labels, jsonnum.Num(m.ValAccuracy)})
}
