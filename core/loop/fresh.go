package loop

import (
	"github.com/prefer-rlhf/prefer/core/ppo"
)

// A fresh policy on the final r̂ (Config.FinalFresh). On CartPole-v1 with Mistake's labels
// and disagreement queries, the runs that end short of 500 end there with an r̂ that is good
// enough: each run's own final r̂ ranks a balancing policy far above the run's final policy,
// and PPO from scratch on that r̂ (`prefer train --reward-model`) reaches 500 on 11 of 12
// tries, where the loop's policy, trained on ten r̂s one after another with its step size
// annealed, had never balanced or had lost a policy that did (docs/experiments.md, "A fresh
// policy on the final r̂"). So the run trains one more policy, from PPO's initial state on
// the final r̂ alone, and keeps whichever of it and the loop's policy r̂ ranks higher. The
// choice reads only r̂, never the true reward.

// freshSeedSalt keeps the fresh policy's PPO seed apart from the loop's.
const freshSeedSalt = 0x6672657368

// freshEpisodes is how many deterministic episodes of the task's full length the choice
// between the two policies measures each one's return under r̂ on.
const freshEpisodes = 20

// Fresh is what TrainFresh measured: the mean return under r̂ of the loop's policy and of the
// fresh one (freshEpisodes deterministic episodes of the task's TimeLimit, the same starts)
// and whether the fresh one was kept.
type Fresh struct {
	Continued float64 `json:"continued_learned_return"`
	Fresh     float64 `json:"fresh_learned_return"`
	Kept      bool    `json:"fresh_kept"`
	Steps     int     `json:"fresh_env_steps"`
}

// TrainFresh trains a fresh policy for steps env steps on the reward PPO optimises now (PPO's
// configuration as the loop's, seeded from seed, its step size annealed over the steps) and
// makes it the Learner's policy if its return under that reward is higher than the current
// policy's. The old policies stay as they were.
func (l *Learner) TrainFresh(steps int, seed uint64) (Fresh, error) {
	pc := l.ppo.Config()
	pc.TotalSteps = steps
	tr, err := ppo.New(pc, seed^freshSeedSalt)
	if err != nil {
		return Fresh{}, err
	}
	tr.SetReward(l.current)
	if err := tr.Train(steps, nil); err != nil {
		return Fresh{}, err
	}
	f := Fresh{Steps: tr.EnvSteps()}
	evalSeed := seed ^ 0x63686f6f7365
	cont, err := ppo.LearnedReturns(l.ppo.Policy(), l.current, l.cfg.Env, freshEpisodes, evalSeed)
	if err != nil {
		return f, err
	}
	fresh, err := ppo.LearnedReturns(tr.Policy(), l.current, l.cfg.Env, freshEpisodes, evalSeed)
	if err != nil {
		return f, err
	}
	f.Continued, f.Fresh = mean(cont), mean(fresh)
	if f.Kept = f.Fresh > f.Continued; f.Kept {
		l.ppo = tr
	}
	return f, nil
}
