package trainer

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/prefer-rlhf/prefer/core/loop"
	"github.com/prefer-rlhf/prefer/core/merge"
	"github.com/prefer-rlhf/prefer/core/ppo"
	"github.com/prefer-rlhf/prefer/core/reward"
	"github.com/prefer-rlhf/prefer/server/store"
)

// maybeRound runs a round if one is due: the first round of a project (random-policy pairs, so
// raters can label at once, and an untrained model version 1 that private raters can base
// updates on), or enough new labels, or a pending private update, or a change in which raters
// are excluded or down-weighted, or, while none of these come, PPO on the current reward model
// until PausedSteps; and no sooner than Interval after the last round.
func (t *Trainer) maybeRound(ctx context.Context, p *project, pr *store.Project) error {
	if p.round > 0 && t.cfg.Now().Sub(p.lastRun) < t.cfg.Interval {
		return nil
	}
	labels, err := t.st.Labels(ctx, p.id, 0, false)
	if err != nil {
		return err
	}
	if ws, ok := t.st.(raterWeights); ok {
		w, err := ws.RaterWeights(ctx, p.id)
		if err != nil {
			return err
		}
		labels = thin(labels, w)
	}
	pending, err := t.st.ModelUpdates(ctx, p.id, "pending")
	if err != nil {
		return err
	}
	grown := isPrefix(p.dataIDs, labels)
	due := p.round == 0 || len(pending) > 0 || !grown || len(labels)-p.labelsUsed >= max(t.cfg.MinNewLabels, 1)
	// While labels pause, PPO goes on on the current reward model, up to PausedSteps.
	paused := !due && p.model != nil && p.data.Len() > 0 && p.pausedSteps < t.cfg.PausedSteps
	if !due && !paused {
		return nil
	}
	if paused {
		labels = labels[:len(p.dataIDs)] // the few new labels wait for MinNewLabels
	}
	err = t.round(ctx, p, pr, labels, pending)
	if err != nil {
		// The in-memory state may be ahead of what was published: reload it from the last
		// checkpoint before the next try.
		t.mu.Lock()
		delete(t.projects, p.id)
		t.mu.Unlock()
	}
	return err
}

// isPrefix reports whether ids are the first labels, in order: the labels only grew.
func isPrefix(ids []string, labels []store.Label) bool {
	if len(ids) > len(labels) {
		return false
	}
	for i, id := range ids {
		if labels[i].ID != id {
			return false
		}
	}
	return true
}

