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

	pc := cfg.PPO
	pc.Env = cfg.Env
	if pc.FixedHorizon == 0 {
		pc.FixedHorizon = spec.MaxEpisodeSteps
	}
	if pc.TotalSteps == 0 || pc.TotalSteps > cfg.Steps {
		pc.TotalSteps = cfg.Steps
	}
	trainer, err := ppo.New(pc, cfg.Seed)
	if err != nil {
		return nil, err
	}
	rc := cfg.Reward
	rc.Seed = cfg.Seed ^ 0x7265776172640000
	if rc.ObsScale == nil {
		rc.ObsScale = spec.ObsScale
	}
	model, err := reward.New(rc, reward.Shape{ObsDim: spec.ObsDim, ActDim: spec.Action.Dim(), ActN: spec.Action.N})
	if err != nil {
		return nil, err
	}
	data := &reward.Dataset{}
	rep := &Report{Env: cfg.Env, Seed: cfg.Seed, Query: string(cfg.Query.Strategy), Noise: cfg.Rater.ErrorRate}

	var labelled []Clip // every clip shown to the rater, once per pair it was in
	// ask has the rater label n pairs chosen from pool as qc says, and adds them to the data.
	ask := func(pool []Clip, n int, qc query.Config) error {
		if n <= 0 || len(pool) < 2 {
			return nil
		}
		in, err := queryInputs(model, pool, labelled, qc.Strategy)
		if err != nil {
			return err
		}
		pairs, err := query.SelectFrom(rng, len(pool), n, qc, in)
		if err != nil {
			return err
		}
		skip, equal := teacherThresholds(cfg.Teacher, trainer, pool, clipLen)
		for _, p := range pairs {
			l, r := &pool[p.Left], &pool[p.Right]
			labelled = append(labelled, *l, *r)
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
		return nil
	}
	fit := func(norm []Clip) (reward.Stats, error) {
		if len(data.Train) == 0 {
			return reward.Stats{ValAccuracy: math.NaN()}, nil
		}
		st, err := model.Fit(data)
		if err != nil {
			return st, err
		}
		// Normalise over the policy's own recent transitions (§2.2.3), which are what PPO sees.
		if obs, act, next, n := transitions(norm); n > 1 {
			if err := model.Normalize(obs, act, next, n); err != nil {
				return st, err
			}
		}
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
	obj := cfg.Objective
	if obj == "" {
		obj = reward.ObjectiveMean
	}
	objective, err := model.WithObjective(obj, cfg.ObjectiveLambda)
	if err != nil {
		return nil, err
	}
	trainer.SetReward(objective)

	perRound := schedule(cfg.Labels-rep.LabelsUsed, cfg.Rounds, cfg.LabelDecay)
	for k := 0; k < cfg.Rounds; k++ {
		steps := (k+1)*cfg.Steps/cfg.Rounds - k*cfg.Steps/cfg.Rounds
		if err := trainer.Train(steps, nil); err != nil {
			return nil, err
		}
		// Candidate clips of the current policy, from anywhere in an episode.
		pool := Clips(fixed, PolicyActor(trainer.Policy()), cfg.PoolClips, clipLen, spec.MaxEpisodeSteps-clipLen, rng)
		if n := perRound[k]; n > 0 {
			// Mix in older behaviour: a few random-policy clips keep the model calibrated on
			// what the policy has moved away from.
			mixed := append(pool, randomPool[:min(len(randomPool), len(pool)/10)]...)
			if err := ask(mixed, n, cfg.Query); err != nil {
				return nil, err
			}
			normOn := pool
			if cfg.NormalizeOnLabelled {
				normOn = labelled
			}
			if st, err = fit(normOn); err != nil {
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
	rep.EnvSteps = trainer.EnvSteps()
	rep.EvalReturn = ppo.Evaluate(trainer.Policy(), cfg.Env, cfg.EvalEpisodes, cfg.Seed^0xe7a1)
	rep.RandomReturn = RandomReturn(cfg.Env, cfg.EvalEpisodes, cfg.Seed^0xe7a1)
	rep.RewardModelValAccuracy = st.ValAccuracy
	rep.WallSeconds = time.Since(start).Seconds()
	rep.Policy, rep.Model = trainer.Policy().Clone(), model
	return rep, nil
}

// transitions flattens the clips' transitions into reward-model inputs.
func transitions(clips []Clip) (obs, act, next []float64, n int) {
	for _, c := range clips {
		obs = append(obs, c.Seg.Obs...)
		act = append(act, c.Seg.Act...)
		next = append(next, c.Seg.Next...)
		n += c.Seg.Len
	}
	return obs, act, next, n
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
