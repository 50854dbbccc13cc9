package trainer

import (
	"github.com/google/uuid"

	"github.com/prefer-rlhf/prefer/core/loop"
	"github.com/prefer-rlhf/prefer/core/prefs"
	"github.com/prefer-rlhf/prefer/core/redteam"
	"github.com/prefer-rlhf/prefer/server/store"
)

// redTeam is a project's adversarial round (issue 15; core/loop's adversarial.go is the same
// round in `prefer experiment`): core/redteam's adversary searches the new reward model for
// clips it rates above the policy's 90th percentile while the task's true reward (or a
// behaviour's checker) says they fail, and each failure becomes a pair against an ordinary
// clip of the policy, tagged red_team and served before the other pairs, so that raters label
// exactly what the model gets wrong. version stamps the clips.
func (t *Trainer) redTeam(p *project, lc loop.Config, clipLen, version int, seed uint64) ([][2]candidate, error) {
	score, err := redteam.ModelScorer(p.clip.Model, p.spec.Name)
	if err != nil {
		return nil, err
	}
	prob := redteam.Problem{Env: p.spec.Name, Score: score}
	if !lc.AdversaryRandomRefs {
		prob.Policy = redteam.Policy(loop.PolicyActor(p.clip.Policy()))
	}
	acfg := lc.Adversary
	acfg.Steps = clipLen
	res, err := redteam.Search(prob, acfg, seed)
	if err != nil {
		return nil, err
	}
	var out [][2]candidate
	for _, pr := range res.Pairs {
		// Search pairs a failure with any reference when none met the task (an early
		// policy's clips all fail); such a pair is no error of the model's, so it is not asked.
		if pr.Ordinary.Truth < res.Threshold {
			continue
		}
		var pair [2]candidate
		for i, s := range [2]redteam.Scored{pr.Failing, pr.Ordinary} {
			c := prefs.Clip{ID: uuid.NewString(), Env: p.spec.Name, PolicyVersion: version, StartState: s.Clip.StartState, Actions: s.Clip.Actions}
			seg, err := segmentOf(c)
			if err != nil {
				return nil, err
			}
			pair[i] = candidate{clip: c, seg: seg}
		}
		out = append(out, pair)
	}
	return out, nil
}

// redTeamPair is the store's pair of a red-team candidate pair: the failure on a random side,
// as any pair is shown.
func redTeamPair(pair [2]candidate, failingLeft bool) store.NewPair {
	l, r := pair[0].clip.ID, pair[1].clip.ID
	if !failingLeft {
		l, r = r, l
	}
	return store.NewPair{ID: uuid.NewString(), Left: l, Right: r, Priority: store.RedTeamPriority, Tag: store.TagRedTeam}
}