// round is one turn of the loop of Christiano et al. 2017, §2.2, on a clip project: the
// trainer brings the labels (the store's), the clock and the publishing, and the project's
// loop.Learner the learning.
func (t *Trainer) round(ctx context.Context, p *project, pr *store.Project, labels []store.Label, pending []store.ModelUpdate) error {
	if p.text != nil {
		return t.textRound(ctx, p, pr, labels, pending)
	}
	start := t.cfg.Now()
	p.lastRun = start
	set := pr.Settings
	next := p.round + 1
	rng := rand.New(rand.NewPCG(t.seed(p.id, next), 0x726f756e64))
	out := &store.Round{ProjectID: p.id, Round: next, ReplacePairs: true, Rejected: map[string]string{}}
	metrics := map[string]float64{}
	l := p.clip
	lc, err := t.loopConfig(p.id, p.spec.Name, set)
	if err != nil {
		return err
	}
	if err := l.Configure(lc); err != nil {
		return err
	}

	// 1. The reward model: published untrained in the first round, then warm-started on the
	// pooled labels (or refitted from scratch when the labels changed other than by growing).
	modelChanged, full, err := t.refit(ctx, p, labels, metrics)
	if err != nil {
		return err
	}
	// 2. Private updates, averaged onto the model (FedAvg).
	merged, err := t.merge(p, pending, set, full, out, metrics)
	if err != nil {
		return err
	}
	if modelChanged || merged {
		// Normalise as the loop does (§2.2.3): over the labelled clips, or over transitions
		// of the current policy.
		var recent []reward.Segment
		if !lc.NormalizeOnLabelled {
			recent = append(recent, l.Transitions(rng, 2048, p.policyVersion > 0))
		}
		if err := l.Normalize(recent); err != nil {
			return err
		}
		p.modelVersion++
		if full {
			p.lineage = p.modelVersion
		}
		w, err := json.Marshal(l.Model)
		if err != nil {
			return err
		}
		metrics["reward/labels"] = float64(l.Data.Len())
		out.Model = &store.Model{Version: p.modelVersion, Weights: w, NumParams: reward.NumParams(l.Model), Metrics: metrics}
	}

	// 2-3. PPO on the learned reward (the project's objective on the ensemble: the members'
	// mean unless its settings say min or uwo), then the returns and the KL.
	trained, last := false, ppo.Stats{}
	if l.Data.Len()+len(out.Merged) > 0 && set.PPOStepsPerRound > 0 {
		before := l.Trainer().EnvSteps()
		// Once a policy is published, a round keeps its update only if it did not lower the
		// return under r̂ (the refitted r̂ judges both): the hub's PPO never stops at a step
		// size annealed to 0, as an experiment's does, and one bad update, then the refit on
		// clips of the worse policy, can take a policy that balanced far down.
		paused := len(labels) == p.labelsUsed && len(pending) == 0 && !modelChanged && !merged
		kept := loop.Kept{Kept: true}
		progress := func(s ppo.Stats) { last = s }
		if p.policyVersion > 0 && !t.cfg.KeepWorse {
			kept, err = l.TrainKept(set.PPOStepsPerRound, p.policyVersion, t.cfg.EvalEpisodes, t.seed(p.id, next)^0x6b656570, progress)
		} else {
			err = l.Train(set.PPOStepsPerRound, p.policyVersion, progress)
		}
		if err != nil {
			return err
		}
		steps := int64(l.Trainer().EnvSteps() - before)
		p.envSteps += steps
		if paused {
			p.pausedSteps += steps
		} else {
			p.pausedSteps = 0
		}
		trained = kept.Kept || kept.Back > 0
		if kept.Back > 0 {
			t.log.Info("trainer: an old policy back", slog.String("project", p.id), slog.Int("round", next), slog.Int("old_version", kept.Back))
		}
		if !trained {
			// PPO lowered the return under r̂: the policy stays as it was, and nothing new is
			// published. While labels pause, a few such rounds in a row mean PPO has
			// converged on this r̂: it waits for labels.
			p.rejected++
			if paused && p.rejected >= t.cfg.RejectedRounds {
				p.pausedSteps = max(p.pausedSteps, t.cfg.PausedSteps)
			}
			t.log.Info("trainer: PPO update not kept", slog.String("project", p.id), slog.Int("round", next),
				slog.Float64("learned_before", kept.Before), slog.Float64("learned_after", kept.After), slog.Float64("se", kept.SE))
		}
	}
	if trained {
		p.rejected = 0
		p.policyVersion++
		evalSeed := t.seed(p.id, next) ^ 0xe7a1
		trueRet := l.TrueReturn(t.cfg.EvalEpisodes, evalSeed)
		learned := l.LearnedReturn(t.cfg.EvalEpisodes, evalSeed)
		kl := l.KL()
		w, err := l.Policy().MarshalBinary()
		if err != nil {
			return err
		}
		out.Policy = &store.Policy{Version: p.policyVersion, Weights: w, LearnedReturn: learned, TrueReturn: trueRet,
			KL: kl, EnvSteps: p.envSteps, Labels: l.Data.Len()}
		t.log.Info("trainer: policy", slog.String("project", p.id), slog.Int("version", p.policyVersion),
			slog.Float64("true_return", trueRet), slog.Float64("learned_return", learned), slog.Float64("kl", kl),
			slog.Float64("charts/SPS", last.SPS), slog.Int64("env_steps", p.envSteps))
	}

	// 4-5. New clips from the new policy (and older and random ones), paired by the project's
	// query strategy.
	cands, err := t.candidates(p, set, rng)
	if err != nil {
		return err
	}
	pairs, err := t.selectPairs(p, set, cands, rng)
	if err != nil {
		return err
	}
	used := map[int]bool{}
	for _, pr := range pairs {
		used[pr.a], used[pr.b] = true, true
		out.Pairs = append(out.Pairs, store.NewPair{ID: uuid.NewString(), Left: cands[pr.a].clip.ID, Right: cands[pr.b].clip.ID, Priority: pr.score})
	}
	for i, c := range cands {
		if used[i] {
			out.Clips = append(out.Clips, c.clip)
			p.segments[c.clip.ID] = c.seg
		}
	}

	// 5b. Adversarial training: the adversary's failures against the new reward model, each
	// against an ordinary clip, as red-team pairs served first.
	if set.Adversarial && out.Model != nil && p.policyVersion > 0 {
		red, err := t.redTeam(p, lc, l.ClipLen(), p.policyVersion, t.seed(p.id, next)^0x616476)
		if err != nil {
			return err
		}
		for _, pair := range red {
			out.Pairs = append(out.Pairs, redTeamPair(pair, rng.IntN(2) == 0))
			for _, c := range pair {
				out.Clips = append(out.Clips, c.clip)
				p.segments[c.clip.ID] = c.seg
			}
		}
		metrics["red_team/failures"] = float64(len(red))
	}

	// 6. Publish, with the checkpoint, in one transaction.
	return t.publish(ctx, p, out, len(labels), start, p.checkpoint)
}

