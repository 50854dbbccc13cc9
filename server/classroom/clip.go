package classroom

import (
	"fmt"
	"math/rand/v2"

	"github.com/prefer-rlhf/prefer/core/env"
	"github.com/prefer-rlhf/prefer/core/ppo"
)

// PolicyClipSVG plays policy pol on envName for up to seconds of env time from a reset drawn
// with seed, taking its most likely actions, and returns the frames as a looping animated SVG
// (env.Animated, in real time) frameWidth pixels wide: the current policy's clip, for the
// dashboard to play large.
func PolicyClipSVG(pol *ppo.Policy, envName string, seconds float64, seed uint64, frameWidth float64) ([]byte, error) {
	e, err := env.Lookup(envName)
	if err != nil {
		return nil, fmt.Errorf("classroom: %w", err)
	}
	sp := e.Spec()
	if sp.ObsDim != pol.ObsDim || sp.Action.Dim() != pol.Action.Dim() || sp.Action.N != pol.Action.N {
		return nil, fmt.Errorf("classroom: the policy does not fit %s", envName)
	}
	steps := max(int(seconds/sp.DT), 1)
	if sp.MaxEpisodeSteps > 0 {
		steps = min(steps, sp.MaxEpisodeSteps)
	}
	rng := rand.New(rand.NewPCG(seed, 0x636c6970))
	obs := e.Reset(rng)
	states := [][]float64{append([]float64(nil), e.State()...)}
	for i := 0; i < steps; i++ {
		o, _, term := e.Step(pol.Act(obs, rng, true))
		states = append(states, append([]float64(nil), e.State()...))
		if term {
			break
		}
		obs = o
	}
	return env.Animated(env.Scenes(e, states), sp.DT, frameWidth)
}
