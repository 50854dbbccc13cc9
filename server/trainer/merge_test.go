package trainer

import (
	"encoding/json"
	"math/rand/v2"
	"testing"

	"github.com/prefer-rlhf/prefer/core/loop"
	"github.com/prefer-rlhf/prefer/core/merge"
	"github.com/prefer-rlhf/prefer/core/oracle"
	"github.com/prefer-rlhf/prefer/core/reward"
)

// TestMergedPrivateUpdatesMatchPooled: three private-mode raters each fit their own labels
// from the global model and send only weight deltas; FedAvg rounds of those deltas (weighted by
// label count, McMahan et al. 2017) must reach a held-out accuracy close to training the same
// model for the same number of steps on all labels pooled.
func TestMergedPrivateUpdatesMatchPooled(t *testing.T) {
	const (
		raters   = 3
		perRater = 60
		val      = 150
		rounds   = 2
		passes   = 2 // Update passes per round, locally and pooled alike
		clipLen  = 25
	)
	rng := rand.New(rand.NewPCG(11, 12))
	e, _ := horizonEnv("CartPole-v1")
	// Segments of random behaviour with their true fixed-horizon returns.
	var segs []reward.Segment
	var rets []float64
	for i := 0; i < 120; i++ {
		c := candidateOf(e.Spec(), loop.Roll(e, nil, rng.IntN(30), clipLen, rng))
		r, _ := TrueReturn(c.clip)
		segs, rets = append(segs, c.seg), append(rets, r)
	}
	label := func() reward.Comparison {
		for {
			a, b := rng.IntN(len(segs)), rng.IntN(len(segs))
			if rets[a] == rets[b] {
				continue
			}
			cmp, _ := reward.Label(segs[a], segs[b], oracle.Rater{}.Choose(rng, rets[a], rets[b]))
			return cmp
		}
	}
	private := make([]*reward.Dataset, raters)
	pooled := &reward.Dataset{}
	for k := range private {
		private[k] = &reward.Dataset{}
		for i := 0; i < perRater; i++ {
			c := label()
			private[k].Train = append(private[k].Train, c)
			pooled.Train = append(pooled.Train, c)
		}
	}
	var held []reward.Comparison
	for i := 0; i < val; i++ {
		held = append(held, label())
	}

	cfg := reward.Defaults()
	cfg.Parallel = false
	global, err := reward.New(cfg, reward.Shape{ObsDim: 4, ActDim: 1, ActN: 2})
	if err != nil {
		t.Fatal(err)
	}
	clone := func(m *reward.Model) *reward.Model {
		b, _ := json.Marshal(m)
		c := new(reward.Model)
		if err := json.Unmarshal(b, c); err != nil {
			t.Fatal(err)
		}
		return c
	}
	update := func(m *reward.Model, d *reward.Dataset, n int) {
		for i := 0; i < n; i++ {
			if _, err := m.Update(d); err != nil {
				t.Fatal(err)
			}
		}
	}
	before := accuracy(global, held)

	pool := clone(global)
	update(pool, pooled, rounds*passes)
	pooledAcc := accuracy(pool, held)

	fed := clone(global)
	for r := 0; r < rounds; r++ {
		base := reward.Params(fed)
		var ups []merge.Update
		for k := range private {
			local := clone(fed)
			update(local, private[k], passes)
			d := reward.Params(local)
			for i := range d {
				d[i] -= base[i]
			}
			ups = append(ups, merge.Update{Delta: d, Labels: len(private[k].Train)})
		}
		delta, err := merge.FedAvg(ups, merge.Config{})
		if err != nil {
			t.Fatal(err)
		}
		if err := reward.AddParams(fed, delta); err != nil {
			t.Fatal(err)
		}
	}
	fedAcc := accuracy(fed, held)
	t.Logf("held-out accuracy: untrained %.3f, pooled %.3f, merged private %.3f", before, pooledAcc, fedAcc)
	if pooledAcc < before+0.1 {
		t.Fatalf("pooled training did not learn: %.3f -> %.3f", before, pooledAcc)
	}
	if fedAcc < pooledAcc-0.06 {
		t.Fatalf("merged private updates reach %.3f, pooled labels %.3f", fedAcc, pooledAcc)
	}
}

// accuracy is the share of comparisons whose preferred side the model's P(left) picks.
func accuracy(m *reward.Model, cs []reward.Comparison) float64 {
	ok := 0
	for _, c := range cs {
		p, _ := m.Prefer(c.Left, c.Right)
		if (p > 0.5) == (c.Mu > 0.5) {
			ok++
		}
	}
	return float64(ok) / float64(len(cs))
}
