package loop

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/prefer-rlhf/prefer/core/env"
	"github.com/prefer-rlhf/prefer/core/ppo"
	"github.com/prefer-rlhf/prefer/core/prefs"
	"github.com/prefer-rlhf/prefer/core/query"
	"github.com/prefer-rlhf/prefer/core/reward"
)

// Point is one round of an experiment, for the learning curve.
type Point struct {
	Round       int     `json:"round"`
	EnvSteps    int     `json:"env_steps"`
	Labels      int     `json:"labels"`       // comparisons asked so far
	TrueReturn  float64 `json:"true_return"`  // mean true return on the standard task, CurveEpisodes episodes
	ValAccuracy float64 `json:"val_accuracy"` // the reward model's accuracy on its held-out comparisons
	Seconds     float64 `json:"seconds"`      // wall time since the start
}

// Report is the outcome of an experiment.
type Report struct {
	Env                    string  `json:"env"`
	Seed                   uint64  `json:"seed"`
	Query                  string  `json:"query"`
	Noise                  float64 `json:"noise"`
	LabelsUsed             int     `json:"labels_used"`
	EnvSteps               int     `json:"env_steps"`
	EvalReturn             float64 `json:"eval_return"`               // true reward, EvalEpisodes fresh episodes of the standard task
	RandomReturn           float64 `json:"random_return"`             // a uniformly random policy's, same episodes
	RewardModelValAccuracy float64 `json:"reward_model_val_accuracy"` // on the held-out 1/e of the comparisons
	WallSeconds            float64 `json:"wall_seconds"`
	Curve                  []Point `json:"curve"`
	// Policy is the trained policy at the end.
	Policy *ppo.Policy `json:"-"`
	// Model is the reward model at the end.
	Model *reward.Model `json:"-"`
	// Adversarial is what the adversarial rounds did (Config.AdversarialRounds > 0); its
	// fields appear at the report's top level.
	*Adversarial
}

