package lmppo

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/prefer-rlhf/prefer/core/lm"
	"github.com/prefer-rlhf/prefer/core/nn"
	"github.com/prefer-rlhf/prefer/core/ppo"
)

// Reward scores a continuation cont of prompt, as a reward model does: once, at its end.
type Reward func(prompt, cont []int) float64

// TokenReward writes a reward for each token of a continuation cont of prompt to out (len
// cont): for a reward model that is a sum over steps, as Christiano et al. 2017's r̂ is (§2.2:
// the agent gets r̂ at every step), its per-step terms, whose sum is the continuation's score
// (Trainer.SetTokenReward).
type TokenReward func(prompt, cont []int, out []float64)

// Trainer fine-tunes a copy of a reference model. Policy is the copy; Head is its value head,
// Dim weights and a bias on the final hidden state.
type Trainer struct {
	Policy *lm.Model
	Head   []float64
	KL     ppo.KLController
	Ent    EntController // the entropy bonus's coefficient (Config.EntCoef, Config.EntTarget)

	cfg     Config
	ref     *lm.Model
	reward  Reward
	dense   TokenReward // nil: the score arrives at the last token (SetTokenReward)
	prompts [][]int
	rng     *rand.Rand
	sampler *lm.Sampler

	// The reward model's mean and standard deviation on the reference's continuations, by
	// which scores are whitened (Ziegler et al. 2019, §2.2: the reward model is normalised to
	// mean 0 and variance 1 on samples of the reference).
	scoreMean, scoreStd float64

	pretrain []int // PPO-ptx's token stream (SetPretrain)

	// With Config.ExactKL, the reference's log-softmax at each continuation token of the
	// current rollout (Batch·Length × Vocab), and the weight of the exact KL term in the loss:
	// β over the standard deviation by which the rollout's advantages were whitened, so that it
	// stands to the surrogate as the penalty stands to the score in the rewards.
	refLogp []float64
	klScale float64
	// entScale is the entropy bonus's weight in the loss (Ent.Coef), scaled as klScale is.
	entScale float64

	adamP, adamH *nn.Adam
	adamB        *nn.Adam  // the output bias's (Config.OutBias), at Config.BiasLR; nil without one; adamP steps the reference's parameters
	grad         []float64 // trunk then head
	ws, wsRef    lm.Workspace
	wsPtx        lm.Workspace
}

// Stats describe one Step.
type Stats struct {
	Score      float64 // mean reward of the rollout's continuations, before whitening
	KL         float64 // mean over continuations of Σ_t log π(a_t|s_t) − log π_ref(a_t|s_t), nats
	Beta       float64 // β the rollout's rewards were penalised with
	PolicyLoss float64 // mean clipped surrogate loss over the updates
	ValueLoss  float64 // mean squared value error over the updates (halved)
	ClipFrac   float64 // share of token updates whose ratio was outside [1−ε, 1+ε]
	// Entropy is the policy's mean entropy per continuation state over the updates, nats;
	// measured only with Config.EntCoef (0 without).
	Entropy float64
	EntCoef float64 // the entropy bonus's coefficient the rollout was trained with (Trainer.Ent)
	// StartRatio is the largest |π/π_old − 1| of the first minibatch, before any step: 0
	// exactly, since the rollout's log-probabilities and the update's come from the same
	// computation on the same parameters.
	StartRatio float64
}

