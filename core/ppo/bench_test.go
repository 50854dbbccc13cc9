package ppo

import (
	"testing"
)

// benchTrain measures env steps per second of whole PPO iterations (rollout and update).
func benchTrain(b *testing.B, cfg Config) {
	tr, err := New(cfg, 1)
	if err != nil {
		b.Fatal(err)
	}
	// Warm up buffers and let the policy leave the random regime a little.
	if err := tr.Train(cfg.BatchSize()*4, nil); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	if err := tr.Train(b.N*cfg.BatchSize(), nil); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N*cfg.BatchSize())/b.Elapsed().Seconds(), "steps/s")
}

// BenchmarkCleanRLCartPole is PPO on CartPole-v1 with CleanRL's ppo.py hyperparameters (4 envs
// × 128 steps, 4 epochs of 4 minibatches, 64-64 tanh); one op is one iteration of 512 steps.
func BenchmarkCleanRLCartPole(b *testing.B) { benchTrain(b, CleanRLConfig("CartPole-v1")) }

// BenchmarkDefaultCartPole is the same with DefaultConfig; one op is one iteration.
func BenchmarkDefaultCartPole(b *testing.B) { benchTrain(b, DefaultConfig("CartPole-v1")) }
