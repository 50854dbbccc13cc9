package lm

import "math"

// Pretrain takes steps AdamW steps (step sizes from Schedule) of next-token prediction on random windows of stream and
// calls progress (if non-nil) after each with the step number (from 1) and the batch's loss
// before the step. The same model, stream and seed give the same result.
func Pretrain(m *Model, stream []int, steps int, seed uint64, progress func(step int, loss float64)) error {
	return train(m, stream, steps, seed, m.Config, progress)
}

// FineTune continues training m on stream for steps AdamW steps with a fresh optimiser and a
// schedule of its own: warm-up over a tenth of the steps (at most m.Config.Warmup) to lr, then
// cosine decay to lr/10. It is the second stage of pretraining broad then narrow (as GPT's
// fine-tuning, Radford et al. 2018, §3.2, without a task head): the model keeps what the broad
// text taught and moves its distribution to stream's.
func FineTune(m *Model, stream []int, steps int, lr float64, seed uint64, progress func(step int, loss float64)) error {
	if !(lr > 0) {
		return errorf("lm: fine-tuning step size %v is not positive", lr)
	}
	c := m.Config
	c.LR, c.MinLR, c.Warmup = lr, lr/10, max(1, min(c.Warmup, steps/10))
	return train(m, stream, steps, seed, c, progress)
}

// train is Pretrain with the step sizes of schedule c.
func train(m *Model, stream []int, steps int, seed uint64, c Config, progress func(step int, loss float64)) error {
	if len(stream) < 2 {
		return errorf("lm: a stream of %d tokens has nothing to predict", len(stream))
	}
	if err := m.checkTokens(stream, len(stream)); err != nil {
		return err
	}
	tr := NewTrainer(m, seed)
	for s := 1; s <= steps; s++ {
		tr.Opt.LR = Schedule(c, s, steps)
		in, tg := tr.Batch(stream)
		t := len(in) / m.Config.Batch
		loss, _, err := tr.Step(in, tg, m.Config.Batch, t)
		if err != nil {
			return err
		}
		if progress != nil {
			progress(s, loss)
		}
	}
	return nil
}

// HeldOutLoss is the mean next-token cross-entropy (nats per token) over stream, read in
// consecutive windows of Ctx+1 tokens.
func HeldOutLoss(m *Model, stream []int) (float64, error) {
	var ws Workspace
	T := m.Config.Ctx
	total, n := 0.0, 0
	for o := 0; o+1 < len(stream); o += T {
		t := min(T, len(stream)-1-o)
		l, err := m.Loss(&ws, stream[o:o+t], stream[o+1:o+t+1], 1, t, nil)
		if err != nil {
			return 0, err
		}
		total += l * float64(t)
		n += t
	}
	if n == 0 {
		return 0, errorf("lm: a stream of %d tokens has nothing to predict", len(stream))
	}
	return total / float64(n), nil
}

// UnigramEntropy is the entropy (nats) of the token frequencies in stream: the held-out loss
// of the best model that ignores context, which a language model must beat.
func UnigramEntropy(stream []int, vocab int) float64 {
	counts := make([]float64, vocab)
	for _, id := range stream {
		if id >= 0 && id < vocab {
			counts[id]++
		}
	}
	h := 0.0
	for _, c := range counts {
		if c > 0 {
			p := c / float64(len(stream))
			h -= p * math.Log(p)
		}
	}
	return h
}

// Schedule is nanoGPT's step size at step s (from 1) of n: a linear warm-up over Warmup steps
// to LR, then a cosine decay to MinLR at step n (Loshchilov & Hutter 2017, without restarts).
func Schedule(c Config, s, n int) float64 {
	if s <= c.Warmup {
		return c.LR * float64(s) / float64(c.Warmup)
	}
	if n <= c.Warmup {
		return c.LR
	}
	f := float64(s-c.Warmup) / float64(n-c.Warmup)
	return c.MinLR + 0.5*(1+math.Cos(math.Pi*f))*(c.LR-c.MinLR)
}