// New returns a Trainer whose policy starts as a copy of ref, continuing prompts (all of one
// length) for cfg.Length tokens. It samples one rollout of the reference to whiten rewards.
func New(cfg Config, ref *lm.Model, prompts [][]int, reward Reward) (*Trainer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if len(prompts) == 0 || len(prompts[0]) == 0 {
		return nil, errors.New("lmppo: no prompts")
	}
	p := len(prompts[0])
	for i, q := range prompts {
		if len(q) != p {
			return nil, fmt.Errorf("lmppo: prompt %d has %d tokens, prompt 0 has %d", i, len(q), p)
		}
	}
	if p+cfg.Length > ref.Config.Ctx {
		return nil, fmt.Errorf("lmppo: prompt %d + %d tokens exceed the context of %d", p, cfg.Length, ref.Config.Ctx)
	}
	var pol *lm.Model
	if cfg.OutBias {
		pol = ref.WithOutputBias()
	} else {
		pol = ref.Clone()
	}
	d := pol.Config.Dim
	t := &Trainer{
		Policy: pol, Head: make([]float64, d+1),
		KL:  ppo.KLController{Beta: cfg.Beta, Target: cfg.KLTarget, Rate: cfg.KLRate},
		Ent: EntController{Coef: cfg.EntCoef, Floor: cfg.EntCoef, Target: cfg.EntTarget, Rate: cfg.EntRate},
		cfg: cfg, ref: ref, reward: reward, prompts: prompts,
		rng:     rand.New(rand.NewPCG(cfg.Seed, 0x6c6d70706f)),
		sampler: pol.NewSampler(cfg.Batch),
		adamP:   nn.NewAdam(len(ref.Params), cfg.LR),
		adamH:   nn.NewAdam(d+1, cfg.LR),
		grad:    make([]float64, len(pol.Params)+d+1),
	}
	if n := len(pol.Params) - len(ref.Params); n > 0 {
		t.adamB = nn.NewAdam(n, cfg.BiasLR)
	}
	if err := t.whiten(t.sampler); err != nil {
		return nil, err
	}
	return t, nil
}

// Rewhiten sets the reward's whitening again from a rollout of the reference: for a reward
// that has changed, such as a reward model refitted on new labels.
func (t *Trainer) Rewhiten() error { return t.whiten(t.ref.NewSampler(t.cfg.Batch)) }

// whiten sets the mean and standard deviation of the reward on a rollout of s, a sampler of the
// reference.
func (t *Trainer) whiten(s *lm.Sampler) error {
	r, err := t.rollout(s)
	if err != nil {
		return err
	}
	t.scoreMean, t.scoreStd = meanStd(r.scores)
	t.scoreStd = max(t.scoreStd, 1e-8)
	return nil
}

// SetTokenReward makes each token of a rollout carry its own share of the score, f's term
// for it, instead of the whole score arriving at the last token; the scores (and so the
// whitening, Stats.Score and the reward New was given) become the sums of f's terms. Every
// continuation's whitened total is the same either way, and with γ 1 so is every token's
// return to the end; what changes is which tokens the advantages credit: a token's own term
// reaches it at once instead of through the value head's estimate of the end (GAE's λ < 1
// discounts what the value head has not learned). It re-whitens on the reference.
func (t *Trainer) SetTokenReward(f TokenReward) error {
	t.dense = f
	return t.Rewhiten()
}

// rollout is a batch of continuations sampled from the policy.
type rollout struct {
	seqs   []int     // Batch × (P+Length): prompt then continuation
	scores []float64 // reward of each continuation
	tokens []float64 // Batch × Length: each token's term of its score (SetTokenReward); nil without
}

// rollout samples one continuation of each of Batch prompts drawn uniformly from s at
// temperature 1 (the softmax the policy scores: a reference tempered with lm.Model.Temper
// carries its temperature in its weights), and scores them.
func (t *Trainer) rollout(s *lm.Sampler) (rollout, error) {
	nb, L, P := t.cfg.Batch, t.cfg.Length, len(t.prompts[0])
	prompts := make([]int, 0, nb*P)
	g := max(t.cfg.Group, 1)
	for range nb / g {
		q := t.prompts[t.rng.IntN(len(t.prompts))]
		for range g {
			prompts = append(prompts, q...)
		}
	}
	toks, _, err := s.Generate(t.rng, prompts, L, 1)
	if err != nil {
		return rollout{}, err
	}
	r := rollout{seqs: make([]int, 0, nb*(P+L)), scores: make([]float64, nb)}
	if t.dense != nil {
		r.tokens = make([]float64, nb*L)
	}
	for i := range nb {
		r.seqs = append(append(r.seqs, prompts[i*P:(i+1)*P]...), toks[i*L:(i+1)*L]...)
		if t.dense == nil {
			r.scores[i] = t.reward(prompts[i*P:(i+1)*P], toks[i*L:(i+1)*L])
			continue
		}
		terms := r.tokens[i*L : (i+1)*L]
		t.dense(prompts[i*P:(i+1)*P], toks[i*L:(i+1)*L], terms)
		for _, v := range terms {
			r.scores[i] += v
		}
	}
	return r, nil
}

