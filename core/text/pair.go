package text

import (
	"fmt"

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
	lp, lc, err := w.clipTokens(left)
	if err != nil {
		return dpo.Pair{}, false, fmt.Errorf("left: %w", err)
	}
	rp, rc, err := w.clipTokens(right)
	if err != nil {
		return dpo.Pair{}, false, fmt.Errorf("right: %w", err)
	}
	if !equalInts(lp, rp) {
		return dpo.Pair{}, false, fmt.Errorf("text: the two clips continue different prompts")
	}
	return dpo.Pair{Prompt: lp, Left: lc, Right: rc, Mu: mu}, true, nil
}

// clipTokens returns a text clip's prompt (from its start state) and continuation (its
// actions), checking that they are token ids.
func (w *World) clipTokens(c prefs.Clip) (prompt, cont []int, err error) {
	p := w.PromptLen()
	if len(c.StartState) < p || len(c.Actions) == 0 {
		return nil, nil, fmt.Errorf("text: a clip needs a start_state of at least %d tokens and an action", p)
	}
	id := func(v float64) (int, bool) {
		i := int(v)
		return i, float64(i) == v && i >= 0 && i < w.Tok.VocabSize()
	}
	for i, v := range c.StartState[:p] {
		t, ok := id(v)
		if !ok {
			return nil, nil, fmt.Errorf("text: start_state[%d] = %v is not a token id", i, v)
		}
		prompt = append(prompt, t)
	}
	for i, a := range c.Actions {
		if len(a) != 1 {
			return nil, nil, fmt.Errorf("text: actions[%d] has %d numbers, want 1", i, len(a))
		}
		t, ok := id(a[0])
		if !ok {
			return nil, nil, fmt.Errorf("text: actions[%d] = %v is not a token id", i, a[0])
		}
		cont = append(cont, t)
	}
	return prompt, cont, nil
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// ClipTokens returns a text clip's prompt (from its start state) and continuation (its
// actions) as token ids, or an error if they are not token ids of w's tokenizer.
func (w *World) ClipTokens(c prefs.Clip) (prompt, cont []int, err error) { return w.clipTokens(c) }
