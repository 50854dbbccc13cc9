package trainer

import (
	"github.com/prefer-rlhf/prefer/core/env"
	"github.com/prefer-rlhf/prefer/core/reward"
)

// rewardFeatures chooses what the reward model reads of a transition. Christiano et al. 2017
// fit r̂(o, a) (§2.1), which core/reward does by default. The discrete-action tasks here
// (CartPole, Acrobot) reward states alone, and with the action's one-hot in its input, a model
// fitted on the first few dozen labels picks up a spurious preference for one action that PPO
// turns into a constant policy: measured on CartPole-v1 through this trainer (15 rounds of
// 20 labels), observation and action features left the policy at the constant-action return
// (about 9) throughout, observation and next observation likewise, and observations alone
// reached 160-330 after 120-260 labels. Continuous tasks (Pendulum, MountainCarContinuous)
// charge for the action (torque, fuel), so there the model reads it.
func rewardFeatures(sp env.Space) reward.Features {
	if sp.Discrete() {
		return reward.Obs
	}
	return reward.Obs | reward.Act
}
