// Command wasmbench runs the reward-model speed task T1 (core/reward.T1) for five seeds and
// prints one JSON object of medians. build.sh compiles it to wasm and runs it under Node, so
// the figure is what a rater's browser engine does with the same Go code; run natively it
// gives the native figure.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"sort"

	"github.com/prefer-rlhf/prefer/core/reward"
)

func main() {
	const seeds = 5
	var secs, accs []float64
	for s := uint64(1); s <= seeds; s++ {
		sec, acc := reward.T1(s)
		fmt.Fprintf(os.Stderr, "t1 %s/%s seed %d: %.3fs, held-out accuracy %.3f\n", runtime.GOOS, runtime.GOARCH, s, sec, acc)
		secs, accs = append(secs, sec), append(accs, acc)
	}
	key := "reward_t1_" + runtime.GOARCH
	out := map[string]any{key: map[string]any{
		"seeds":                    seeds,
		"fit_seconds_median":       median(secs),
		"fit_seconds":              secs,
		"heldout_accuracy_median":  median(accs),
		"goal_fit_seconds_at_most": map[bool]float64{true: 6.5, false: 1.3}[runtime.GOARCH == "wasm"],
	}}
	json.NewEncoder(os.Stdout).Encode(out)
}

func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