// Step runs one PPO iteration: a rollout, its per-token rewards and advantages, Epochs passes
// of minibatch updates, and an update of β.
func (t *Trainer) Step() (Stats, error) {
	c := t.cfg
	nb, L, P := c.Batch, c.Length, len(t.prompts[0])
	T := P + L
	n := nb * L // token decisions in the rollout

	// 1. Rollout: continuations from the current policy, their log-probabilities under it and
	// under the reference, and the value of each state, all from one forward pass each.
	r, err := t.rollout(t.sampler)
	if err != nil {
		return Stats{}, err
	}
	oldLogp, refLogp, values := make([]float64, n), make([]float64, n), make([]float64, n)
	if err := t.scoreTokens(t.Policy, &t.ws, r.seqs, nb, T, P, oldLogp, values); err != nil {
		return Stats{}, err
	}
	if err := t.scoreTokens(t.ref, &t.wsRef, r.seqs, nb, T, P, refLogp, nil); err != nil {
		return Stats{}, err
	}

	// 2. Rewards (Ziegler et al. 2019, eq. 2): −β·(log π − log π_ref) at every token, plus the
	// whitened score at the last. Layout [t][e], as ppo.GAE reads it.
	st := Stats{Beta: t.KL.Beta}
	var stateKL []float64
	if c.ExactKL {
		stateKL = t.exactKL(nb, T, P)
	}
	rewards, vals, done := make([]float64, n), make([]float64, n), make([]bool, n)
	for i := range nb {
		st.Score += r.scores[i] / float64(nb)
		for j := range L {
			k := i*L + j
			kl := oldLogp[k] - refLogp[k]
			st.KL += kl / float64(nb)
			if c.ExactKL {
				// Token j leads to state j+1, whose whole KL its reward carries; the KL at
				// state j itself enters through the loss (lossGrad).
				kl = 0
				if j+1 < L {
					kl = stateKL[k+1]
				}
			}
			rewards[j*nb+i] = -t.KL.Beta * kl
			vals[j*nb+i] = values[k]
		}
		addScore(rewards, r, i, nb, L, t.scoreMean, t.scoreStd)
		done[(L-1)*nb+i] = true
	}

	// 3. Advantages by GAE over tokens (or the leave-one-out baseline of Config.Group), then
	// whitened over the batch.
	advT, retT := make([]float64, n), make([]float64, n)
	if c.Group > 1 {
		leaveOneOut(rewards, nb, L, c.Group, c.Gamma, advT, retT)
	} else {
		ppo.GAE(rewards, vals, done, make([]float64, nb), L, nb, c.Gamma, c.Lambda, advT, retT)
	}
	adv, ret := make([]float64, n), make([]float64, n)
	for i := range nb {
		for j := range L {
			adv[i*L+j], ret[i*L+j] = advT[j*nb+i], retT[j*nb+i]
		}
	}
	m, s := meanStd(adv)
	for k := range adv {
		adv[k] = (adv[k] - m) / max(s, 1e-8)
	}
	t.klScale = t.KL.Beta / max(s, 1e-8)
	st.EntCoef = t.Ent.Coef
	t.entScale = t.Ent.Coef / max(s, 1e-8)

	// 4. PPO: Epochs passes over the rollout in random minibatches of whole continuations.
	updates, tokens := 0, 0
	first := true
	for range c.Epochs {
		order := t.rng.Perm(nb)
		for b := 0; b < nb; b += c.Minibatch {
			idx := order[b:min(b+c.Minibatch, nb)]
			u := t.update(r.seqs, idx, T, P, oldLogp, adv, ret, first)
			if first {
				st.StartRatio = u.startRatio
				first = false
			}
			st.PolicyLoss += u.policyLoss
			st.ValueLoss += u.valueLoss
			st.ClipFrac += u.clipped
			st.Entropy += u.entropy
			updates++
			tokens += len(idx) * L
		}
	}
	st.PolicyLoss /= float64(updates)
	st.ValueLoss /= float64(updates)
	st.ClipFrac /= float64(tokens)
	st.Entropy /= float64(updates)

	// 5. β toward the KL target (Ziegler et al. 2019, §2.2), and the entropy bonus toward its
	// target.
	t.KL.Update(st.KL)
	t.Ent.Update(st.Entropy) // a no-op without Config.EntTarget, which Validate allows only with EntCoef
	return st, nil
}

