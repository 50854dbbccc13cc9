package overopt

import (
	"github.com/prefer-rlhf/prefer/core/env"
	"github.com/prefer-rlhf/prefer/core/loop"
	"github.com/prefer-rlhf/prefer/core/ppo"
)

// Trainer returns a fresh PPO trainer set up as the loop's (loop.Config.PPOConfig, in
// fixed-horizon mode), its step size annealed over steps, to optimise a frozen reward model
// from a new initial policy.
func Trainer(cfg loop.Config, steps int) (*ppo.Trainer, error) {
	e, err := env.Lookup(cfg.Env)
	if err != nil {
		return nil, err
	}
	pc := cfg.PPOConfig(e.Spec(), false)
	pc.TotalSteps = steps
	return ppo.New(pc, cfg.Seed^0x6f7074)
}
