package main

import (
	"fmt"
	"io"
	"syscall"

	"github.com/prefer-rlhf/prefer/core/lm"
	"github.com/prefer-rlhf/prefer/server/corpus"
	"github.com/prefer-rlhf/prefer/server/langmodel"
)

func init() {
	registerBench("lm", func(stderr io.Writer) (any, error) { return benchLM(3, stderr) })
}

// benchLMTrainSteps and benchLMSampleRounds size one measurement of the lm part.
const (
	benchLMTrainSteps   = 20
	benchLMSampleRounds = 5
)

// benchLM measures the language model of issue 12 on its anchor shape (vocabulary 512,
// context 64, width 64, 2 layers, 4 heads, batch 32): training tokens/s with 2 gradient
// workers and per CPU-second (less sensitive to a shared machine), KV-cache sampling tokens/s (2 goroutines)
// at batch 64 and 1, each the median of runs; then the default pretraining run on the
// default corpus.
func benchLM(runs int, log io.Writer) (map[string]any, error) {
	var train, trainCPU, s64, s1 []float64
	for r := 1; r <= runs; r++ {
		cpu0 := cpuSeconds()
		train = append(train, lm.SpeedTrain(benchLMTrainSteps, 2))
		tokens := float64((benchLMTrainSteps + 1) * 32 * 64)
		trainCPU = append(trainCPU, tokens/(cpuSeconds()-cpu0))
		s64 = append(s64, lm.SpeedSample(benchLMSampleRounds, 64, 2))
		s1 = append(s1, lm.SpeedSample(benchLMSampleRounds, 1, 1))
		fmt.Fprintf(log, "bench lm: run %d: train %.0f tokens/s (%.0f per CPU-second), sample %.0f tokens/s at batch 64, %.0f at batch 1\n",
			r, train[r-1], trainCPU[r-1], s64[r-1], s1[r-1])
	}
	b, err := corpus.Load("")
	if err != nil {
		return nil, err
	}
	var broad []byte
	if langmodel.DefaultSettings().Broad {
		if broad, err = corpus.LoadBroad(""); err != nil {
			return nil, err
		}
	}
	res, _, _, err := langmodel.Pretrain(b, broad, langmodel.DefaultSettings(), log)
	if err != nil {
		return nil, fmt.Errorf("pretrain: %w", err)
	}
	return map[string]any{
		"params":                                   lm.NumParams(lm.DefaultConfig()),
		"train_tokens_per_second":                  median(train),
		"train_tokens_per_second_per_run":          train,
		"train_tokens_per_cpu_second":              median(trainCPU),
		"sample_tokens_per_second_batch64":         median(s64),
		"sample_tokens_per_second_batch64_per_run": s64,
		"sample_tokens_per_second_batch1":          median(s1),
		"pretrain_seconds":                         res.Seconds,
		"pretrain_params":                          res.Params,
		"pretrain_steps":                           res.Steps,
		"pretrain_heldout_loss":                    res.HeldOutLoss,
		"pretrain_unigram_entropy":                 res.UnigramEntropy,
		"goal_train_tokens_per_second":             25000,
		"goal_sample_tokens_per_second_batch64":    20000,
		"goal_pretrain_seconds_at_most":            600,
	}, nil
}

// cpuSeconds is the user and system CPU time this process has used.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}
