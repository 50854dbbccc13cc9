//go:build !notext

package fitter

import (
	"errors"
	"math"

	"github.com/prefer-rlhf/prefer/core/prefs"
	"github.com/prefer-rlhf/prefer/core/reward"
	"github.com/prefer-rlhf/prefer/core/text"
)

// A text clip (core/text's envs) is not replayed: its start state is the prompt's token ids
// followed by -1 in every continuation slot, its actions one token id each, and the text
// reward model reads hashed tokens and bigrams of the ids (text.Features), so neither the env
// (which needs the corpus's world) nor the tokenizer is needed to learn from it.
//
// The app's build for clip projects (tag notext) leaves this out (textswitch.go): it never
// shows a text pair, and the page's full build starts its workers on text.wasm.

// maxToken bounds a token id: far above any tokenizer's vocabulary, so a hostile clip cannot
// make the hashing overflow or a decoder index far out.
const maxToken = 1 << 24

// TextTokens returns a text clip's prompt (its start state up to the first -1) and its
// continuation (its actions), checking that both are token ids.
func TextTokens(c *prefs.Clip) (prompt, cont []int, err error) {
	if err := c.Validate(); err != nil {
		return nil, nil, err
	}
	for _, v := range c.StartState {
		if v == -1 {
			break
		}
		prompt = append(prompt, int(v))
		if float64(int(v)) != v || v < 0 || v >= maxToken {
			return nil, nil, errNotToken
		}
	}
	for _, a := range c.Actions {
		if len(a) != 1 || float64(int(a[0])) != a[0] || a[0] < 0 || a[0] >= maxToken {
			return nil, nil, errNotToken
		}
		cont = append(cont, int(a[0]))
	}
	return prompt, cont, nil
}

var errNotToken = errors.New("fitter: a text clip's start state and actions must be token ids")

// textSegment is a text clip as the text reward model reads it.
func textSegment(c *prefs.Clip) (reward.Segment, error) {
	prompt, cont, err := TextTokens(c)
	if err != nil {
		return reward.Segment{}, err
	}
	return text.DefaultFeatures.Segment(prompt, cont), nil
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
