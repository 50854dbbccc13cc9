// Command wasmbench runs the reward-model speed task T1 (core/reward.T1) for five seeds and
// prints one JSON object of medians. build.sh compiles it to wasm and runs it under Node, so
// the figure is what a rater's browser engine does with the same Go code; run natively it
// gives the native figure.
//
// In wasm it runs each seed twice, with core/nn's Go kernels and with wasm/simd's SIMD module
// (what the browser uses), alternating which goes first, and checks that both fit the same
// bits. The SIMD module needs Go's memory handed over (wasm/simd/node_preload.js):
//
//	GOOS=js GOARCH=wasm go build -o /tmp/t1.wasm ./tests/wasmbench
//	node --require ./wasm/simd/node_preload.js "$(go env GOROOT)/lib/wasm/wasm_exec_node.js" /tmp/t1.wasm
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"sort"

	"github.com/prefer-rlhf/prefer/core/reward"
	"github.com/prefer-rlhf/prefer/wasm/simd"
)

func main() {
	const seeds = 5
	simdErr := simd.Install()
	if simdErr != nil && runtime.GOARCH == "wasm" {
		fmt.Fprintln(os.Stderr, "t1: Go kernels only:", simdErr)
	}
	simd.Uninstall()
	var goSecs, simdSecs, accs []float64
	sameBits := true
	for s := uint64(1); s <= seeds; s++ {
		var goModel, simdModel []byte
		runs := []bool{false, true} // with SIMD?
		if s%2 == 0 {
			runs = []bool{true, false}
		}
		for _, withSIMD := range runs {
			if withSIMD && simdErr != nil {
				continue
			}
			kernel := "go"
			if withSIMD {
				kernel = "simd"
				if err := simd.Install(); err != nil {
					panic(err)
				}
			}
			m, sec, acc := reward.T1Fit(s)
			simd.Uninstall()
			b, err := m.MarshalBinary()
			if err != nil {
				panic(err)
			}
			fmt.Fprintf(os.Stderr, "t1 %s/%s %s kernel seed %d: %.3fs, held-out accuracy %.3f\n", runtime.GOOS, runtime.GOARCH, kernel, s, sec, acc)
			if withSIMD {
				simdSecs, simdModel = append(simdSecs, sec), b
			} else {
				goSecs, goModel, accs = append(goSecs, sec), b, append(accs, acc)
			}
		}
		if simdModel != nil && !bytes.Equal(goModel, simdModel) {
			sameBits = false
			fmt.Fprintf(os.Stderr, "t1: seed %d: the SIMD kernel fitted a different model from the Go kernels'\n", s)
		}
	}
	key := "reward_t1_" + runtime.GOARCH
	res := map[string]any{
		"seeds":                    seeds,
		"fit_seconds_median":       median(goSecs),
		"fit_seconds":              goSecs,
		"heldout_accuracy_median":  median(accs),
		"goal_fit_seconds_at_most": map[bool]float64{true: 6.5, false: 1.3}[runtime.GOARCH == "wasm"],
	}
	if simdSecs != nil {
		// What the browser runs: the SIMD kernel, with the Go kernels' figure above as the
		// same run's anchor.
		res["go_kernel_fit_seconds_median"], res["go_kernel_fit_seconds"] = res["fit_seconds_median"], res["fit_seconds"]
		res["fit_seconds_median"], res["fit_seconds"] = median(simdSecs), simdSecs
		res["kernel"] = "simd"
		res["simd_same_bits"] = sameBits
	}
	json.NewEncoder(os.Stdout).Encode(map[string]any{key: res})
	if !sameBits {
		os.Exit(1)
	}
}

func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
