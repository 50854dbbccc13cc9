package textrl

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/prefer-rlhf/prefer/core/dpo"
	"github.com/prefer-rlhf/prefer/core/lm"
	"github.com/prefer-rlhf/prefer/core/lmppo"
	"github.com/prefer-rlhf/prefer/core/query"
	"github.com/prefer-rlhf/prefer/core/reward"
	"github.com/prefer-rlhf/prefer/core/text"
)

// Learner is the text loop's learning between rounds, for a caller that brings its own labels
// and clock: the hub's trainer (server/trainer), whose labels come from people. It holds what
// Run holds in its locals: the reference, the text reward model, PPO's trainer and the policy.
// Each round the caller fits the reward model on the labels so far (Fit), tunes the policy by
// PPO (PPO) or DPO (DPO), measures it on the held-out prompts (Measure) and asks for new
// continuations to be labelled (Sample). A Learner is not safe for concurrent use.
type Learner struct {
	cfg  Config
	w    *text.World
	task text.Task
	ref  *lm.Model
	// Train and Eval are the prompts split as Run splits them (splitPrompts): Train's are
	// labelled and trained on, Eval's (every fourth of the world's Prompts) measure.
	Train, Eval [][]int
	// Model is the reward model of the last Fit; nil before.
	Model *reward.Model
	// Policy is the tuned model: the reference itself until PPO or DPO has run (never
	// modified then).
	Policy *lm.Model
	ppo    *lmppo.Trainer
	gold   float64 // sum of the gold scores of PPO's last rollout
	// The reward model's mean and standard deviation on the reference's continuations, and
	// the model they were measured on: the standardisation of the log-sigmoid transform.
	refMean, refStd float64
	refModel        *reward.Model
}

// refSamples is how many continuations of the reference standardise the log-sigmoid transform.
const refSamples = 256

// NewLearner returns a Learner for task t of world w from the reference model ref (which it
// does not change). cfg's Method, Labels, Iters, Rounds and FinalShare are the caller's business and are
// not read.
func NewLearner(cfg Config, w *text.World, t text.Task, ref *lm.Model) (*Learner, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if ref.Config.Vocab != w.Tok.VocabSize() {
		return nil, fmt.Errorf("textrl: the model has %d tokens, the tokenizer %d", ref.Config.Vocab, w.Tok.VocabSize())
	}
	train, eval := splitPrompts(w, cfg.TrainPrompts)
	if len(train) == 0 || len(eval) == 0 {
		return nil, errors.New("textrl: too few prompts for a held-out split")
	}
	return &Learner{cfg: cfg, w: w, task: t, ref: ref, Train: train, Eval: eval, Policy: ref}, nil
}

// splitPrompts holds every fourth of w's prompts out to measure; the rest are labelled and
// trained on, and with more the world's training prompts too (Config.TrainPrompts), less any
// that equal a held-out one, so that the measured prompts stay ones the policy never trained on.
func splitPrompts(w *text.World, more bool) (train, eval [][]int) {
	for i, p := range w.Prompts {
		if i%4 == 0 {
			eval = append(eval, p)
		} else {
			train = append(train, p)
		}
	}
	if !more {
		return train, eval
	}
	for _, p := range w.TrainPrompts {
		if !slices.ContainsFunc(eval, func(e []int) bool { return slices.Equal(e, p) }) {
			train = append(train, p)
		}
	}
	return train, eval
}

// Ref is the reference model.
func (l *Learner) Ref() *lm.Model { return l.ref }

// Features are the reward model's features.
func (l *Learner) Features() text.Features { return l.cfg.Features }

// Sample draws one continuation of the task's length from m at temperature 1 for each prompt
// (the reference's temperature is in its weights: lm.Model.Temper).
func (l *Learner) Sample(m *lm.Model, rng *rand.Rand, prompts [][]int) ([][]int, error) {
	return sample(m, rng, prompts, l.task.Length)
}

