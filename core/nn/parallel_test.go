package nn

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestParallel checks that sharded gradients add up to the unsharded ones, that results are
// bit-for-bit reproducible for a fixed number of workers, and that every item is covered once.
func TestParallel(t *testing.T) {
	m := randomMLP(9, []int{4, 16, 16, 1}, Tanh, Identity)
	rng := rand.New(rand.NewPCG(9, 9))
	const n = 101
	x := randomSlice(rng, n*4)
	c := randomSlice(rng, n)
	step := func(p *Parallel, grad []float64) float64 {
		return p.Run(n, grad, func(lo, hi int, tape *Tape, g []float64) float64 {
			y := m.Forward(tape, x[lo*4:hi*4], hi-lo)
			dy := make([]float64, len(y))
			l := 0.0
			for i, v := range y {
				l += c[lo+i]*v + 0.5*v*v
				dy[i] = c[lo+i] + v
			}
			m.Backward(tape, dy, g)
			return l
		})
	}
	want := make([]float64, len(m.Params))
	wantLoss := step(NewParallel(1), want)
	for _, workers := range []int{2, 3, 7, 200} {
		p := NewParallel(workers)
		first := make([]float64, len(m.Params))
		firstLoss := step(p, first)
		if !close(first, want, 1e-12) || !close([]float64{firstLoss}, []float64{wantLoss}, 1e-12) {
			t.Fatalf("%d workers: gradient or loss differs from one worker", workers)
		}
		for range 3 {
			again := make([]float64, len(m.Params))
			if l := step(p, again); l != firstLoss || !close(again, first, 0) {
				t.Fatalf("%d workers: results are not reproducible", workers)
			}
		}
	}
	// Run adds to grad rather than overwriting it.
	g := make([]float64, len(m.Params))
	g[0] = 1
	step(NewParallel(2), g)
	if !close([]float64{g[0] - 1}, want[:1], 1e-12) {
		t.Fatal("Run overwrote grad instead of adding to it")
	}
	covered := make([]int, n)
	NewParallel(4).Run(n, nil, func(lo, hi int, _ *Tape, _ []float64) float64 {
		for i := lo; i < hi; i++ {
			covered[i]++
		}
		return 0
	})
	for i, k := range covered {
		if k != 1 {
			t.Fatalf("item %d covered %d times", i, k)
		}
	}
}

// BenchmarkParallel times Forward+Backward of the workloads split across 1 and 2 workers
// (run with -cpu 2 to see the gain on two cores).
func BenchmarkParallel(b *testing.B) {
	for _, wl := range []struct {
		name  string
		sizes []int
		n     int
	}{
		{"ppo", []int{4, 64, 64, 2}, 64},
		{"ppo", []int{4, 64, 64, 2}, 512},
		{"reward", []int{4, 64, 64, 1}, 3200},
	} {
		for _, workers := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/n=%d/workers=%d", wl.name, wl.n, workers), func(b *testing.B) {
				p := NewParallel(workers)
				in, out := wl.sizes[0], wl.sizes[len(wl.sizes)-1]
				benchForwardBackward(b, wl.sizes, wl.n, func(m *MLP, _ *Tape, x, dy, grad []float64) {
					p.Run(wl.n, grad, func(lo, hi int, t *Tape, g []float64) float64 {
						m.Forward(t, x[lo*in:hi*in], hi-lo)
						m.Backward(t, dy[lo*out:hi*out], g)
						return 0
					})
				})
			})
		}
	}
}
