package main

import (
	"github.com/prefer-rlhf/prefer/core/reward"
)

// robustFlag is --robust: bare, it turns on the default robust fit; --robust=MODE picks one
// (reward.RobustModes) and --robust=false turns it off.
type robustFlag struct {
	on   bool
	mode reward.RobustMode
}

// defaultRobust is the robust fit a bare --robust asks for, the hub's too.
const defaultRobust = reward.DefaultRobust

func (f *robustFlag) String() string {
	if f == nil || !f.on {
		return "false"
	}
	return string(f.mode)
}

func (f *robustFlag) Set(s string) error {
	switch s {
	case "false":
		*f = robustFlag{}
		return nil
	case "true":
		*f = robustFlag{on: true, mode: defaultRobust}
		return nil
	}
	m, err := reward.ParseRobustMode(s)
	if err != nil {
		return err
	}
	*f = robustFlag{on: true, mode: m}
	return nil
}

// IsBoolFlag lets --robust stand alone.
func (f *robustFlag) IsBoolFlag() bool { return true }

// gridMode is the flag as sweep.Grid takes it: "" when off.
func (f *robustFlag) gridMode() string {
	if !f.on {
		return ""
	}
	return string(f.mode)
}

// robustUsage is the flag's help text.
const robustUsage = "fit the reward model robustly to wrong labels: bare for the default fit (" + string(defaultRobust) +
	"), =r3m for R3M's sparse per-label perturbations, =epsilon for a learned random-response rate"