// addScore adds continuation i's whitened score (score − mean)/std to its tokens' rewards
// (layout [t][e], nb continuations of L tokens): all of it at the last token, or with the
// rollout's per-token terms (SetTokenReward) each term over std at its token and −mean/std at
// the last, the same total.
func addScore(rewards []float64, r rollout, i, nb, L int, mean, std float64) {
	if r.tokens == nil {
		rewards[(L-1)*nb+i] += (r.scores[i] - mean) / std
		return
	}
	for j, v := range r.tokens[i*L : (i+1)*L] {
		rewards[j*nb+i] += v / std
	}
	rewards[(L-1)*nb+i] -= mean / std
}

// leaveOneOut sets ret to each token's discounted return-to-go in rewards (layout [t][e], nb
// continuations of L tokens, in groups of g consecutive continuations of one prompt) and adv
// to ret less the mean of the other g−1 continuations' ret at the same position: the RLOO
// baseline (Config.Group), which uses no sample's own actions and so leaves the gradient
// unbiased.
func leaveOneOut(rewards []float64, nb, L, g int, gamma float64, adv, ret []float64) {
	for i := range nb {
		acc := 0.0
		for j := L - 1; j >= 0; j-- {
			acc = rewards[j*nb+i] + gamma*acc
			ret[j*nb+i] = acc
		}
	}
	for lo := 0; lo < nb; lo += g {
		for j := range L {
			row := ret[j*nb+lo : j*nb+lo+g]
			var sum float64
			for _, v := range row {
				sum += v
			}
			for m, v := range row {
				adv[j*nb+lo+m] = v - (sum-v)/float64(g-1)
			}
		}
	}
}

// scoreTokens runs m on nb sequences of T tokens and writes the log-probability of each of the
// L = T−P continuation tokens to logp (nb×L) and, if values is non-nil, the value head's
// estimate of the state before each (nb×L).
func (t *Trainer) scoreTokens(m *lm.Model, ws *lm.Workspace, seqs []int, nb, T, P int, logp, values []float64) error {
	all := make([]float64, nb*(T-1))
	if err := m.LogProbs(ws, seqs, nb, T, 1, all); err != nil {
		return err
	}
	L := T - P
	for i := range nb {
		copy(logp[i*L:(i+1)*L], all[i*(T-1)+P-1:(i+1)*(T-1)])
		if values != nil {
			for j := range L {
				values[i*L+j] = t.value(ws.Hidden, i*T+P-1+j)
			}
		}
	}
	return nil
}

// exactKL keeps the reference's log-softmax at each continuation token of the rollout just
// scored (t.wsRef) in t.refLogp and returns KL(π(·|s)‖π_ref(·|s)) at each of those states
// (Batch·Length), from the policy's logits in t.ws.
func (t *Trainer) exactKL(nb, T, P int) []float64 {
	V, L := t.Policy.Config.Vocab, T-P
	t.refLogp = slices.Grow(t.refLogp[:0], nb*L*V)[:nb*L*V]
	kl := make([]float64, nb*L)
	lp := make([]float64, V)
	for i := range nb {
		for j := range L {
			k, r := i*L+j, i*T+P-1+j
			q := t.refLogp[k*V : (k+1)*V]
			lm.LogSoftmax(q, t.wsRef.Logits[r*V:(r+1)*V], 1)
			lm.LogSoftmax(lp, t.ws.Logits[r*V:(r+1)*V], 1)
			kl[k] = klDiv(lp, q)
		}
	}
	return kl
}

// klDiv is Σ_a p_a·(log p_a − log q_a) for log-probabilities lp and lq.
func klDiv(lp, lq []float64) float64 {
	var s float64
	for a, v := range lp {
		s += math.Exp(v) * (v - lq[a])
	}
	return s
}

// entropy is −Σ_a p_a·log p_a for log-probabilities lp.
func entropy(lp []float64) float64 {
	var h float64
	for _, v := range lp {
		h -= math.Exp(v) * v
	}
	return h
}

