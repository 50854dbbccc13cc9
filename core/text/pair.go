package text

import (
	"fmt"
	"slices"

	"github.com/prefer-rlhf/prefer/core/dpo"
	"github.com/prefer-rlhf/prefer/core/prefs"
)

// DPOPair turns a labelled pair of text clips into a DPO comparison. DPO needs both
// continuations to follow the same prompt: the partition function Z(x) of the implicit reward
// cancels only then (Rafailov et al. 2023, eq. 6), so text queries pair continuations of one
// prompt, as Ziegler et al. (2019, §2) do. ok is false for "can't tell".
func (w *World) DPOPair(left, right prefs.Clip, c prefs.Choice) (p dpo.Pair, ok bool, err error) {
	mu, ok := c.Mu()
	if !ok {
		return dpo.Pair{}, false, nil
	}
	lp, lc, err := w.ClipTokens(left)
	if err != nil {
		return dpo.Pair{}, false, fmt.Errorf("left: %w", err)
	}
	rp, rc, err := w.ClipTokens(right)
	if err != nil {
		return dpo.Pair{}, false, fmt.Errorf("right: %w", err)
	}
	if !slices.Equal(lp, rp) {
		return dpo.Pair{}, false, fmt.Errorf("text: the two clips continue different prompts")
	}
	return dpo.Pair{Prompt: lp, Left: lc, Right: rc, Mu: mu}, true, nil
}

// ClipTokens returns a text clip's prompt and continuation as token ids of w's tokenizer
// (w.Layout().Tokens).
func (w *World) ClipTokens(c prefs.Clip) (prompt, cont []int, err error) {
	return w.Layout().Tokens(&c)
}
