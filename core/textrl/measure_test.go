package textrl

import (
	"math"
	"strings"
	"testing"

	"github.com/prefer-rlhf/prefer/core/text"
)

// TestMeasureTextsDistinctPerBlock checks that distinct-2 is averaged over blocks of 8
// continuations per prompt, not taken over all of them: two prompts, 16 continuations each,
// the first 8 of each the same phrase and the last 8 all different.
func TestMeasureTextsDistinctPerBlock(t *testing.T) {
	w := &text.World{}
	task, _ := text.TaskOf("checker/TextNoE-v0")
	var texts []string
	for p := range 2 {
		for k := range 16 {
			if k < 8 {
				texts = append(texts, "so so so")
			} else {
				texts = append(texts, strings.Repeat(string(rune('a'+p)), k)+" w"+strings.Repeat("x", k))
			}
		}
	}
	block := func(lo int) []string { return append(append([]string{}, texts[lo:lo+8]...), texts[16+lo:16+lo+8]...) }
	want := (text.Distinct2(block(0)) + text.Distinct2(block(8))) / 2
	got := measureTexts(w, task, texts, 16)
	if math.Abs(got.Distinct2-want) > 1e-12 || math.Abs(want-text.Distinct2(texts)) < 0.01 {
		t.Errorf("distinct-2 %v, want the blocks' mean %v (all texts at once: %v)", got.Distinct2, want, text.Distinct2(texts))
	}
	if all := w.Measure(task, texts); got.FreeOfE != all.FreeOfE || got.Gold != all.Gold {
		t.Errorf("the shares and gold must be over all texts: %+v against %+v", got, all)
	}
	if m8 := measureTexts(w, task, texts[:16], 8); m8 != w.Measure(task, texts[:16]) {
		t.Errorf("at 8 per prompt the measures are World.Measure's: %+v", m8)
	}
}

// TestShareCIResamplesPrompts checks that the interval treats prompts as the unit: one prompt
// whose continuations all hit and one whose continuations all miss give an interval spanning
// nearly [0, 1], where resampling the 200 texts as if independent would give about ±0.07.
func TestShareCIResamplesPrompts(t *testing.T) {
	texts := make([]string, 200)
	for i := range texts {
		texts[i] = map[bool]string{true: "hit", false: "miss"}[i < 100]
	}
	hit := func(s string) bool { return s == "hit" }
	ci := shareCI(1, texts, 100, hit)
	if ci[0] > 0.01 || ci[1] < 0.99 {
		t.Errorf("two prompts, all or nothing: interval %v, want about [0, 1]", ci)
	}
	// Alternate hits within every prompt: each prompt's share is 0.5, so the interval is [0.5, 0.5].
	for i := range texts {
		texts[i] = map[bool]string{true: "hit", false: "miss"}[i%2 == 0]
	}
	if ci := shareCI(1, texts, 10, hit); ci != [2]float64{0.5, 0.5} {
		t.Errorf("every prompt at 0.5: interval %v, want [0.5 0.5]", ci)
	}
	if a, b := shareCI(7, texts[:40], 4, hit), shareCI(7, texts[:40], 4, hit); a != b {
		t.Errorf("the interval is not reproducible: %v, %v", a, b)
	}
}

// TestMeanCIResamplesPrompts checks meanCI on per-text values: it averages each prompt's texts
// first, so values that vary only within prompts give a zero-width interval at their mean, and
// prompts with different means give an interval between the lowest and highest.
func TestMeanCIResamplesPrompts(t *testing.T) {
	xs := make([]float64, 40) // 10 prompts of 4: 1, 3, 1, 3 in each
	for i := range xs {
		xs[i] = float64(1 + 2*(i%2))
	}
	if ci := meanCI(1, xs, 4); ci != [2]float64{2, 2} {
		t.Errorf("every prompt's mean 2: interval %v, want [2 2]", ci)
	}
	for i := range xs { // prompt p's texts all p: means 0..9, mean 4.5
		xs[i] = float64(i / 4)
	}
	ci := meanCI(1, xs, 4)
	if !(0 < ci[0] && ci[0] < 4.5 && 4.5 < ci[1] && ci[1] < 9) || ci[1]-ci[0] < 1 {
		t.Errorf("prompt means 0..9: interval %v, want around 4.5, inside (0, 9), at least 1 wide", ci)
	}
}

// TestGoal: a continuation meets TextPositive-v0's goal with a gold score above 0 and
// TextNoE-v0's with none of its letters e (score 0); a neutral text meets only the second.
func TestGoal(t *testing.T) {
	pos, noE := text.Task{Name: "TextPositive-v0"}, text.Task{Name: "TextNoE-v0", NoReward: true}
	if !goal(pos, 0.4) || goal(pos, 0) || goal(pos, -0.2) || !goal(noE, 0) || goal(noE, -1) {
		t.Error("goal tests the wrong side")
	}
}