// value is the head's estimate at row r of hidden states h.
func (t *Trainer) value(h []float64, r int) float64 {
	d := len(t.Head) - 1
	v := t.Head[d]
	for k, w := range t.Head[:d] {
		v += w * h[r*d+k]
	}
	return v
}

// update is the result of one minibatch step.
type update struct {
	policyLoss, valueLoss, clipped, startRatio float64
	klLoss                                     float64 // Config.ExactKL's term: klScale times the mean exact KL over the minibatch's states
	entLoss                                    float64 // Config.EntCoef's term: −entScale times the mean entropy over the minibatch's states
	entropy                                    float64 // the mean entropy over the minibatch's states, with Config.EntCoef
}

// update takes one Adam step on the minibatch idx of the rollout (lossGrad's loss).
func (t *Trainer) update(seqs, idx []int, T, P int, oldLogp, adv, ret []float64, first bool) update {
	u := t.lossGrad(seqs, idx, T, P, oldLogp, adv, ret, first)
	if err := t.ptx(); err != nil {
		panic(err) // unreachable: SetPretrain checked the stream's tokens
	}
	if t.cfg.GradClip > 0 {
		nn.ClipGradNorm(t.grad, t.cfg.GradClip)
	}
	n := len(t.Policy.Params)
	k := len(t.ref.Params)
	t.adamP.Step(t.Policy.Params[:k], t.grad[:k])
	if t.adamB != nil {
		t.adamB.Step(t.Policy.Params[k:], t.grad[k:n])
	}
	t.adamH.Step(t.Head, t.grad[n:])
	return u
}

// SetPretrain sets the token stream PPO-ptx's loss reads when Config.PtxCoef > 0 (nil: none).
func (t *Trainer) SetPretrain(stream []int) error {
	for _, id := range stream {
		if id < 0 || id >= t.Policy.Config.Vocab {
			return fmt.Errorf("lmppo: pretraining token %d outside [0, %d)", id, t.Policy.Config.Vocab)
		}
	}
	t.pretrain = stream
	return nil
}

// ptx adds PtxCoef times the gradient of the mean next-token loss of PtxBatch random windows
// of the SetPretrain stream to the trunk's gradient: PPO-ptx's pretraining term (Ouyang et al. 2022, eq. 2).
func (t *Trainer) ptx() error {
	c, m := t.cfg, t.Policy
	if c.PtxCoef == 0 || len(t.pretrain) < 2 {
		return nil
	}
	T := min(m.Config.Ctx, len(t.pretrain))
	seqs := make([]int, 0, c.PtxBatch*T)
	for range c.PtxBatch {
		o := t.rng.IntN(len(t.pretrain) - T + 1)
		seqs = append(seqs, t.pretrain[o:o+T]...)
	}
	temp := c.PtxTemp
	if temp == 0 {
		temp = 1
	}
	n := c.PtxBatch * (T - 1)
	lp := make([]float64, n)
	if err := m.LogProbs(&t.wsPtx, seqs, c.PtxBatch, T, temp, lp); err != nil {
		return err
	}
	// t.grad is the gradient of a loss: γ·mean(−log p) enters as −γ/n on each log p.
	d := make([]float64, n)
	for i := range d {
		d[i] = -c.PtxCoef / float64(n)
	}
	return m.LogProbsBackward(&t.wsPtx, temp, d, nil, t.grad[:len(m.Params)])
}