// Run runs an experiment. progress, if not nil, is called after every round.
func Run(cfg Config, progress func(Point)) (*Report, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	start := time.Now()
	base, err := env.Lookup(cfg.Env)
	if err != nil {
		return nil, fmt.Errorf("loop: %w", err)
	}
	spec := base.Spec()
	fixed, err := env.FixedHorizon(base, 0)
	if err != nil {
		return nil, fmt.Errorf("loop: %w", err)
	}
	clipLen := min(cfg.clipSteps(spec), spec.MaxEpisodeSteps)
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x6c6f6f70))

	trainer, err := ppo.New(cfg.PPOConfig(spec, false), cfg.Seed)
	if err != nil {
		return nil, err
	}
	model, err := reward.New(cfg.RewardConfig(spec, cfg.Seed^0x7265776172640000), reward.Shape{ObsDim: spec.ObsDim, ActDim: spec.Action.Dim(), ActN: spec.Action.N})
	if err != nil {
		return nil, err
	}
	data := &reward.Dataset{}
	rep := &Report{Env: cfg.Env, Seed: cfg.Seed, Query: string(cfg.Query.Strategy), Noise: cfg.Rater.ErrorRate}

	// label has the rater (or teacher) compare l and r and adds the answer to the data.
	label := func(l, r *Clip, skip, equal float64) {
		var choice prefs.Choice
		if cfg.Teacher != nil {
			choice = cfg.Teacher.Label(rng, l.Rewards, r.Rewards, skip, equal)
		} else {
			choice = cfg.Rater.Choose(rng, l.TrueReturn, r.TrueReturn)
		}
		// A skipped query ("can't tell") is not fitted but counts against the budget,
		// as B-Pref counts its skipped queries in total_feedback.
		data.AddChoice(l.Seg, r.Seg, choice)
		rep.LabelsUsed++
	}
	// ask has the rater label n pairs chosen from pool as qc says, and adds them to the data.
	ask := func(pool []Clip, n int, qc query.Config) error {
		if n <= 0 || len(pool) < 2 {
			return nil
		}
		in, err := QueryInputs(model, pool, data, qc.Strategy)
		if err != nil {
			return err
		}
		pairs, err := query.SelectFrom(rng, len(pool), n, qc, in)
		if err != nil {
			return err
		}
		skip, equal := teacherThresholds(cfg.Teacher, trainer, pool, clipLen)
		for _, p := range pairs {
			label(&pool[p.Left], &pool[p.Right], skip, equal)
		}
		return nil
	}
	var current ppo.Reward // what PPO optimises now
	// fit refits r̂ on every label so far, normalises it (over recent clips of the current
	// policy or over the labelled ones, as cfg says) and hands it, clamped, to PPO.
	fit := func(recent []Clip) (reward.Stats, error) {
		if len(data.Train) == 0 {
			return reward.Stats{ValAccuracy: math.NaN()}, nil
		}
		st, err := model.Fit(data)
		if err != nil {
			return st, err
		}
		r := cfg.LearnedReward(model, data, spec.ObsDim)
		if err := r.SetObjective(cfg.Objective, cfg.ObjectiveLambda); err != nil {
			return st, err
		}
		segs := make([]reward.Segment, len(recent))
		for i := range recent {
			segs[i] = recent[i].Seg
		}
		if err := cfg.Normalize(r, data, segs); err != nil {
			return st, err
		}
		trainer.SetReward(r)
		current = r
		return st, nil
	}

	// Before training: a share of the labels on clips of a random policy (App. A).
	initial := min(cfg.Query.InitialLabels(cfg.Labels), cfg.Labels)
	if cfg.Rounds == 1 {
		initial = cfg.Labels
	}
	// A random policy soon reaches states it never leaves (a fallen pole), so its clips start
	// at a reset, where they differ most.
	randomPool := Clips(fixed, nil, cfg.PoolClips, clipLen, 0, rng)
	// The model is untrained: disagreement among random members is noise, so the first pairs
	// are random whatever the strategy.
	first := cfg.Query
	first.Strategy = query.Random
	if err := ask(randomPool, initial, first); err != nil {
		return nil, err
	}
	st, err := fit(randomPool)
	if err != nil {
		return nil, err
	}
	if len(data.Train) == 0 {
		trainer.SetReward(model)
		current = model
	}
	var old []*ppo.Policy

	perRound := schedule(cfg.Labels-rep.LabelsUsed, cfg.Rounds, cfg.LabelDecay)
	for k := 0; k < cfg.Rounds; k++ {
		steps := (k+1)*cfg.Steps/cfg.Rounds - k*cfg.Steps/cfg.Rounds
		if k > 0 && cfg.OldPolicies > 0 {
			old = append(old, trainer.Policy().Clone())
			old = old[max(len(old)-cfg.OldPolicies, 0):]
		}
		if err := trainer.Train(steps, nil); err != nil {
			return nil, err
		}
		if n := perRound[k]; n > 0 {
			// Candidate clips of the current policy, of older ones and of a random one.
			pool := make([]Clip, cfg.PoolClips)
			current, recent := PolicyActor(trainer.Policy()), []Clip{}
			for i := range pool {
				src := cfg.PickSource(rng, true, len(old))
				var act Actor
				switch src {
				case FromOld:
					act = PolicyActor(old[rng.IntN(len(old))])
				case FromCurrent:
					act = current
				}
				pool[i] = Roll(fixed, act, ClipStart(rng, src, spec.MaxEpisodeSteps, clipLen), clipLen, rng)
				if src == FromCurrent {
					recent = append(recent, pool[i])
				}
			}
			if err := ask(pool, n, cfg.Query); err != nil {
				return nil, err
			}
			if st, err = fit(recent); err != nil {
				return nil, err
			}
		}
		if k == cfg.Rounds-1 {
			// PPO on the final r̂, which the last labels have just refitted.
			if cfg.FinalHorizon > 0 && cfg.finalSteps() > 0 {
				if trainer, err = rehorizon(trainer, cfg.FinalHorizon, cfg.Seed, current); err != nil {
					return nil, err
				}
			}
			if err := trainer.Train(cfg.finalSteps(), nil); err != nil {
				return nil, err
			}
		}
		pt := Point{
			Round: k + 1, EnvSteps: trainer.EnvSteps(), Labels: rep.LabelsUsed,
			TrueReturn:  ppo.Evaluate(trainer.Policy(), cfg.Env, cfg.CurveEpisodes, cfg.Seed+uint64(k)),
			ValAccuracy: st.ValAccuracy, Seconds: time.Since(start).Seconds(),
		}
		rep.Curve = append(rep.Curve, pt)
		if progress != nil {
			progress(pt)
		}
	}
	if cfg.AdversarialRounds > 0 {
		h := &hardening{cfg: cfg, fixed: fixed, clipLen: clipLen, actor: PolicyActor(trainer.Policy()), model: model, rng: rng,
			label: func(l, r *Clip) error {
				skip, equal := teacherThresholds(cfg.Teacher, trainer, []Clip{*l, *r}, clipLen)
				label(l, r, skip, equal)
				return nil
			},
			refit: func(recent []Clip) error { st, err = fit(recent); return err }}
		if rep.Adversarial, err = h.run(); err != nil {
			return nil, err
		}
	}
	rep.EnvSteps = trainer.EnvSteps()
	rep.EvalReturn = ppo.Evaluate(trainer.Policy(), cfg.Env, cfg.EvalEpisodes, cfg.Seed^0xe7a1)
	rep.RandomReturn = RandomReturn(cfg.Env, cfg.EvalEpisodes, cfg.Seed^0xe7a1)
	rep.RewardModelValAccuracy = st.ValAccuracy
	rep.WallSeconds = time.Since(start).Seconds()
	rep.Policy, rep.Model = trainer.Policy().Clone(), model
	return rep, nil
}

// RandomReturn is the mean true return of a uniformly random policy over episodes fresh
// episodes of the standard task (its termination and TimeLimit): the floor that learning is
// measured from.
func RandomReturn(envName string, episodes int, seed uint64) float64 {
	e, err := env.Lookup(envName)
	if err != nil {
		return math.NaN()
	}
	spec := e.Spec()
	rng := rand.New(rand.NewPCG(seed, 0x72616e64))
	total := 0.0
	for i := 0; i < episodes; i++ {
		e.Reset(rng)
		for t := 0; t < spec.MaxEpisodeSteps; t++ {
			_, r, term := e.Step(spec.Action.Sample(rng))
			total += r
			if term {
				break
			}
		}
	}
	return total / float64(episodes)
}

// rehorizon returns a trainer that goes on from tr (its policy, optimiser and schedule) on
// fixed-horizon episodes of horizon steps, optimising r.
func rehorizon(tr *ppo.Trainer, horizon int, seed uint64, r ppo.Reward) (*ppo.Trainer, error) {
	pc := tr.Config()
	pc.FixedHorizon = horizon
	next, err := ppo.New(pc, seed^0x686f72697a6f6e)
	if err != nil {
		return nil, err
	}
	copy(next.Policy().Params(), tr.Policy().Params())
	if tr.Policy().ObsNorm != nil {
		next.Policy().ObsNorm = tr.Policy().ObsNorm.Clone()
	}
	if err := next.SetState(tr.State()); err != nil {
		return nil, err
	}
	next.SetReward(r)
	return next, nil
}
