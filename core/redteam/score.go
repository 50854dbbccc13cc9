package redteam

import (
	"github.com/prefer-rlhf/prefer/core/env"
	"github.com/prefer-rlhf/prefer/core/reward"
)

// Scorer returns a clip's learned return r̂ and its true return (the task's reward or a
// behaviour's checker, env.ScoreClip). The adversary only sees clips through it.
type Scorer func(start []float64, actions [][]float64) (rhat, truth float64, err error)

// ModelScorer scores clips of envName with a reward model: r̂ is m.Return of the clip's
// fixed-horizon transitions, as the loop builds them, and the truth is env.ScoreClip.
func ModelScorer(m *reward.Model, envName string) (Scorer, error) {
	base, err := env.Lookup(envName)
	if err != nil {
		return nil, err
	}
	e, err := env.FixedHorizon(base, 0)
	if err != nil {
		return nil, err
	}
	d := e.Spec().ObsDim
	return func(start []float64, actions [][]float64) (float64, float64, error) {
		if err := e.SetState(start); err != nil {
			return 0, 0, err
		}
		seg := reward.Segment{Len: len(actions)}
		obs := append([]float64(nil), e.Obs()...)
		for _, a := range actions {
			if err := env.CheckAction(e.Spec(), a); err != nil {
				return 0, 0, err
			}
			seg.Obs = append(seg.Obs, obs...)
			seg.Act = append(seg.Act, a...)
			o, _, _ := e.Step(a)
			copy(obs, o[:d])
			seg.Next = append(seg.Next, obs...)
		}
		truth, err := env.ScoreClip(envName, start, actions)
		if err != nil {
			return 0, 0, err
		}
		return m.Return(seg), truth, nil
	}, nil
}