// rewardConfig is the text reward model's settings: text.RewardConfig with c's seed and
// RewardEpochs.
func (c Config) rewardConfig() reward.Config {
	rc := text.RewardConfig(c.Seed)
	if c.RewardEpochs > 0 {
		rc.Epochs = c.RewardEpochs
	}
	return rc
}

// fitReward fits a fresh text reward model (the Bradley-Terry ensemble on cfg.Features) to
// data.
func fitReward(cfg Config, data *reward.Dataset) (*reward.Model, reward.Stats, error) {
	m, err := reward.New(cfg.rewardConfig(), cfg.Features.Shape())
	if err != nil {
		return nil, reward.Stats{}, err
	}
	st, err := m.Fit(data)
	if err != nil {
		return nil, reward.Stats{}, err
	}
	return m, st, nil
}

// Fit fits the reward model afresh on data (segments of Features), as Run refits after each of
// its labelling rounds; PPO's whitening is set again on the new model.
func (l *Learner) Fit(data *reward.Dataset) (reward.Stats, error) {
	m, st, err := fitReward(l.cfg, data)
	if err != nil {
		return st, err
	}
	l.Model = m
	if l.ppo != nil {
		if err := l.standardise(); err != nil {
			return st, err
		}
		if err := l.ppo.Rewhiten(); err != nil {
			return st, err
		}
	}
	return st, nil
}

// Score is the reward model's score of a continuation cont of prompt.
func (l *Learner) Score(prompt, cont []int) float64 {
	return l.Model.Return(l.cfg.Features.Segment(prompt, cont))
}

// setPretrain gives PPO-ptx (lmppo.Config.PtxCoef) the world's training sentences, the text
// the reference was pretrained on last, when its coefficient is set.
func setPretrain(tr *lmppo.Trainer, w *text.World, coef float64) error {
	if coef == 0 || len(w.Train) == 0 {
		return nil
	}
	return tr.SetPretrain(w.Tok.Encode(strings.Join(w.Train, "\n") + "\n"))
}

// trainer returns PPO's trainer, made on first use: its policy starts as a copy of the
// reference and continues the train prompts, scored by the reward model.
func (l *Learner) trainer() (*lmppo.Trainer, error) {
	if l.ppo != nil {
		return l.ppo, nil
	}
	if l.Model == nil {
		return nil, errors.New("textrl: PPO needs a reward model: Fit first")
	}
	if err := l.standardise(); err != nil {
		return nil, err
	}
	pc := l.cfg.PPO
	pc.Length, pc.Seed = l.task.Length, l.cfg.Seed
	tr, err := lmppo.New(pc, l.ref, l.Train, func(p, c []int) float64 {
		l.gold += l.w.Score(l.task, l.w.Tok.Decode(c))
		return l.objective(l.Score(p, c))
	})
	if err != nil {
		return nil, err
	}
	if err := setPretrain(tr, l.w, pc.PtxCoef); err != nil {
		return nil, err
	}
	l.ppo = tr
	l.Policy = tr.Policy
	return tr, nil
}

// objective is what PPO maximises of a reward-model score r: r itself, or with LogSigmoid
// log σ(z − margin), z = (r − μ_ref)/σ_ref.
func (l *Learner) objective(r float64) float64 {
	if !l.cfg.LogSigmoid {
		return r
	}
	return logSigmoid(r, l.refMean, l.refStd, l.cfg.LogSigmoidMargin)
}

// logSigmoid is log σ((r − mean)/std − margin), computed without overflow: the log-sigmoid
// transformation of Wang et al. 2024 on a score standardised on the reference's continuations.
func logSigmoid(r, mean, std, margin float64) float64 {
	x := (r-mean)/std - margin
	if x < 0 { // log σ(x) = x − log(1 + e^x)
		return x - math.Log1p(math.Exp(x))
	}
	return -math.Log1p(math.Exp(-x))
}

