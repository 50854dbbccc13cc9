package trainer

import (
	"fmt"
	"math"

	"github.com/google/uuid"
	"github.com/prefer-rlhf/prefer/core/env"
	"github.com/prefer-rlhf/prefer/core/loop"
	"github.com/prefer-rlhf/prefer/core/prefs"
	"github.com/prefer-rlhf/prefer/core/reward"
)

// A clip is born here as (env, start state, actions) and replayed by core everywhere else: the
// browser draws it, and the reward model reads it as a segment of transitions.

// candidate is a clip with its segment, before it is published.
type candidate struct {
	clip prefs.Clip
	seg  reward.Segment
}

// clipSteps is how many env steps a clip of the given env time lasts (at least 2).
func clipSteps(spec env.Spec, seconds float64) int {
	n := int(math.Round(seconds / spec.DT))
	return max(n, 2)
}

// horizonEnv returns the project's env in fixed-horizon mode (Christiano et al. 2017, App.
// A.1): the dynamics go on past Gymnasium's termination, so every clip has its full length
// and a rollout never ends early.
func horizonEnv(name string) (env.Env, error) {
	e, err := env.Lookup(name)
	if err != nil {
		return nil, err
	}
	return env.FixedHorizon(e, 0)
}

// candidateOf is the store's clip of a clip the loop made (loop.Learner.Candidates, loop.Roll)
// of the task spec, with a new id, stamped with the version of the policy that acted.
func candidateOf(spec env.Spec, lc loop.Clip) candidate {
	c := candidate{clip: prefs.Clip{ID: uuid.NewString(), Env: spec.Name, PolicyVersion: lc.PolicyVersion, StartState: lc.StartState}, seg: lc.Seg}
	ad := spec.Action.Dim()
	for t := 0; t < lc.Seg.Len; t++ {
		c.clip.Actions = append(c.clip.Actions, lc.Actions[t*ad:(t+1)*ad:(t+1)*ad])
	}
	return c
}

// segmentOf replays a stored clip (env.Transitions) into the transitions the reward model
// reads.
func segmentOf(c prefs.Clip) (reward.Segment, error) {
	if len(c.Actions) == 0 {
		return reward.Segment{}, fmt.Errorf("trainer: clip %s has no actions", c.ID)
	}
	obs, act, next, err := env.Transitions(c.Env, c.StartState, c.Actions)
	if err != nil {
		return reward.Segment{}, err
	}
	return reward.Segment{Len: len(c.Actions), Obs: obs, Act: act, Next: next}, nil
}

// TrueReturn is the fixed-horizon true return of a clip: the sum of the env's fixed-horizon
// reward over its steps; for a behaviour with no built-in reward, its scripted checker's score
// (env.ScoreClip). Synthetic raters (core/oracle) answer from it.
func TrueReturn(c prefs.Clip) (float64, error) {
	if _, ok := env.BehaviourOf(c.Env); ok {
		// A behaviour has no built-in reward: its scripted checker stands in (measuring only).
		return env.ScoreClip(c.Env, c.StartState, c.Actions)
	}
	e, err := horizonEnv(c.Env)
	if err != nil {
		return 0, err
	}
	_, rewards, _, err := env.ReplayEnv(e, c.StartState, c.Actions)
	if err != nil {
		return 0, err
	}
	s := 0.0
	for _, r := range rewards {
		s += r
	}
	return s, nil
}
