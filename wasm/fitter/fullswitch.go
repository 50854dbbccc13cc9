//go:build notext

package fitter

import (
	"errors"

	"github.com/prefer-rlhf/prefer/core/prefs"
	"github.com/prefer-rlhf/prefer/core/reward"
)

// The app's build for clip projects learns from no text clip (text.go is the full build's)
// and scores no clip for red-team mode (score.go): the page switches to the full build for
// either (ui/fullswitch.go), and its workers run the full build too.

var errFullBuild = errors.New("fitter: this build reads no text clips and scores none for red-team mode (text.wasm does)")

func textSegment(*prefs.Clip) (reward.Segment, error) { return reward.Segment{}, errFullBuild }

func textShape() reward.Shape { return reward.Shape{} }

func textMarks(*reward.Model, reward.Segment, reward.Segment) []Mark { return nil }

func (f *Fitter) textConfig() reward.Config { return reward.Config{} }

func (f *Fitter) score(In) ([]Out, error) { return nil, errFullBuild }
