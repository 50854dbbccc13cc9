package main

import (
	"fmt"
	"math"
)

// The loop settings that `prefer experiment` shares with `prefer overopt` or `prefer sweep`.

// priorUsage describes --prior, the reward model's random priors (core/reward/prior.go), for
// `prefer experiment` and `prefer overopt`.
const priorUsage = "scale β_p of each reward-model member's fixed random prior network (Osband et al. 2018, eq. 4), which makes the members disagree away from the labels (0: none)"

// finalFreshUsage describes --final-fresh (core/loop's Config.FinalFresh), for `prefer
// experiment` and `prefer sweep`.
const finalFreshUsage = "after the final steps, train a fresh policy for this many env steps on the final reward model and keep whichever of it and the loop's policy the model ranks higher (-1: the env's default, as many as the loop's steps on CartPole-v1 and none elsewhere; 0: off)"

// checkPrior validates --prior's value.
func checkPrior(v float64) error {
	if !(v >= 0) || math.IsInf(v, 0) {
		return fmt.Errorf("must be finite and >= 0, got %v", v)
	}
	return nil
}
