// Command lmbench measures core/lm's sampling and training speed on the anchor shape of
// issue 12 (three runs each) and prints one JSON object of medians. Compiled to wasm and run
// under Node it gives the browser figure (goal: at least 2,000 sampled tokens/s on one
// thread); run natively, the native one:
//
//	GOOS=js GOARCH=wasm go build -o /tmp/lm.wasm ./tests/lmbench &&
//	node "$(go env GOROOT)/lib/wasm/wasm_exec_node.js" /tmp/lm.wasm
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"sort"

	"github.com/prefer-rlhf/prefer/core/lm"
)

func main() {
	var s64, s1, train []float64
	for r := 1; r <= 3; r++ {
		s64 = append(s64, lm.SpeedSample(3, 64, 1))
		s1 = append(s1, lm.SpeedSample(3, 1, 1))
		train = append(train, lm.SpeedTrain(5, 1))
		fmt.Fprintf(os.Stderr, "lm %s/%s run %d: sample %.0f tokens/s at batch 64, %.0f at batch 1; train %.0f tokens/s\n",
			runtime.GOOS, runtime.GOARCH, r, s64[r-1], s1[r-1], train[r-1])
	}
	json.NewEncoder(os.Stdout).Encode(map[string]any{"lm_" + runtime.GOARCH: map[string]any{
		"sample_tokens_per_second_batch64":         median(s64),
		"sample_tokens_per_second_batch64_per_run": s64,
		"sample_tokens_per_second_batch1":          median(s1),
		"train_tokens_per_second_one_worker":       median(train),
		"goal_sample_tokens_per_second_batch64":    map[bool]float64{true: 2000, false: 20000}[runtime.GOARCH == "wasm"],
	}})
}

func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
