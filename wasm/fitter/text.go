//go:build !notext

package fitter

import (
	"math"

	"github.com/prefer-rlhf/prefer/core/prefs"
	"github.com/prefer-rlhf/prefer/core/reward"
	"github.com/prefer-rlhf/prefer/core/text"
)

// A text clip (core/text's envs) is not replayed: the text reward model reads hashed tokens
// and bigrams of its token ids (text.Features), so neither the env (which needs the corpus's
// world) nor the tokenizer is needed to learn from it. The worker has neither: it decodes a
// clip with a layout that knows no prompt length and no vocabulary (text.ClipLayout's zero
// value: the prompt ends at the first -1, ids are bounded by text.MaxVocab).
//
// The app's build for clip projects (tag notext) leaves this out (fullswitch.go): it never
// shows a text pair, and the page's full build starts its workers on text.wasm.

// textSegment is a text clip as the text reward model reads it.
func textSegment(c *prefs.Clip) (reward.Segment, error) {
	return text.DefaultFeatures.ClipSegment(text.ClipLayout{}, c)
}

// MaxMarks is how many tokens a text prediction marks.
const MaxMarks = 3

// textMarks are the tokens that moved the model's preference most. The model's return of a
// continuation is the sum of its tokens' rewards r̂_t (text.Features), and P(left) is the
// Bradley-Terry probability of the difference of the two returns (Christiano et al. 2017,
// eq. 1), so token t of the left continuation moves the log-odds towards left by r̂_t and one
// of the right towards right by its r̂_t: its leave-one-token-out effect, read off one forward
// pass. Normalised rewards are compared; their offsets cancel between continuations of one
// length.
func textMarks(m *reward.Model, left, right reward.Segment) []Mark {
	var all []Mark
	for side, s := range []reward.Segment{left, right} {
		r := make([]float64, s.Len)
		m.Rewards(s.Obs, nil, nil, s.Len, r)
		for t, v := range r {
			all = append(all, Mark{Side: side, Token: t, R: v})
		}
	}
	var top []Mark
	for range min(MaxMarks, len(all)) {
		best := -1
		for i, mk := range all {
			if best < 0 || math.Abs(mk.R) > math.Abs(all[best].R) {
				best = i
			}
		}
		top = append(top, all[best])
		all = append(all[:best], all[best+1:]...)
	}
	return top
}

// textShape is the text reward model's view of a clip.
func textShape() reward.Shape { return text.DefaultFeatures.Shape() }

// textConfig is the text reward model's settings (text.RewardConfig, as the hub's trainer
// starts its models) with the browser's fit settings.
func (f *Fitter) textConfig() reward.Config {
	cfg := text.RewardConfig(f.cfg.Seed)
	cfg.Batch, cfg.UpdateSteps, cfg.Parallel, cfg.NormSample = f.cfg.Batch, f.cfg.UpdateSteps, false, f.cfg.NormSample
	return cfg
}
