package hub

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"sync"

	"github.com/google/uuid"

	"github.com/prefer-rlhf/prefer/core/env"
	"github.com/prefer-rlhf/prefer/core/redteam"
	"github.com/prefer-rlhf/prefer/core/reward"
	"github.com/prefer-rlhf/prefer/core/text"
	"github.com/prefer-rlhf/prefer/core/wire"
	"github.com/prefer-rlhf/prefer/server/store"
)

// redTeamSubmit: POST /api/v1/projects/{pid}/redteam (rater token) -> 201 wire.RedTeamResponse.
// A rater submits a clip from the app's red-team mode, one they think the reward model
// overrates (issue 15, red-teaming by hand). The hub replays it with core/env, scores it with
// the task's true reward or a behaviour's checker (env.ScoreClip) and with its latest reward
// model, calls it a failure found when the true return is below the task's failure threshold
// (redteam.Threshold, as the automated adversary does), stores it for the teacher's
// leaderboard and answers with the scores.
func (h *Hub) redTeamSubmit(w http.ResponseWriter, r *http.Request) error {
	p, proj, err := h.forProject(r, false)
	if err != nil {
		return err
	}
	if p.rater == nil {
		return errForbidden("red-team submissions come from a rater's token: the leaderboard counts them per rater")
	}
	body, err := readBody(w, r, h.cfg.MaxBody)
	if err != nil {
		return err
	}
	var in wire.RedTeamRequest
	if e := decodeStrict(body, &in, ""); e != nil {
		return e
	}
	if _, ok := text.TaskOf(proj.Env); ok {
		// A text task has no failure threshold; and a hub without a text world (the Worker)
		// has no env to replay it with.
		return errInvalid("", "red-teaming needs a task with a failure threshold; "+proj.Env+" has none")
	}
	base, err := env.Lookup(proj.Env)
	if err != nil {
		return err // a project's env is checked when it is created
	}
	spec := base.Spec()
	if err := checkRedTeamClip(spec, &in); err != nil {
		return err
	}
	thr, err := redteam.Threshold(proj.Env, len(in.Actions))
	if err != nil {
		return errInvalid("", "red-teaming needs a task with a failure threshold; "+proj.Env+" has none")
	}
	ctx := r.Context()
	truth, err := env.ScoreClip(proj.Env, in.StartState, in.Actions)
	if errors.Is(err, env.ErrNotFinite) {
		return errInvalid("start_state", "the clip's state overflows when replayed: "+err.Error())
	} else if err != nil {
		return err
	}
	out := wire.RedTeamResponse{ID: uuid.NewString(), Env: proj.Env, Steps: len(in.Actions), TrueReturn: truth,
		Checker: spec.NoReward, Threshold: thr, Failure: truth < thr}
	rhat := math.NaN()
	if m, v, err := h.rewardModel(ctx, proj.ID, spec); err != nil {
		return err
	} else if m != nil {
		if rhat, err = clipReturn(m, proj.Env, &in); err != nil {
			return err
		}
		out.RHat, out.ModelVersion = &rhat, v
	}
	sub := &store.RedTeamSubmission{ID: out.ID, ProjectID: proj.ID, RaterID: p.rater.ID, StartState: in.StartState,
		Actions: in.Actions, TrueReturn: truth, Threshold: thr, Failure: out.Failure, RHat: rhat,
		ModelVersion: out.ModelVersion, CreatedAt: h.now()}
	if err := h.store.AddRedTeam(ctx, sub); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, out)
	return nil
}

// checkRedTeamClip validates a submission against the project's env: the start state's
// length, one to MaxEpisodeSteps actions, each in the env's action space. Each error names
// its field (start_state, actions, actions[i]).
func checkRedTeamClip(spec env.Spec, in *wire.RedTeamRequest) error {
	if err := env.CheckState(spec, in.StartState); err != nil {
		return errInvalid("start_state", fmt.Sprintf("start_state must be %d finite numbers, a state of %s: %v",
			spec.StateDim, spec.Name, err))
	}
	if n := len(in.Actions); n == 0 || n > spec.MaxEpisodeSteps {
		return errInvalid("actions", fmt.Sprintf("a clip of %s has 1 to %d actions, not %d", spec.Name, spec.MaxEpisodeSteps, n))
	}
	for i, a := range in.Actions {
		if err := env.CheckAction(spec, a); err != nil {
			f := fmt.Sprintf("actions[%d]", i)
			return errInvalid(f, f+" is not an action of "+spec.Name+": "+err.Error())
		}
	}
	return nil
}

// clipReturn is m's return of the clip: its fixed-horizon transitions (env.Transitions, the
// one clip -> segment replay) through m.Return, as the trainer and the app's local model read
// clips.
func clipReturn(m *reward.Model, envName string, in *wire.RedTeamRequest) (float64, error) {
	obs, act, next, err := env.Transitions(envName, in.StartState, in.Actions)
	if err != nil {
		return 0, err
	}
	return m.Return(reward.Segment{Len: len(in.Actions), Obs: obs, Act: act, Next: next}), nil
}

// modelCache keeps each project's latest reward model decoded, so that a submission does not
// decode a few hundred kilobytes of weights.
type modelCache struct {
	mu sync.Mutex
	m  map[string]cachedModel // project -> its latest model
}

type cachedModel struct {
	version int
	model   *reward.Model // nil: the stored weights do not decode
}

// rewardModel returns the project's latest reward model and its version, or nil when it has
// none (or its stored weights do not decode as a model of spec's env, which is logged: the
// true score still stands).
func (h *Hub) rewardModel(ctx context.Context, pid string, spec env.Spec) (*reward.Model, int, error) {
	want := reward.Shape{ObsDim: spec.ObsDim, ActDim: spec.Action.Dim(), ActN: spec.Action.N}
	v, err := h.store.LatestModelVersion(ctx, pid)
	if err != nil || v == 0 {
		return nil, 0, err
	}
	h.models.mu.Lock()
	c, ok := h.models.m[pid]
	h.models.mu.Unlock()
	if ok && c.version == v {
		return c.model, v, nil
	}
	sm, err := h.store.Model(ctx, pid, v)
	if err != nil {
		return nil, 0, err
	}
	var m reward.Model
	c = cachedModel{version: v, model: &m}
	if err := m.UnmarshalJSON(sm.Weights); err != nil || m.Shape() != want {
		h.log.Warn("hub: red team: the reward model does not decode as a model of the project's env", slog.String("project", pid), slog.Int("version", v), slog.Any("err", err))
		c.model = nil
	}
	h.models.mu.Lock()
	if h.models.m == nil {
		h.models.m = map[string]cachedModel{}
	}
	h.models.m[pid] = c
	h.models.mu.Unlock()
	if c.model == nil {
		return nil, 0, nil
	}
	return c.model, v, nil
}
