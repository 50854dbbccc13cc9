package text

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"

	"github.com/prefer-rlhf/prefer/core/env"
)

// installed is the world the registered text envs use, set once by Register.
var installed struct {
	sync.Mutex
	w *World
}

// Register makes the text tasks environments: it registers each task under its name (and a
// behaviour's checker under CheckerPrefix+name) in core/env, all drawing prompts from and
// decoding with w. The tokenizer depends on the corpus, which only the caller can read, so
// the envs are registered at startup by whoever loads the corpus (server/corpus), not by
// init; a process registers one world, and a second call is an error.
func Register(w *World) error {
	if err := w.validate(); err != nil {
		return err
	}
	installed.Lock()
	defer installed.Unlock()
	if installed.w != nil {
		return fmt.Errorf("text: the text tasks are registered already")
	}
	installed.w = w
	for _, t := range tasks {
		env.Register(t.Name, func() env.Env { return NewEnv(w, t, false) })
		if t.NoReward {
			env.Register(CheckerPrefix+t.Name, func() env.Env { return NewEnv(w, t, true) })
		}
	}
	return nil
}

// Installed returns the world given to Register, or nil.
func Installed() *World {
	installed.Lock()
	defer installed.Unlock()
	return installed.w
}

// Env is a text task as an environment. Its state is the whole text so far, prompt then
// continuation, as token ids, with -1 in the continuation's slots not yet written: a clip's
// start_state is a prompt's ids followed by Length times -1, its actions one token each, and
// replaying it is decoding it. The observation is the state. An episode lasts Length steps;
// the last one terminates and carries the whole reward, the gold score of the continuation
// (0 for a behaviour; its checker env carries the checker's score).
type Env struct {
	w      *World
	t      Task
	scored bool
	spec   env.Spec
	state  []float64
	obs    []float64
	pos    int // continuation tokens written
}

// NewEnv returns task t on world w; scored makes a behaviour's checker env.
func NewEnv(w *World, t Task, scored bool) *Env {
	p := w.PromptLen()
	e := &Env{w: w, t: t, scored: scored || !t.NoReward, state: make([]float64, p+t.Length), obs: make([]float64, p+t.Length)}
	e.spec = env.Spec{
		Name:            t.Name,
		MaxEpisodeSteps: t.Length,
		RewardThreshold: math.NaN(),
		DT:              0.25, // a token every quarter second when a clip is played back
		ObsDim:          p + t.Length,
		StateDim:        p + t.Length,
		Action:          env.Space{N: w.Tok.VocabSize()},
		FixedHorizon:    true,
		NoReward:        t.NoReward && !scored,
	}
	if t.NoReward && scored {
		e.spec.Name = CheckerPrefix + t.Name
	}
	return e
}

// Spec describes the env.
func (e *Env) Spec() env.Spec { return e.spec }

// Task returns the env's task.
func (e *Env) Task() Task { return e.t }

// Reset draws a prompt uniformly.
func (e *Env) Reset(rng *rand.Rand) []float64 {
	p := e.w.Prompts[rng.IntN(len(e.w.Prompts))]
	for i := range e.state {
		e.state[i] = -1
		if i < len(p) {
			e.state[i] = float64(p[i])
		}
	}
	e.pos = 0
	return e.Obs()
}

// State returns a copy of the text so far.
func (e *Env) State() []float64 { return append([]float64(nil), e.state...) }

// SetState sets the text so far: prompt tokens, then continuation tokens, then -1s.
func (e *Env) SetState(s []float64) error {
	if err := env.CheckState(e.spec, s); err != nil {
		return err
	}
	p, pos := e.w.PromptLen(), 0
	for i, v := range s {
		switch {
		case v == -1 && i >= p:
			continue
		case v != math.Trunc(v) || v < 0 || v >= float64(e.w.Tok.VocabSize()):
			return fmt.Errorf("text: %s: state[%d] = %v is not a token id", e.spec.Name, i, v)
		case i >= p && i != p+pos:
			return fmt.Errorf("text: %s: state[%d] is a token after an empty slot", e.spec.Name, i)
		}
		if i >= p {
			pos++
		}
	}
	copy(e.state, s)
	e.pos = pos
	return nil
}

// Obs returns the text so far (owned by the env).
func (e *Env) Obs() []float64 { return append(e.obs[:0], e.state...) }

// Step appends one token. It panics on a token outside the vocabulary or after the last step.
func (e *Env) Step(action []float64) ([]float64, float64, bool) {
	if e.pos >= e.t.Length {
		panic("text: Step after the continuation is complete")
	}
	id := int(action[0])
	if id < 0 || id >= e.w.Tok.VocabSize() || float64(id) != action[0] {
		panic(fmt.Sprintf("text: action %v is not a token id", action[0]))
	}
	e.state[e.w.PromptLen()+e.pos] = float64(id)
	e.pos++
	if e.pos < e.t.Length {
		return e.Obs(), 0, false
	}
	r := 0.0
	if e.scored {
		_, cont := e.Text(e.state)
		r = e.w.Score(e.t, cont)
	}
	return e.Obs(), r, true
}

// StepContinuing is Step without the terminated flag: a text env is its own fixed-horizon
// mode (every episode is Length steps), so env.FixedHorizon and env.ScoreClip accept it.
func (e *Env) StepContinuing(action []float64) ([]float64, float64) {
	obs, r, _ := e.Step(action)
	return obs, r
}

// ObsContinuing is Obs.
func (e *Env) ObsContinuing() []float64 { return e.Obs() }

// Text decodes a state into its prompt and its continuation so far.
func (e *Env) Text(state []float64) (prompt, continuation string) {
	return e.w.Split(state)
}

// Split decodes a text env's state (prompt, continuation, -1 padding) into its prompt and
// continuation. Values that are not token ids are skipped.
func (w *World) Split(state []float64) (prompt, continuation string) {
	p := w.PromptLen()
	var a, b []int
	for i, v := range state {
		id := int(v)
		if v != float64(id) || id < 0 || id >= w.Tok.VocabSize() {
			continue
		}
		if i < p {
			a = append(a, id)
		} else {
			b = append(b, id)
		}
	}
	return w.Tok.Decode(a), w.Tok.Decode(b)
}

// Draw returns an empty scene: a text clip is shown as text (SVG), not as shapes.
func (e *Env) Draw([]float64) env.Scene {
	return env.Scene{View: env.Rect{X0: 0, Y0: 0, X1: 1, Y1: 1}}
}
