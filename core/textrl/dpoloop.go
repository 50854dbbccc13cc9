package textrl

import (
	"fmt"
	"math/rand/v2"

	"github.com/prefer-rlhf/prefer/core/dpo"
	"github.com/prefer-rlhf/prefer/core/lm"
	"github.com/prefer-rlhf/prefer/core/nn"
)

// The KL budget's check (Config.DPOKLBudget): every dpoCheckEvery DPO steps, the policy's KL
// from the reference on Config.DPOKLSamples continuations of training prompts. At Adam 3e-4
// eight steps move the KL by 1-2 nats on the default model, so checks every 8 steps threw
// most of a round away at the budget; every 2 keep it (README, session 12).
const dpoCheckEvery = 2

// dpoTuner is DPO on a copy of the reference, over one or more rounds of pairs: one policy
// and one Adam, so that each round continues where the last ended, and the reference as the
// anchor of every round's loss (Xiong et al. 2024, Algorithm 1: the KL-regularised target
// stays π_ref's).
type dpoTuner struct {
	cfg    Config
	ref    *lm.Model
	policy *lm.Model
	dm     *dpoModel
	opt    *nn.Adam
	// optB steps the output bias (Config.DPOOutBias) at Config.DPOBiasLR; nil when opt steps
	// every parameter. nb is the bias's length, the last of the policy's parameters.
	optB  *nn.Adam
	nb    int
	steps int
	// replica tells the tuner's order of pairs from its sibling replicas' (Config.DPOReplicas).
	replica uint64
	// budget is the current round's KL budget (Config.DPOKLBudget, or its share of it with
	// Config.DPOKLRamp; 0: none).
	budget float64
	// klc is the KL budget's check, on prompts drawn once from the training prompts; check
	// reports what it measured (nil: not reported).
	klc   klCheck
	check func(Point, [][]int, [][]int)
}

// newDPOTuner returns a tuner whose policy is a fresh copy of ref (with a zero output bias
// added if cfg.DPOOutBias); train are the training prompts the KL budget is measured on, L
// the continuation length.
func newDPOTuner(cfg Config, ref *lm.Model, train [][]int, L int) *dpoTuner {
	policy := ref.Clone()
	if cfg.DPOOutBias {
		policy = ref.WithOutputBias()
	}
	t := &dpoTuner{cfg: cfg, ref: ref, policy: policy,
		dm:     &dpoModel{m: policy, grad: make([]float64, len(policy.Params))},
		budget: cfg.DPOKLBudget,
		klc: klCheck{ref: ref, L: L, seed: cfg.Seed, stream: 0x6b6c636865636b,
			what: fmt.Sprintf("%d continuations of training prompts", cfg.DPOKLSamples)}}
	if cfg.DPOOutBias && cfg.DPOBiasLR > 0 {
		t.nb = policy.Config.Vocab
		t.optB = nn.NewAdam(t.nb, cfg.DPOBiasLR)
	}
	t.opt = nn.NewAdam(len(policy.Params)-t.nb, cfg.DPOLR)
	if cfg.DPOKLBudget > 0 || cfg.DPOExtrapolate > 0 {
		rng := rand.New(rand.NewPCG(cfg.Seed, 0x6b6c627564676574))
		for range cfg.DPOKLSamples {
			t.klc.prompts = append(t.klc.prompts, train[rng.IntN(len(train))])
		}
	}
	return t
}

// kl is the policy's KL from the reference on the check's continuations (klc.measure).
func (t *dpoTuner) kl() (float64, [][]int, error) { return t.klc.measure(t.policy) }

