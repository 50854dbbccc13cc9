//go:build notext

package fitter

import (
	"errors"

	"github.com/prefer-rlhf/prefer/core/prefs"
	"github.com/prefer-rlhf/prefer/core/reward"
)

// The app's build for clip projects learns from no text clip (text.go is the full build's).

var errTextBuild = errors.New("fitter: this build reads no text clips (text.wasm does)")

func textSegment(*prefs.Clip) (reward.Segment, error) { return reward.Segment{}, errTextBuild }

func textShape() reward.Shape { return reward.Shape{} }

func textMarks(*reward.Model, reward.Segment, reward.Segment) []Mark { return nil }

func (f *Fitter) textConfig() reward.Config { return reward.Config{} }