// lossGrad sets t.grad (trunk, then head) to the gradient of the minibatch idx's loss: the
// clipped surrogate of Schulman et al. 2017, eq. 7, plus ValueCoef times half the squared
// error of the value head, both means over the minibatch's tokens. first records the largest
// |ratio − 1|.
func (t *Trainer) lossGrad(seqs, idx []int, T, P int, oldLogp, adv, ret []float64, first bool) update {
	c := t.cfg
	L, nb, d := T-P, len(idx), t.Policy.Config.Dim
	mb := make([]int, 0, nb*T)
	for _, i := range idx {
		mb = append(mb, seqs[i*T:(i+1)*T]...)
	}
	logp := make([]float64, nb*(T-1))
	if err := t.Policy.LogProbs(&t.ws, mb, nb, T, 1, logp); err != nil {
		panic(err) // unreachable: the rollout's sequences were checked when sampled
	}
	dLogp, dHidden := make([]float64, nb*(T-1)), make([]float64, nb*T*d)
	clear(t.grad)
	gh := t.grad[len(t.Policy.Params):]
	inv := 1 / float64(nb*L)
	var u update
	for s, i := range idx {
		for j := range L {
			k, q, row := i*L+j, s*(T-1)+P-1+j, s*T+P-1+j
			ratio := math.Exp(logp[q] - oldLogp[k])
			if first {
				u.startRatio = max(u.startRatio, math.Abs(ratio-1))
			}
			a := adv[k]
			pg1, pg2 := -a*ratio, -a*clamp(ratio, 1-c.ClipEps, 1+c.ClipEps)
			u.policyLoss += max(pg1, pg2) * inv
			if pg1 >= pg2 {
				dLogp[q] = -a * ratio * inv // ∂(−A·r)/∂log π = −A·r
			}
			if ratio < 1-c.ClipEps || ratio > 1+c.ClipEps {
				u.clipped++
			}
			if c.Group > 1 {
				continue // no value head to train
			}
			v := t.value(t.ws.Hidden, row)
			u.valueLoss += 0.5 * (v - ret[k]) * (v - ret[k]) * inv
			dv := c.ValueCoef * (v - ret[k]) * inv
			h := t.ws.Hidden[row*d : (row+1)*d]
			dh := dHidden[row*d : (row+1)*d]
			for e, w := range t.Head[:d] {
				gh[e] += dv * h[e]
				if !c.DetachValue {
					dh[e] = dv * w
				}
			}
			gh[d] += dv
		}
	}
	var dLogits []float64
	if c.ExactKL || c.EntCoef > 0 {
		dLogits = t.stateGrad(idx, T, P, &u)
	}
	if err := t.Policy.LogProbsBackwardLogits(&t.ws, 1, dLogp, dLogits, dHidden, t.grad[:len(t.Policy.Params)]); err != nil {
		panic(err) // unreachable: same shapes as the LogProbs just above
	}
	return u
}

// stateGrad adds the loss terms on each continuation state's whole distribution to u and
// returns their gradient with respect to the logits of the last LogProbs on t.ws:
//   - Config.ExactKL's, klScale times the mean over the minibatch idx's states of
//     KL(π(·|s)‖π_ref(·|s)); with p = softmax(z), ∂KL/∂z_a = p_a·(log p_a − log q_a − KL);
//   - Config.EntCoef's, −entScale times the mean entropy H = −Σ_a p_a·log p_a, with
//     ∂H/∂z_a = −p_a·(log p_a + H).
func (t *Trainer) stateGrad(idx []int, T, P int, u *update) []float64 {
	V, L := t.Policy.Config.Vocab, T-P
	dl := make([]float64, len(idx)*T*V)
	lp := make([]float64, V)
	n := float64(len(idx) * L)
	wk, we := t.klScale/n, t.entScale/n
	for s, i := range idx {
		for j := range L {
			k, r := i*L+j, s*T+P-1+j
			lm.LogSoftmax(lp, t.ws.Logits[r*V:(r+1)*V], 1)
			row := dl[r*V : (r+1)*V]
			if t.cfg.ExactKL {
				q := t.refLogp[k*V : (k+1)*V]
				kl := klDiv(lp, q)
				u.klLoss += wk * kl
				for a, v := range lp {
					row[a] += wk * math.Exp(v) * (v - q[a] - kl)
				}
			}
			if t.cfg.EntCoef > 0 {
				h := entropy(lp)
				u.entropy += h / n
				u.entLoss -= we * h
				for a, v := range lp {
					row[a] += we * math.Exp(v) * (v + h)
				}
			}
		}
	}
	return dl
}

func clamp(x, lo, hi float64) float64 { return max(lo, min(hi, x)) }

func meanStd(xs []float64) (mean, std float64) {
	for _, x := range xs {
		mean += x
	}
	mean /= float64(len(xs))
	for _, x := range xs {
		std += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(std / float64(len(xs)))
}
