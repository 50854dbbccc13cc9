package langmodel

import "github.com/prefer-rlhf/prefer/core/textrl"

// TextLoop returns the text loop's defaults (textrl.Defaults) for a reference that Loader or
// DefaultModel gives: tempered at DefaultSettings' temperature, so PPO-ptx scores the
// pretraining text at its inverse (lmppo.Config.PtxTemp) and reads the weights as pretrained,
// rather than pulling the tempered policy back toward temperature 1. `prefer experiment` and
// the hub's trainer both start from it, so their PPO is the same.
func TextLoop() textrl.Config {
	c := textrl.Defaults()
	c.PPO.PtxTemp = 1 / DefaultSettings().Temperature
	return c
}
