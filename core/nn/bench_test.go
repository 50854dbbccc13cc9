package nn

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// naive is the plain loops nn started with, the baseline the other kernel sets must beat.

var naive = kernelSet{
	forward: func(y, x, w, b []float64, n, in, out int, _ *Tape) {
		for i := 0; i < n; i++ {
			xi := x[i*in : (i+1)*in]
			for j := 0; j < out; j++ {
				s := b[j]
				wj := w[j*in : (j+1)*in]
				for k, v := range xi {
					s += wj[k] * v
				}
				y[i*out+j] = s
			}
		}
	},
	weights: func(gw, d, x []float64, n, in, out int, _ *Tape) {
		for i := 0; i < n; i++ {
			xi := x[i*in : (i+1)*in]
			for j, g := range d[i*out : (i+1)*out] {
				gwj := gw[j*in : (j+1)*in]
				for k, v := range xi {
					gwj[k] += g * v
				}
			}
		}
	},
	inputs: func(dx, d, w []float64, n, in, out int, _ *Tape) {
		clear(dx)
		for i := 0; i < n; i++ {
			dxi := dx[i*in : (i+1)*in]
			for j, g := range d[i*out : (i+1)*out] {
				wj := w[j*in : (j+1)*in]
				for k, v := range wj {
					dxi[k] += g * v
				}
			}
		}
	},
}

var candidates = []struct {
	name string
	k    kernelSet
}{{"naive", naive}, {"gonum", gonumKernels}, {"blocked", blocked}, {"avx", avx}}

// TestCandidates checks that every candidate kernel set computes what the chosen one does, so
// that the benchmarks compare equals.
func TestCandidates(t *testing.T) {
	defer func(k kernelSet) { kern = k }(kern)
	m := randomMLP(5, []int{4, 64, 64, 1}, Tanh, Identity)
	rng := rand.New(rand.NewPCG(5, 5))
	x := randomSlice(rng, 130*4)
	dy := randomSlice(rng, 130)
	var want []float64
	for _, c := range candidates {
		kern = c.k
		var tape Tape
		grad := make([]float64, len(m.Params))
		y := m.Forward(&tape, x, 130)
		dx := m.Backward(&tape, append([]float64(nil), dy...), grad)
		got := append(append(append([]float64(nil), y...), dx...), grad...)
		if want == nil {
			want = got
		} else if !close(got, want, 1e-10) {
			t.Errorf("%s disagrees with %s", c.name, candidates[0].name)
		}
	}
}

// BenchmarkKernel times each product of a 128×64 batch through a 64×64 layer, per candidate.
func BenchmarkKernel(b *testing.B) {
	const n, in, out = 128, 64, 64
	rng := rand.New(rand.NewPCG(1, 2))
	x, w, bias := randomSlice(rng, n*in), randomSlice(rng, out*in), randomSlice(rng, out)
	d, y, gw, dx := randomSlice(rng, n*out), make([]float64, n*out), make([]float64, out*in), make([]float64, n*in)
	for _, c := range candidates {
		var t Tape
		ops := []struct {
			name string
			f    func()
		}{
			{"forward", func() { c.k.forward(y, x, w, bias, n, in, out, &t) }},
			{"weights", func() { c.k.weights(gw, d, x, n, in, out, &t) }},
			{"inputs", func() { c.k.inputs(dx, d, w, n, in, out, &t) }},
		}
		for _, op := range ops {
			b.Run(op.name+"/"+c.name, func(b *testing.B) {
				for b.Loop() {
					op.f()
				}
				b.ReportMetric(2*n*in*out*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

// BenchmarkWorkload times Forward+Backward of the two networks Prefer trains: PPO's 64-64
// tanh actor on CartPole at batch sizes from one step to a minibatch, and the reward model
// on 64 pairs × 2 segments × 25 steps.
func BenchmarkWorkload(b *testing.B) {
	defer func(k kernelSet) { kern = k }(kern)
	workloads := []struct {
		name  string
		sizes []int
		n     int
	}{
		{"ppo", []int{4, 64, 64, 2}, 4},
		{"ppo", []int{4, 64, 64, 2}, 64},
		{"ppo", []int{4, 64, 64, 2}, 512},
		{"reward", []int{4, 64, 64, 1}, 3200},
	}
	for _, wl := range workloads {
		for _, c := range candidates {
			b.Run(fmt.Sprintf("%s/n=%d/%s", wl.name, wl.n, c.name), func(b *testing.B) {
				kern = c.k
				benchForwardBackward(b, wl.sizes, wl.n, func(m *MLP, t *Tape, x, dy, grad []float64) {
					m.Forward(t, x, wl.n)
					m.Backward(t, dy, grad)
				})
			})
		}
	}
}

// benchForwardBackward runs step on a network of the given sizes and a batch of n, and
// reports GFLOP/s counting the 2·n·in·out multiply-adds of each of the three products.
func benchForwardBackward(b *testing.B, sizes []int, n int, step func(m *MLP, t *Tape, x, dy, grad []float64)) {
	m := randomMLP(1, sizes, Tanh, Identity)
	rng := rand.New(rand.NewPCG(1, 3))
	x := randomSlice(rng, n*m.In())
	dy := randomSlice(rng, n*m.Out())
	grad := make([]float64, len(m.Params))
	var t Tape
	flops := 0.0
	for l := 0; l+1 < len(sizes); l++ {
		flops += 6 * float64(n*sizes[l]*sizes[l+1])
	}
	for b.Loop() {
		step(m, &t, x, dy, grad)
	}
	b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}