// train runs cfg.DPOEpochs epochs of DPO on pairs, logging each epoch to log (if non-nil).
// With a KL budget it checks the KL every dpoCheckEvery steps and at the end; past the
// budget, the policy goes back to the last check within it and training stops (over is
// true). The stats are of the last epoch.
func (t *dpoTuner) train(pairs []dpo.Pair, log func(e int, st dpo.Stats)) (st dpo.Stats, over bool, err error) {
	dc := t.cfg.DPO
	dc.Seed = t.cfg.Seed + uint64(t.steps) + t.replica<<40 // a fresh order of pairs in each round and replica
	anchor := t.ref
	if t.cfg.DPORoundRef {
		anchor = t.policy.Clone()
	}
	tr, err := dpo.New(dc, t.dm, &dpoModel{m: anchor}, pairs)
	if err != nil {
		return st, false, err
	}
	budget := t.budget > 0
	var good []float64 // the policy at the last check within the budget
	if budget {
		good = append(good, t.policy.Params...)
	}
	// check measures the KL and says whether the budget is spent, restoring good if so.
	check := func() bool {
		kl, conts, e := t.kl()
		if e != nil {
			err = e
			return true
		}
		if t.check != nil {
			t.check(Point{Iter: t.steps, KL: kl, Beta: dc.Beta}, t.klc.prompts, conts)
		}
		if kl > t.budget {
			copy(t.policy.Params, good)
			over = true
			return true
		}
		copy(good, t.policy.Params)
		return false
	}
	unchecked := 0
	for e := range t.cfg.DPOEpochs {
		st = tr.EpochUntil(func() bool {
			nn.ClipGradNorm(t.dm.grad, 1)
			k := len(t.policy.Params) - t.nb
			t.opt.Step(t.policy.Params[:k], t.dm.grad[:k])
			if t.optB != nil {
				t.optB.Step(t.policy.Params[k:], t.dm.grad[k:])
			}
			clear(t.dm.grad)
			t.steps++
			unchecked++
			if !budget || unchecked < dpoCheckEvery {
				return false
			}
			unchecked = 0
			return check()
		})
		if log != nil {
			log(e, st)
		}
		if over || err != nil {
			return st, over, err
		}
	}
	if budget && unchecked > 0 {
		check()
	}
	return st, over, err
}

// tuneDPO returns a copy of ref tuned by offline DPO on pairs for cfg.DPOEpochs epochs,
// logging each epoch to log (if non-nil): one round, no KL budget (the hub's Learner.DPO).
func tuneDPO(cfg Config, ref *lm.Model, pairs []dpo.Pair, log func(e int, st dpo.Stats)) (*lm.Model, dpo.Stats, error) {
	cfg.DPOKLBudget, cfg.DPOExtrapolate = 0, 0
	t := newDPOTuner(cfg, ref, nil, 0)
	st, _, err := t.train(pairs, log)
	if err != nil {
		return nil, st, err
	}
	return t.policy, st, nil
}

// dpoRounds runs DPO as Run's method: in each round r, on the pairs that roundPairs returns
// for the policy as it is (round 0's come from the reference, later rounds' from the
// policy's own continuations). It returns the tuned policy, extrapolated past DPO's end
// with Config.DPOExtrapolate, and the extrapolation's η (0: no extrapolation asked for).
func dpoRounds(cfg Config, ref *lm.Model, train [][]int, L int, rounds int,
	roundPairs func(m *lm.Model, r int) ([]dpo.Pair, error), logf func(string), check func(Point, [][]int, [][]int)) (*lm.Model, float64, error) {
	t := newDPOTuner(cfg, ref, train, L)
	t.check = check
	ts := []*dpoTuner{t} // the replicas (Config.DPOReplicas); t merges them
	for k := 1; k < cfg.DPOReplicas; k++ {
		tk := newDPOTuner(cfg, ref, train, L)
		tk.replica = uint64(k)
		ts = append(ts, tk)
	}
	for r := range rounds {
		round, err := roundPairs(t.policy, r)
		if err != nil {
			return nil, 0, err
		}
		if len(round) == 0 {
			continue
		}
		for k, tk := range ts {
			if cfg.DPOKLRamp {
				tk.budget = cfg.DPOKLBudget * float64(r+1) / float64(rounds)
			}
			who := ""
			if len(ts) > 1 {
				who = fmt.Sprintf(" replica %d/%d", k+1, len(ts))
			}
			_, over, err := tk.train(round, func(e int, st dpo.Stats) {
				logf(fmt.Sprintf("dpo round %d/%d%s epoch %d/%d  %d pairs  loss %.4f  accuracy %.3f  margin %.3f  step %d",
					r+1, rounds, who, e+1, cfg.DPOEpochs, len(round), st.Loss, st.Accuracy, st.Margin, tk.steps))
			})
			if err != nil {
				return nil, 0, err
			}
			if over {
				logf(fmt.Sprintf("dpo round %d/%d%s: KL budget %.2f nats reached on the training prompts; back to the last check within it", r+1, rounds, who, tk.budget))
			}
		}
		if len(ts) > 1 {
			kl, err := mergeReplicas(ts)
			if err != nil {
				return nil, 0, err
			}
			logf(fmt.Sprintf("dpo round %d/%d: %d replicas merged, kl on training prompts %.2f", r+1, rounds, len(ts), kl))
		}
	}
	if cfg.DPOExtrapolate > 0 {
		eta, err := t.extrapolate(cfg.DPOExtrapolate, cfg.DPOExtrapolateStep, logf)
		return t.policy, eta, err
	}
	return t.policy, 0, nil
}
