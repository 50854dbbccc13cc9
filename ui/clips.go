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

// continuing is implemented by environments that can keep stepping past Gymnasium's
// termination (the fixed-horizon mode clips are recorded in).
type continuing interface {
	StepContinuing(action []float64) ([]float64, float64)
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
	spec := e.Spec()
	if err := e.SetState(c.StartState); err != nil {
		return clipScenes{}, err
	}
	cont, _ := e.(continuing)
	scenes := make([]env.Scene, 0, len(c.Actions)+1)
	scenes = append(scenes, e.Draw(e.State()))
	for i, a := range c.Actions {
		if err := env.CheckAction(spec, a); err != nil {
			return clipScenes{}, errors.New("ui: clip step " + strconv.Itoa(i) + ": " + err.Error())
		}
		if cont != nil {
			cont.StepContinuing(a)
		} else {
			e.Step(a)
		}
		scenes = append(scenes, e.Draw(e.State()))
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
