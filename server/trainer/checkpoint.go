package trainer

import (
	"encoding/json"
	"fmt"

	"github.com/prefer-rlhf/prefer/core/loop"
	"github.com/prefer-rlhf/prefer/core/ppo"
	"github.com/prefer-rlhf/prefer/core/reward"
)

// checkpoint is what a project's trainer needs to resume after a restart, stored with each
// round (store.Round.Checkpoint) in the same transaction as what the round published. PPO's
// optimiser moments, step-size schedule and reward normaliser are kept (ppo.State): resumed
// with a fresh Adam at the top of its schedule, a converged policy was thrown off at once.
// Env states are not kept: a resumed trainer starts new episodes.
type checkpoint struct {
	Format        string          `json:"format"` // "prefer-trainer"
	Version       int             `json:"version"`
	Round         int             `json:"round"`
	ModelVersion  int             `json:"model_version"`
	PolicyVersion int             `json:"policy_version"`
	Lineage       int             `json:"lineage"` // model version of the last full refit
	EnvSteps      int64           `json:"env_steps"`
	Labels        int             `json:"labels"`
	PausedSteps   int64           `json:"paused_steps,omitempty"` // PPO env steps since the last new label
	Policy        []byte          `json:"policy"`                 // ppo binary format; nil before PPO ran
	PPO           *ppo.State      `json:"ppo,omitempty"`          // with Policy; absent in checkpoints of older versions
	Model         json.RawMessage `json:"model,omitempty"`        // core/reward JSON; absent before the first fit
	Old           [][]byte        `json:"old_policies"`           // earlier policies, oldest first
	OldVersions   []int           `json:"old_versions"`           // their versions
}

const checkpointFormat = "prefer-trainer"

func (p *project) checkpoint() ([]byte, error) {
	c := checkpoint{Format: checkpointFormat, Version: 1, Round: p.round, ModelVersion: p.modelVersion,
		PolicyVersion: p.policyVersion, Lineage: p.lineage, EnvSteps: p.envSteps, Labels: p.labelsUsed, PausedSteps: p.pausedSteps}
	l := p.clip
	if p.policyVersion > 0 {
		b, err := l.Policy().MarshalBinary()
		if err != nil {
			return nil, err
		}
		c.Policy = b
		st := l.Trainer().State()
		c.PPO = &st
	}
	for _, op := range l.Old {
		b, err := op.Policy.MarshalBinary()
		if err != nil {
			return nil, err
		}
		c.Old = append(c.Old, b)
		c.OldVersions = append(c.OldVersions, op.Version)
	}
	if p.modelVersion > 0 {
		b, err := json.Marshal(l.Model)
		if err != nil {
			return nil, err
		}
		c.Model = b
	}
	return json.Marshal(c)
}

// restore loads a checkpoint into a fresh clip project's state.
func (p *project) restore(b []byte) error {
	var c checkpoint
	if err := json.Unmarshal(b, &c); err != nil {
		return fmt.Errorf("trainer: checkpoint: %w", err)
	}
	if c.Format != checkpointFormat || c.Version != 1 {
		return fmt.Errorf("trainer: checkpoint format %q version %d not supported", c.Format, c.Version)
	}
	p.round, p.modelVersion, p.policyVersion, p.lineage = c.Round, c.ModelVersion, c.PolicyVersion, c.Lineage
	p.envSteps, p.labelsUsed, p.pausedSteps = c.EnvSteps, c.Labels, c.PausedSteps
	if c.Policy != nil {
		var pol ppo.Policy
		if err := pol.UnmarshalBinary(c.Policy); err != nil {
			return err
		}
		if err := setPolicy(p.clip.Policy(), &pol); err != nil {
			return err
		}
		if c.PPO != nil {
			if err := p.clip.Trainer().SetState(*c.PPO); err != nil {
				return fmt.Errorf("trainer: checkpoint: %w", err)
			}
		}
	}
	if len(c.OldVersions) != len(c.Old) {
		return fmt.Errorf("trainer: checkpoint has %d old policies and %d versions", len(c.Old), len(c.OldVersions))
	}
	for i, ob := range c.Old {
		var pol ppo.Policy
		if err := pol.UnmarshalBinary(ob); err != nil {
			return err
		}
		p.clip.Old = append(p.clip.Old, loop.OldPolicy{Version: c.OldVersions[i], Policy: &pol})
	}
	if c.Model != nil {
		m := new(reward.Model)
		if err := json.Unmarshal(c.Model, m); err != nil {
			return err
		}
		p.clip.SetModel(m)
		p.model = m
	}
	return nil
}

// setPolicy copies src's parameters and observation statistics into dst, the live policy of
// a ppo.Trainer (whose flat parameter vector must keep its identity).
func setPolicy(dst, src *ppo.Policy) error {
	if len(dst.Params()) != len(src.Params()) || dst.ObsDim != src.ObsDim {
		return fmt.Errorf("trainer: checkpointed policy has %d parameters, the trainer's %d", len(src.Params()), len(dst.Params()))
	}
	copy(dst.Params(), src.Params())
	if (dst.ObsNorm == nil) != (src.ObsNorm == nil) {
		return fmt.Errorf("trainer: checkpointed policy's observation normalisation does not match")
	}
	if dst.ObsNorm != nil {
		copy(dst.ObsNorm.Mean, src.ObsNorm.Mean)
		copy(dst.ObsNorm.Var, src.ObsNorm.Var)
		dst.ObsNorm.Count = src.ObsNorm.Count
	}
	return nil
}
