package lm

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkTrainStep is one AdamW step of the anchor shape (batch 32 × 64 tokens).
func BenchmarkTrainStep(b *testing.B) {
	c := DefaultConfig()
	m, _ := New(c, 1)
	tr := NewTrainer(m, 1)
	rng := rand.New(rand.NewPCG(1, 1))
	stream := make([]int, 10000)
	for i := range stream {
		stream[i] = rng.IntN(c.Vocab)
	}
	for b.Loop() {
		in, tg := tr.Batch(stream)
		tr.Step(in, tg, c.Batch, c.Ctx)
	}
	b.ReportMetric(float64(b.N*c.Batch*c.Ctx)/b.Elapsed().Seconds(), "tokens/s")
}

// BenchmarkSample64 samples 63 tokens after a 1-token prompt for 64 sequences with the cache.
func BenchmarkSample64(b *testing.B) {
	c := DefaultConfig()
	m, _ := New(c, 1)
	s := m.NewParallelSampler(64, 2)
	rng := rand.New(rand.NewPCG(1, 1))
	prompts := make([]int, 64)
	for b.Loop() {
		s.Generate(rng, prompts, c.Ctx, 1)
	}
	b.ReportMetric(float64(b.N*64*c.Ctx)/b.Elapsed().Seconds(), "tokens/s")
}
