package lm

import (
	"math/rand/v2"
	"time"
)

// The speed tasks of issue 12, on the anchor shape (DefaultConfig) with random tokens, for
// `prefer bench` natively and tests/lmbench under Node.

// SpeedTrain times steps AdamW steps of batch Batch × Ctx after one warm-up step, with the
// given gradient workers, and returns training tokens per second.
func SpeedTrain(steps, workers int) float64 {
	c := DefaultConfig()
	c.Workers = workers
	m, _ := New(c, 1)
	tr := NewTrainer(m, 1)
	rng := rand.New(rand.NewPCG(1, 2))
	stream := make([]int, 1<<14)
	for i := range stream {
		stream[i] = rng.IntN(c.Vocab)
	}
	in, tg := tr.Batch(stream)
	tr.Step(in, tg, c.Batch, c.Ctx)
	start := time.Now()
	for range steps {
		in, tg := tr.Batch(stream)
		tr.Step(in, tg, c.Batch, c.Ctx)
	}
	return float64(steps*c.Batch*c.Ctx) / time.Since(start).Seconds()
}

// SpeedSample times rounds of sampling Ctx tokens (after a one-token prompt) for batch
// sequences with the KV cache split over workers goroutines, after one warm-up round, and
// returns sampled tokens per second.
func SpeedSample(rounds, batch, workers int) float64 {
	c := DefaultConfig()
	m, _ := New(c, 1)
	s := m.NewParallelSampler(batch, workers)
	rng := rand.New(rand.NewPCG(1, 3))
	prompts := make([]int, batch)
	s.Generate(rng, prompts, c.Ctx, 1)
	start := time.Now()
	for range rounds {
		s.Generate(rng, prompts, c.Ctx, 1)
	}
	return float64(rounds*batch*c.Ctx) / time.Since(start).Seconds()
}
