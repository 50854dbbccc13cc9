package reward

import (
	"math"
	"math/rand/v2"

	"github.com/prefer-rlhf/prefer/core/nn"
)

// Randomized prior functions (Osband, Aslanides & Cassirer 2018, "Randomized Prior Functions
// for Deep Reinforcement Learning", eq. 4): with Config.Prior = β_p > 0, member k's raw output
// is f_θk(x) + β_p·p_k(x), where p_k is a network of the member's architecture drawn at random
// once and never trained. Only f_θk learns, so on the comparisons' transitions the sum fits
// the labels and the members agree, while away from them each member keeps its own prior's
// shape: the ensemble's spread grows off the data, which the worst-case and uncertainty-
// weighted objectives (objective.go; Coste et al. 2023) need to stay away from what no label
// covered. Without a prior, members fitted on the same labels from different inits tend to
// extrapolate alike (a leaky-ReLU network is close to linear far out).
//
// The priors follow from Config.Seed and the member's index, so they are not stored (codec.go)
// nor carried in MemberState or the flat parameter vector (params.go): every copy of a model
// with the same configuration draws the same priors.

// priorStream is the PCG stream of member i's prior, apart from its training stream.
func priorStream(i int) uint64 { return 0x9410_0000 + uint64(i) }

// newPrior returns member i's fixed random prior network, initialised as the members are.
func newPrior(cfg Config, sizes []int, i int) *nn.MLP {
	p := nn.New(sizes, cfg.Activation, nn.Identity)
	p.InitOrthogonal(rand.New(rand.NewPCG(cfg.Seed, priorStream(i))), math.Sqrt2, 1)
	return p
}

// forward returns the member's raw output on the n feature rows x: its network's, plus β_p
// times its prior's. The sum is written into the network's output on t; the output layer is
// linear, so BackwardParams on t still gives the gradient of f_θ, the prior's being fixed.
// pt is the prior's own tape, so t keeps the network's activations for the backward pass.
func (mb *member) forward(t, pt *nn.Tape, x []float64, n int) []float64 {
	y := mb.net.Forward(t, x, n)
	if mb.prior != nil {
		p := mb.prior.Forward(pt, x, n)
		for i, v := range p {
			y[i] += mb.priorScale * v
		}
	}
	return y
}
