// Package trainer is the hub's background learner: for each project it refits the reward
// ensemble on the pooled labels, merges private model updates, trains the policy with PPO on
// the learned reward, records learned and true returns, makes new clips and picks new pairs by
// ensemble disagreement, and publishes it all as a new round (Christiano et al. 2017, §2.2: the
// three processes of the paper, run here in turns).
//
// It talks to the rest of the hub only through the store, so a round never blocks a request,
// and every round is published with a checkpoint in one transaction, so a restart resumes
// where the last round ended.
package trainer

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"sync"
	"time"

	"github.com/prefer-rlhf/prefer/core/env"
	"github.com/prefer-rlhf/prefer/core/loop"
	"github.com/prefer-rlhf/prefer/core/prefs"
	"github.com/prefer-rlhf/prefer/core/reward"
	"github.com/prefer-rlhf/prefer/core/text"
	"github.com/prefer-rlhf/prefer/server/store"
)

// Store is what the trainer needs from the database.
type Store interface {
	Projects(ctx context.Context) ([]store.Project, error)
	Labels(ctx context.Context, projectID string, after int64, withExcluded bool) ([]store.Label, error)
	ClipsByID(ctx context.Context, projectID string, ids []string) (map[string]prefs.Clip, error)
	ModelUpdates(ctx context.Context, projectID, status string) ([]store.ModelUpdate, error)
	Checkpoint(ctx context.Context, projectID string) (round int, state []byte, err error)
	PublishRound(ctx context.Context, r *store.Round) error
}

// Trainer runs rounds for every unpaused project. Create it with New and start it with Run.
type Trainer struct {
	st  Store
	cfg Config
	log *slog.Logger

	mu       sync.Mutex
	projects map[string]*project
}

// project is one project's learning state, rebuilt from its checkpoint after a restart.
type project struct {
	id   string
	spec env.Spec // the fixed-horizon spec
	// clip is a clip project's learning (core/loop): PPO, the reward model and its data,
	// older policies; nil for a text project.
	clip *loop.Learner
	// model and data are the reward model and its labelled comparisons: the Learner's for a
	// clip project (kept in step by refit and restore), the text loop's for a text project
	// (model nil until its first fit).
	model *reward.Model

	round         int
	modelVersion  int
	policyVersion int
	lineage       int // model version of the last full refit: private updates need a base >= it
	envSteps      int64
	labelsUsed    int
	pausedSteps   int64 // PPO env steps trained since the last round with new labels
	rejected      int   // PPO updates not kept in a row (loop.Learner.TrainKept)

	// The dataset in label arrival order, and the label ids it holds, so a round can tell
	// whether the labels only grew (warm start) or some were excluded or restored (full refit).
	data     *reward.Dataset
	dataIDs  []string
	segments map[string]reward.Segment // by clip id
	lastRun  time.Time
	failures int

	text *textState // a text project's state (text.go); nil for a clip project
}

// New returns a trainer over st.
func New(st Store, cfg Config) (*Trainer, error) {
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	return &Trainer{st: st, cfg: cfg, log: cfg.Log, projects: map[string]*project{}}, nil
}

// Run runs rounds until ctx is done. A round in progress when ctx ends is finished and
// published first (it is at most one round's work), so shutting down keeps its checkpoint.
func (t *Trainer) Run(ctx context.Context) error {
	tick := time.NewTicker(t.cfg.Poll)
	defer tick.Stop()
	for {
		if err := t.Step(context.WithoutCancel(ctx)); err != nil {
			t.log.Error("trainer: step", slog.Any("err", err))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// Step runs a round for every project that is due, one after another. Tests drive the
// trainer with it.
func (t *Trainer) Step(ctx context.Context) error {
	ps, err := t.st.Projects(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for i := range ps {
		pr := &ps[i]
		if pr.Paused {
			continue
		}
		p, err := t.project(ctx, pr)
		if err != nil {
			errs = append(errs, fmt.Errorf("project %s: %w", pr.ID, err))
			continue
		}
		if p.failures > 0 && t.cfg.Now().Sub(p.lastRun) < backoff(p.failures) {
			continue
		}
		if err := t.maybeRound(ctx, p, pr); err != nil {
			p.failures++
			p.lastRun = t.cfg.Now()
			errs = append(errs, fmt.Errorf("project %s round %d: %w", pr.ID, p.round+1, err))
		} else {
			p.failures = 0
		}
	}
	return errors.Join(errs...)
}

// backoff spaces out retries of a failing project: 1 s, 2 s, 4 s ... up to 5 min.
func backoff(failures int) time.Duration {
	d := time.Second << min(failures-1, 9)
	return min(d, 5*time.Minute)
}

// project returns the state of a project, loading its checkpoint the first time.
func (t *Trainer) project(ctx context.Context, pr *store.Project) (*project, error) {
	t.mu.Lock()
	p := t.projects[pr.ID]
	t.mu.Unlock()
	if p != nil {
		return p, nil
	}
	p = &project{id: pr.ID, segments: map[string]reward.Segment{}, data: &reward.Dataset{}}
	task, isText := text.TaskOf(pr.Env)
	if isText {
		p.spec.Name = pr.Env
		if err := t.textProject(p, pr, task); err != nil {
			return nil, err
		}
	} else {
		e, err := horizonEnv(pr.Env)
		if err != nil {
			return nil, err
		}
		p.spec = e.Spec()
		// The initial policy and the untrained model come from the project's fixed seed, the
		// same on every load, so the initial policy (which KL is measured from) needs no
		// checkpoint.
		lc, err := t.loopConfig(pr.ID, pr.Env, pr.Settings)
		if err != nil {
			return nil, err
		}
		if p.clip, err = loop.NewLearner(lc, true); err != nil {
			return nil, err
		}
		p.model, p.data = p.clip.Model, p.clip.Data
	}
	_, state, err := t.st.Checkpoint(ctx, pr.ID)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return nil, err
	default:
		restore := p.restore
		if isText {
			restore = p.textRestore
		}
		if err := restore(state); err != nil {
			return nil, err
		}
		t.log.Info("trainer: resumed", slog.String("project", pr.ID), slog.Int("round", p.round),
			slog.Int("model_version", p.modelVersion), slog.Int("policy_version", p.policyVersion))
	}
	t.mu.Lock()
	t.projects[pr.ID] = p
	t.mu.Unlock()
	return p, nil
}

// seed mixes the trainer's seed, a project id and a round into one seed.
func (t *Trainer) seed(id string, round int) uint64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "%d/%s/%d", t.cfg.Seed, id, round)
	return h.Sum64()
}
