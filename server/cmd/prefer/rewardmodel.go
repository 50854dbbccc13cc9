package main

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/prefer-rlhf/prefer/core/env"
	"github.com/prefer-rlhf/prefer/core/ppo"
	"github.com/prefer-rlhf/prefer/core/reward"
)

// learnedReturnHelp defines learned_return for the flags' help text.
const learnedReturnHelp = ppo.LearnedReturnMeaning

// loadRewardModel reads a reward model file (core/reward's stored form: the JSON the classroom
// dashboard downloads, or its binary form) and checks that it reads the transitions of envName.
// Its errors are one line and name the file.
func loadRewardModel(path, envName string) (*reward.Model, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("reward model %s: no such file", path)
		}
		return nil, fmt.Errorf("reward model: %v", err)
	}
	m := new(reward.Model)
	if bytes.HasPrefix(data, []byte("PRRM")) {
		err = m.UnmarshalBinary(data)
	} else {
		err = m.UnmarshalJSON(data)
	}
	if err != nil {
		return nil, fmt.Errorf("%s is not a %s model file: %v", path, reward.Format, err)
	}
	e, err := env.Lookup(envName)
	if err != nil {
		return nil, err
	}
	sp, sh := e.Spec(), m.Shape()
	want := reward.Shape{ObsDim: sp.ObsDim, ActDim: sp.Action.Dim(), ActN: sp.Action.N}
	if sh != want {
		return nil, fmt.Errorf("reward model %s reads transitions of obs %d, action %d/%d; %s has obs %d, action %d/%d",
			path, sh.ObsDim, sh.ActDim, sh.ActN, envName, want.ObsDim, want.ActDim, want.ActN)
	}
	return m, nil
}

// mean returns the mean of xs (NaN for none).
func mean(xs []float64) float64 {
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}