// publish ends round out of project p, made on labels labels since start: it advances p's
// round, stores out with the checkpoint that ckpt writes in one transaction, and logs it.
func (t *Trainer) publish(ctx context.Context, p *project, out *store.Round, labels int, start time.Time, ckpt func() ([]byte, error)) error {
	p.round = out.Round
	p.labelsUsed = labels
	var err error
	if out.Checkpoint, err = ckpt(); err != nil {
		return err
	}
	if err := t.st.PublishRound(ctx, out); err != nil {
		return err
	}
	t.log.Info("trainer: round", slog.String("project", p.id), slog.Int("round", p.round),
		slog.Int("labels", labels), slog.Int("model_version", p.modelVersion), slog.Int("policy_version", p.policyVersion),
		slog.Int("pairs", len(out.Pairs)), slog.Int("merged", len(out.Merged)), slog.Int("rejected", len(out.Rejected)),
		slog.Duration("took", time.Since(start)))
	return nil
}

// refit brings the reward model up to date with the labels. It reports whether the model
// changed and whether it was refitted from scratch (which breaks the lineage that private
// updates are computed against). A model is made afresh, and refitted on every label, when
// the project's robust or reward_prior setting no longer matches the model's (the loss and
// the random priors are the model's).
func (t *Trainer) refit(ctx context.Context, p *project, labels []store.Label, metrics map[string]float64) (changed, full bool, err error) {
	l := p.clip
	// The first round publishes the untrained model, version 1.
	changed, full = p.modelVersion == 0, p.modelVersion == 0
	if l.Model.Config().RobustFit() != l.Config().Reward.RobustFit() || l.Model.Config().Prior != l.Config().Reward.Prior {
		if err := l.ResetModel(); err != nil {
			return false, false, err
		}
		p.dataIDs, changed, full = nil, true, true
	}
	if !isPrefix(p.dataIDs, labels) {
		// Labels were excluded or restored: rebuild the dataset and refit from scratch.
		l.Data, p.dataIDs = &reward.Dataset{}, nil
		full = true
	}
	p.model, p.data = l.Model, l.Data
	fresh := labels[len(p.dataIDs):]
	if err := t.loadSegments(ctx, p, fresh); err != nil {
		return false, false, err
	}
	for _, lb := range fresh {
		l.Data.AddChoice(p.segments[lb.Left], p.segments[lb.Right], lb.Choice)
		p.dataIDs = append(p.dataIDs, lb.ID)
	}
	if len(l.Data.Train) == 0 {
		return changed, full, nil
	}
	var st reward.Stats
	switch {
	case full && p.modelVersion > 0:
		if st, err = l.Fit(); err != nil {
			return false, false, err
		}
	case len(fresh) > 0 || changed:
		// Warm start (Update) from the current weights, so that private updates computed
		// against an earlier version still apply. The model already fits the older labels, so
		// a round takes enough minibatch steps for each new label to be replayed Replays times
		// (Update puts new labels in half of every batch), and at least MinRefitSteps.
		cfg := l.Model.Config()
		perStep := max(cfg.Batch/2, 1)
		steps := max((t.cfg.Replays*len(fresh)+perStep-1)/perStep, t.cfg.MinRefitSteps)
		passes := min(max((steps+cfg.UpdateSteps-1)/max(cfg.UpdateSteps, 1), 1), t.cfg.RefitUpdates)
		if st, err = l.Update(passes); err != nil {
			return false, false, err
		}
	default:
		return false, false, nil
	}
	for k, v := range st.Metrics() {
		metrics[k] = v
	}
	return true, full, nil
}

