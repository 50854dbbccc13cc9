// Package trl converts a text project's comparisons to and from the preference data format of
// Hugging Face TRL's RewardTrainer and DPOTrainer: JSONL, one {"prompt", "chosen", "rejected"}
// object per line, TRL's "standard" preference type with an explicit prompt (the prompt as
// text, the two continuations after it as text, each starting where the prompt ends).
//
// A line holds a strict preference only: a Bradley-Terry pair (Christiano et al. 2017, eq. 1;
// Rafailov et al. 2023, eq. 2) has a winner and a loser, so "equal" and "cant_tell" stay in the
// hub's native export.
package trl

import (
	"fmt"
	"slices"

	"github.com/prefer-rlhf/prefer/core/prefs"
	"github.com/prefer-rlhf/prefer/core/text"
)

// Record is one line of a TRL preference file.
type Record struct {
	Prompt   string `json:"prompt"`
	Chosen   string `json:"chosen"`
	Rejected string `json:"rejected"`
}

// FromComparison decodes a labelled pair of text clips into a record. ok is false for a choice
// that is not strict (equal, cant_tell). Both clips must continue the same prompt, as the
// hub's text pairs do: a record has one prompt.
func FromComparison(w *text.World, left, right prefs.Clip, c prefs.Choice) (r Record, ok bool, err error) {
	if c != prefs.Left && c != prefs.Right {
		return Record{}, false, nil
	}
	lp, lc, err := w.ClipTokens(left)
	if err != nil {
		return Record{}, false, fmt.Errorf("trl: left clip %s: %w", left.ID, err)
	}
	rp, rc, err := w.ClipTokens(right)
	if err != nil {
		return Record{}, false, fmt.Errorf("trl: right clip %s: %w", right.ID, err)
	}
	if !slices.Equal(lp, rp) {
		return Record{}, false, fmt.Errorf("trl: clips %s and %s continue different prompts", left.ID, right.ID)
	}
	win, lose := lc, rc
	if c == prefs.Right {
		win, lose = rc, lc
	}
	return Record{Prompt: w.Tok.Decode(lp), Chosen: w.Tok.Decode(win), Rejected: w.Tok.Decode(lose)}, true, nil
}
