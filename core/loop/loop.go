package loop

import (
	"math"
	"math/rand/v2"
	"time"

	"github.com/prefer-rlhf/prefer/core/env"
	"github.com/prefer-rlhf/prefer/core/ppo"
	"github.com/prefer-rlhf/prefer/core/prefs"
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
	// Guarded, NotKept and Back count the PPO updates the guard checked and put back and the
	// old policies it brought back (Config.KeepEpisodes).
	Guarded int     `json:"updates_guarded,omitempty"`
	NotKept int     `json:"updates_not_kept,omitempty"`
	Back    int     `json:"policies_back,omitempty"`
	Curve   []Point `json:"curve"`
	// Fresh is what the fresh policy on the final r̂ did (Config.FinalFresh > 0).
	Fresh *Fresh `json:"final_fresh,omitempty"`
	// Policy is the trained policy at the end.
	Policy *ppo.Policy `json:"-"`
	// Model is the reward model at the end.
	Model *reward.Model `json:"-"`
	// Adversarial is what the adversarial rounds did (Config.AdversarialRounds > 0); its
	// fields appear at the report's top level.
	*Adversarial
}

// Run runs an experiment: a Learner driven round after round, its labels asked of the
// synthetic rater (or B-Pref teacher) at once. progress, if not nil, is called after every
// round.
func Run(cfg Config, progress func(Point)) (*Report, error) {
	start := time.Now()
	l, err := NewLearner(cfg, false)
	if err != nil {
		return nil, err
	}
	clipLen := l.ClipLen()
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x6c6f6f70))
	rep := &Report{Env: cfg.Env, Seed: cfg.Seed, Query: string(cfg.Query.Strategy), Noise: cfg.Rater.ErrorRate}

	// label has the rater (or teacher) compare a and b and adds the answer to the data.
	label := func(a, b *Clip, skip, equal float64) {
		var choice prefs.Choice
		if cfg.Teacher != nil {
			choice = cfg.Teacher.Label(rng, a.Rewards, b.Rewards, skip, equal)
		} else {
			choice = cfg.Rater.Choose(rng, a.TrueReturn, b.TrueReturn)
		}
		// A skipped query ("can't tell") is not fitted but counts against the budget,
		// as B-Pref counts its skipped queries in total_feedback.
		l.Data.AddChoice(a.Seg, b.Seg, choice)
		rep.LabelsUsed++
	}
	// ask has the rater label n pairs of pool, chosen by the query strategy.
	ask := func(pool []Clip, n int) error {
		pairs, _, err := l.SelectPairs(rng, pool, n)
		if err != nil || len(pairs) == 0 {
			return err
		}
		skip, equal := teacherThresholds(cfg.Teacher, l.Trainer(), pool, clipLen)
		for _, p := range pairs {
			label(&pool[p.Left], &pool[p.Right], skip, equal)
		}
		return nil
	}
	// fit refits r̂ on every label so far and normalises it (over recent clips of the current
	// policy or over the labelled ones, as cfg says) for PPO.
	fit := func(recent []Clip) (reward.Stats, error) {
		st, err := l.Fit()
		if err != nil || len(l.Data.Train) == 0 {
			return st, err
		}
		segs := make([]reward.Segment, len(recent))
		for i := range recent {
			segs[i] = recent[i].Seg
		}
		return st, l.Normalize(segs)
	}

	// Before training: a share of the labels on clips of a random policy (App. A).
	initial := min(cfg.Query.InitialLabels(cfg.Labels), cfg.Labels)
	if cfg.Rounds == 1 {
		initial = cfg.Labels
	}
	randomPool := l.RandomClips(rng, cfg.PoolClips)
	if err := ask(randomPool, initial); err != nil {
		return nil, err
	}
	st, err := fit(randomPool)
	if err != nil {
		return nil, err
	}

	// train runs PPO for steps as the policy of version (0: untrained or not to be kept among
	// the old policies), through the guard when cfg asks for it.
	train := func(steps, version int) error {
		if cfg.KeepEpisodes == 0 || version == 0 {
			return l.Train(steps, version, nil)
		}
		k, err := l.TrainKept(steps, version, cfg.KeepEpisodes, cfg.Seed^uint64(version)<<8^0x6b656570, nil)
		rep.Guarded++
		if !k.Kept {
			rep.NotKept++
		}
		if k.Back > 0 {
			rep.Back++
		}
		return err
	}

	spent := 0 // env steps of a trainer no longer the Learner's (Config.FinalFresh)
	perRound := schedule(cfg.Labels-rep.LabelsUsed, cfg.Rounds, cfg.LabelDecay)
	for k := 0; k < cfg.Rounds; k++ {
		// PPO on the current r̂; the policy of round k has version k (0: untrained).
		steps := (k+1)*cfg.Steps/cfg.Rounds - k*cfg.Steps/cfg.Rounds
		if err := train(steps, k); err != nil {
			return nil, err
		}
		if n := perRound[k]; n > 0 {
			// Candidate clips of the current policy, of older ones and of a random one;
			// labels on some of them, and r̂ refitted.
			pool, err := l.Candidates(rng, cfg.PoolClips, k+1)
			if err != nil {
				return nil, err
			}
			var recent []Clip
			for _, c := range pool {
				if c.Source == FromCurrent {
					recent = append(recent, c)
				}
			}
			if err := ask(pool, n); err != nil {
				return nil, err
			}
			if st, err = fit(recent); err != nil {
				return nil, err
			}
		}
		if k == cfg.Rounds-1 {
			// PPO on the final r̂, which the last labels have just refitted; no clips follow,
			// so there is no old policy to keep (version 0) unless the guard needs them.
			if cfg.FinalHorizon > 0 && cfg.finalSteps() > 0 {
				if err := l.SetHorizon(cfg.FinalHorizon); err != nil {
					return nil, err
				}
			}
			if cfg.KeepEpisodes == 0 {
				if err := l.Train(cfg.finalSteps(), 0, nil); err != nil {
					return nil, err
				}
			}
			for done, v := 0, k+1; cfg.KeepEpisodes > 0 && done < cfg.finalSteps(); v++ {
				chunk := min(max(cfg.Steps/cfg.Rounds, 1), cfg.finalSteps()-done)
				if err := train(chunk, v); err != nil {
					return nil, err
				}
				done += chunk
			}
			if cfg.FinalFresh > 0 {
				before := l.Trainer().EnvSteps()
				f, err := l.TrainFresh(cfg.FinalFresh, cfg.Seed)
				if err != nil {
					return nil, err
				}
				// Both policies' env steps are spent, whichever trainer is kept.
				spent = f.Steps
				if f.Kept {
					spent = before
				}
				rep.Fresh = &f
			}
		}
		pt := Point{
			Round: k + 1, EnvSteps: l.Trainer().EnvSteps(), Labels: rep.LabelsUsed,
			TrueReturn:  l.TrueReturn(cfg.CurveEpisodes, cfg.Seed+uint64(k)),
			ValAccuracy: st.ValAccuracy, Seconds: time.Since(start).Seconds(),
		}
		rep.Curve = append(rep.Curve, pt)
		if progress != nil {
			progress(pt)
		}
	}
	if cfg.AdversarialRounds > 0 {
		h := &hardening{cfg: cfg, fixed: l.fixed, clipLen: clipLen, actor: PolicyActor(l.Policy()), model: l.Model, rng: rng,
			label: func(a, b *Clip) error {
				skip, equal := teacherThresholds(cfg.Teacher, l.Trainer(), []Clip{*a, *b}, clipLen)
				label(a, b, skip, equal)
				return nil
			},
			refit: func(recent []Clip) error { st, err = fit(recent); return err }}
		if rep.Adversarial, err = h.run(); err != nil {
			return nil, err
		}
	}
	rep.EnvSteps = l.Trainer().EnvSteps() + spent
	rep.EvalReturn = l.TrueReturn(cfg.EvalEpisodes, cfg.Seed^0xe7a1)
	rep.RandomReturn = RandomReturn(cfg.Env, cfg.EvalEpisodes, cfg.Seed^0xe7a1)
	rep.RewardModelValAccuracy = st.ValAccuracy
	rep.WallSeconds = time.Since(start).Seconds()
	rep.Policy, rep.Model = l.Policy().Clone(), l.Model
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