// standardise measures, for the log-sigmoid transform, the reward model's mean and standard
// deviation on the reference's continuations (refStats), once per model.
func (l *Learner) standardise() error {
	if !l.cfg.LogSigmoid || l.refModel == l.Model {
		return nil
	}
	var err error
	if l.refMean, l.refStd, err = refStats(l.cfg.Seed, l.ref, l.Train, l.task.Length, l.Score); err != nil {
		return err
	}
	l.refModel = l.Model
	return nil
}

// refStats is the mean and standard deviation of score on refSamples continuations of the
// reference ref, of train prompts drawn with a fixed seed: the same prompts and continuations
// for every reward model of a run, so successive models are standardised on the same text.
func refStats(seed uint64, ref *lm.Model, train [][]int, L int, score func(p, c []int) float64) (mean, std float64, err error) {
	rng := rand.New(rand.NewPCG(seed, 0x7374640a))
	prompts := make([][]int, refSamples)
	for i := range prompts {
		prompts[i] = train[rng.IntN(len(train))]
	}
	conts, err := sample(ref, rng, prompts, L)
	if err != nil {
		return 0, 0, err
	}
	var sum, sq float64
	for i, c := range conts {
		r := score(prompts[i], c)
		sum += r
		sq += r * r
	}
	n := float64(len(conts))
	mean = sum / n
	return mean, max(math.Sqrt(max(sq/n-mean*mean, 0)), 1e-8), nil
}

// PPO runs iters iterations of token-level PPO with the KL penalty (core/lmppo) on the
// reward model, continuing from the last call, and returns a point per iteration.
func (l *Learner) PPO(iters int) ([]Point, error) {
	tr, err := l.trainer()
	if err != nil {
		return nil, err
	}
	var pts []Point
	for range iters {
		l.gold = 0
		st, err := tr.Step()
		if err != nil {
			return pts, err
		}
		pts = append(pts, Point{Iter: len(pts) + 1, Reward: st.Score, Gold: l.gold / float64(l.cfg.PPO.Batch), KL: st.KL, Beta: st.Beta})
	}
	return pts, nil
}

// DPO tunes a fresh copy of the reference by DPO on pairs for cfg.DPOEpochs epochs (Rafailov
// et al. 2023), as Run does; it becomes Policy. PPO's state, if any, is dropped.
func (l *Learner) DPO(pairs []dpo.Pair) (dpo.Stats, error) {
	if len(pairs) == 0 {
		return dpo.Stats{}, errors.New("textrl: no labelled pair to train DPO on")
	}
	pol, st, err := tuneDPO(l.cfg, l.ref, pairs, nil)
	if err != nil {
		return st, err
	}
	l.Policy, l.ppo = pol, nil
	return st, nil
}

// Measurement is a policy measured on the held-out prompts: the gold measures of its
// continuations, their mean reward-model score (NaN without a model) and the mean summed KL
// from the reference in nats per continuation.
type Measurement struct {
	text.Measures
	Learned float64 `json:"learned"`
	KL      float64 `json:"kl"`
}

// Measure samples EvalPerPrompt continuations of each held-out prompt from Policy and measures
// them.
func (l *Learner) Measure(rng *rand.Rand) (Measurement, error) {
	ep := make([][]int, 0, len(l.Eval)*l.cfg.EvalPerPrompt)
	for _, p := range l.Eval {
		for range l.cfg.EvalPerPrompt {
			ep = append(ep, p)
		}
	}
	conts, err := l.Sample(l.Policy, rng, ep)
	if err != nil {
		return Measurement{}, err
	}
	var m Measurement
	if l.Policy != l.ref {
		if m.KL, err = meanKL(l.Policy, l.ref, ep, conts); err != nil {
			return Measurement{}, err
		}
	}
	s := make([]string, len(conts))
	for i, c := range conts {
		s[i] = l.w.Tok.Decode(c)
		if l.Model != nil {
			m.Learned += l.Score(ep[i], c) / float64(len(conts))
		}
	}
	if l.Model == nil {
		m.Learned = math.NaN()
	}
	m.Measures = l.w.Measure(l.task, s)
	return m, nil
}