// loadSegments replays the clips of labels not yet in memory.
func (t *Trainer) loadSegments(ctx context.Context, p *project, labels []store.Label) error {
	var need []string
	for _, l := range labels {
		for _, id := range []string{l.Left, l.Right} {
			if _, ok := p.segments[id]; !ok && !slices.Contains(need, id) {
				need = append(need, id)
			}
		}
	}
	if len(need) == 0 {
		return nil
	}
	clips, err := t.st.ClipsByID(ctx, p.id, need)
	if err != nil {
		return err
	}
	for _, id := range need {
		c, ok := clips[id]
		if !ok {
			return fmt.Errorf("trainer: clip %s of a label is missing", id)
		}
		seg, err := segmentOf(c)
		if err != nil {
			return fmt.Errorf("trainer: clip %s: %w", id, err)
		}
		p.segments[id] = seg
	}
	return nil
}

// merge averages the pending private updates that fit the current model (FedAvg weighted by
// label count, with the project's clipping and trimming) and adds the result to it. Updates
// that cannot be merged are rejected with a reason.
func (t *Trainer) merge(p *project, pending []store.ModelUpdate, set store.Settings, full bool, out *store.Round, metrics map[string]float64) (bool, error) {
	var ups []merge.Update
	n := reward.NumParams(p.model)
	for _, u := range pending {
		reason := ""
		switch {
		case u.BaseVersion < p.lineage:
			reason = fmt.Sprintf("base_version %d predates the refit from scratch at version %d", u.BaseVersion, p.lineage)
		case full && p.modelVersion > 0:
			reason = "the model was refitted from scratch this round; base an update on the new version"
		case u.BaseVersion > p.modelVersion:
			reason = fmt.Sprintf("base_version %d does not exist (latest is %d)", u.BaseVersion, p.modelVersion)
		case p.modelVersion-u.BaseVersion > set.MaxModelStaleness:
			reason = fmt.Sprintf("base_version %d is %d versions behind the latest %d (max %d)", u.BaseVersion, p.modelVersion-u.BaseVersion, p.modelVersion, set.MaxModelStaleness)
		case len(u.Delta) != n:
			reason = fmt.Sprintf("delta has %d values, the model %d parameters", len(u.Delta), n)
		}
		d := make([]float64, len(u.Delta))
		for i, v := range u.Delta {
			d[i] = float64(v)
		}
		if reason == "" {
			if err := merge.Check(merge.Update{Delta: d, Labels: u.Labels}, n); err != nil {
				reason = err.Error()
			}
		}
		if reason != "" {
			out.Rejected[u.ID] = reason
			continue
		}
		ups = append(ups, merge.Update{Delta: d, Labels: u.Labels})
		out.Merged = append(out.Merged, u.ID)
	}
	if len(ups) == 0 {
		return false, nil
	}
	delta, err := merge.FedAvg(ups, merge.Config{ClipNorm: set.MergeClipNorm, Trim: set.MergeTrim})
	if err != nil {
		return false, err
	}
	if err := reward.AddParams(p.model, delta); err != nil {
		return false, err
	}
	labels := 0
	for _, u := range ups {
		labels += u.Labels
	}
	metrics["merge/updates"] = float64(len(ups))
	metrics["merge/labels"] = float64(labels)
	metrics["merge/delta_norm"] = merge.Norm(delta)
	return true, nil
}
