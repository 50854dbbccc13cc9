package ui

import (
	"errors"
	"strconv"

	"github.com/prefer-rlhf/prefer/core/env"
	"github.com/prefer-rlhf/prefer/core/prefs"
)

// maxClipSteps bounds a clip's length, so a damaged or hostile clip cannot exhaust memory.
const maxClipSteps = 5000

// clipScenes is a clip replayed to one scene per frame: the start state, then the state after
// each action.
type clipScenes struct {
	scenes []env.Scene
	dt     float64 // env seconds per step
}

// replayClip replays a clip with core/env and draws every frame. Clips are stored as (env,
// start state, actions), never as video, so this is the only way to see one.
func replayClip(c *prefs.Clip) (clipScenes, error) {
	if err := c.Validate(); err != nil {
		return clipScenes{}, err
	}
	if len(c.Actions) > maxClipSteps {
		return clipScenes{}, errors.New("ui: clip has more than " + strconv.Itoa(maxClipSteps) + " steps")
	}
	e, err := env.Lookup(c.Env)
	if err != nil {
		return clipScenes{}, err
	}
	// Clips are recorded in fixed-horizon mode: the episode goes on past termination.
	if e, err = env.FixedHorizon(e, 0); err != nil {
		return clipScenes{}, err
	}
	spec := e.Spec()
	states, _, _, err := env.ReplayEnv(e, c.StartState, c.Actions)
	if err != nil {
		return clipScenes{}, errors.New("ui: clip: " + err.Error())
	}
	scenes := make([]env.Scene, 0, len(states)+1)
	scenes = append(scenes, e.Draw(c.StartState))
	for _, st := range states {
		scenes = append(scenes, e.Draw(st))
	}
	dt := spec.DT
	if !(dt > 0) {
		dt = 0.02
	}
	return clipScenes{scenes: scenes, dt: dt}, nil
}

// prepare replays both clips of p, once.
func (p *Pair) prepare() error {
	if p.left.scenes != nil {
		return nil
	}
	l, err := replayClip(&p.Left)
	if err != nil {
		return errors.New("left clip: " + err.Error())
	}
	r, err := replayClip(&p.Right)
	if err != nil {
		return errors.New("right clip: " + err.Error())
	}
	p.left, p.right = l, r
	return nil
}