// meanKL is the mean over continuations conts (sampled from policy) of seqKL.
func meanKL(policy, ref *lm.Model, prompts, conts [][]int) (float64, error) {
	kls, err := seqKL(policy, ref, prompts, conts)
	return meanOf(kls), err
}

// meanOf is the mean of xs, each divided by their number before it is added (the order
// meanKL always summed in, so reports stay bit for bit); 0 for none.
func meanOf(xs []float64) float64 {
	m := 0.0
	for _, x := range xs {
		m += x / float64(len(xs))
	}
	return m
}

// seqKL is log policy − log ref of each continuation of conts (sampled from policy), summed
// over its tokens: each a Monte Carlo sample of KL(policy ‖ ref).
func seqKL(policy, ref *lm.Model, prompts, conts [][]int) ([]float64, error) {
	lp, err := logProbs(policy, prompts, conts)
	if err != nil {
		return nil, err
	}
	lr, err := logProbs(ref, prompts, conts)
	if err != nil {
		return nil, err
	}
	for i := range lp {
		lp[i] -= lr[i]
	}
	return lp, nil
}

// PPOState is what a checkpoint keeps of PPO besides the policy's weights: the value head and
// the KL coefficient β. Adam's moments are not kept: a resumed trainer starts them afresh.
type PPOState struct {
	Head []float64 `json:"head"`
	Beta float64   `json:"beta"`
}

// PPOState returns PPO's state, or nil if PPO has not run.
func (l *Learner) PPOState() *PPOState {
	if l.ppo == nil {
		return nil
	}
	return &PPOState{Head: append([]float64(nil), l.ppo.Head...), Beta: l.ppo.KL.Beta}
}

// Restore sets the policy of a checkpoint: with st, PPO's (the reward model must be set
// first, as PPO whitens on it), without, a DPO-tuned model.
func (l *Learner) Restore(policy *lm.Model, st *PPOState) error {
	shape := l.ref.Config
	shape.OutBias = policy.Config.OutBias // a PPO policy may have an output bias (lmppo.Config.OutBias)
	if policy.Config.Vocab != l.ref.Config.Vocab || len(policy.Params) != lm.NumParams(shape) {
		return errors.New("textrl: the checkpointed policy's shape is not the reference's")
	}
	if st == nil {
		l.Policy, l.ppo = policy, nil
		return nil
	}
	tr, err := l.trainer()
	if err != nil {
		return err
	}
	if len(st.Head) != len(tr.Head) {
		return fmt.Errorf("textrl: the checkpointed value head has %d weights, want %d", len(st.Head), len(tr.Head))
	}
	if len(policy.Params) != len(tr.Policy.Params) {
		return fmt.Errorf("textrl: the checkpointed policy has %d weights, PPO's %d (an output bias on one side only)", len(policy.Params), len(tr.Policy.Params))
	}
	copy(tr.Policy.Params, policy.Params)
	copy(tr.Head, st.Head)
	tr.KL.Beta = st.Beta
	return nil
}

// SetKLTarget sets the KL target in nats per continuation toward which PPO adapts β (0: β
// stays where it is), from the next iteration on.
func (l *Learner) SetKLTarget(k float64) {
	l.cfg.PPO.KLTarget = k
	if l.ppo != nil {
		l.ppo.KL.Target = k
	}
}

// PPOBatch is how many continuations one PPO iteration samples.
func (l *Learner) PPOBatch() int { return l.cfg.PPO.Batch }

// Disagreement is the reward ensemble's uncertainty about which of two continuations a and b
// of prompt is better: the variance over its members of their Bradley-Terry probability
// (core/query's Variance; Christiano et al. 2017, §2.2.4).
func (l *Learner) Disagreement(prompt, a, b []int) float64 {
	k := l.Model.Members()
	ra, rb := make([]float64, k), make([]float64, k)
	l.Model.MemberReturns(l.cfg.Features.Segment(prompt, a), ra)
	l.Model.MemberReturns(l.cfg.Features.Segment(prompt, b), rb)
	return query.Variance([][]float64{ra, rb}, query.Pair{Left: 0, Right: 1})
}
