package fitter

import (
	"errors"
	"strconv"

	"github.com/prefer-rlhf/prefer/core/prefs"
	"github.com/prefer-rlhf/prefer/core/reward"
	"github.com/prefer-rlhf/prefer/core/text"
)

// A text clip (core/text's envs) is not replayed: its start state is the prompt's token ids
// followed by -1 in every continuation slot, its actions one token id each, and the text
// reward model reads hashed tokens and bigrams of the ids (text.Features), so neither the env
// (which needs the corpus's world) nor the tokenizer is needed to learn from it.

// IsText reports whether env names a text task (or a text behaviour's checker).
func IsText(env string) bool {
	_, ok := text.TaskOf(env)
	return ok
}

// maxToken bounds a token id: far above any tokenizer's vocabulary, so a hostile clip cannot
// make the hashing overflow or a decoder index far out.
const maxToken = 1 << 24

// TextTokens returns a text clip's prompt (its start state up to the first -1) and its
// continuation (its actions), checking that both are token ids.
func TextTokens(c *prefs.Clip) (prompt, cont []int, err error) {
	if err := c.Validate(); err != nil {
		return nil, nil, err
	}
	tok := func(v float64) (int, bool) {
		i := int(v)
		return i, float64(i) == v && i >= 0 && i < maxToken
	}
	for i, v := range c.StartState {
		if v == -1 {
			break
		}
		t, ok := tok(v)
		if !ok {
			return nil, nil, errors.New("fitter: start_state[" + strconv.Itoa(i) + "] is not a token id")
		}
		prompt = append(prompt, t)
	}
	for i, a := range c.Actions {
		if len(a) != 1 {
			return nil, nil, errors.New("fitter: actions[" + strconv.Itoa(i) + "] is not one token id")
		}
		t, ok := tok(a[0])
		if !ok {
			return nil, nil, errors.New("fitter: actions[" + strconv.Itoa(i) + "] is not a token id")
		}
		cont = append(cont, t)
	}
	return prompt, cont, nil
}

// textSegment is a text clip as the text reward model reads it.
func textSegment(c *prefs.Clip) (reward.Segment, error) {
	prompt, cont, err := TextTokens(c)
	if err != nil {
		return reward.Segment{}, err
	}
	return text.DefaultFeatures.Segment(prompt, cont), nil
}

// textConfig is the text reward model's settings (text.RewardConfig, as the hub's trainer
// starts its models) with the browser's fit settings.
func (f *Fitter) textConfig() reward.Config {
	cfg := text.RewardConfig(f.cfg.Seed)
	cfg.Batch, cfg.UpdateSteps, cfg.Parallel, cfg.NormSample = f.cfg.Batch, f.cfg.UpdateSteps, false, f.cfg.NormSample
	return cfg
}
