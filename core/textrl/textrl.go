package textrl

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/prefer-rlhf/prefer/core/bestofn"
	"github.com/prefer-rlhf/prefer/core/dpo"
	"github.com/prefer-rlhf/prefer/core/lm"
	"github.com/prefer-rlhf/prefer/core/lmppo"
	"github.com/prefer-rlhf/prefer/core/reward"
	"github.com/prefer-rlhf/prefer/core/text"
)

// Report is an experiment's outcome, under issue 12's report keys.
type Report struct {
	Env      string  `json:"env"`
	Method   string  `json:"method"`
	Seed     uint64  `json:"seed"`
	Noise    float64 `json:"noise"`
	Beta     float64 `json:"beta"`      // PPO's starting β, or DPO's β
	KLTarget float64 `json:"kl_target"` // PPO's KL target (0: β fixed)
	N        int     `json:"n"`         // best-of-n's n
	// LogSigmoid is set when PPO maximised log σ(z − Margin) of the standardised score
	// (Config.LogSigmoid) rather than the score.
	LogSigmoid bool    `json:"log_sigmoid,omitempty"`
	Margin     float64 `json:"margin,omitempty"`
	Ptx        float64 `json:"ptx,omitempty"`         // PPO-ptx's γ (lmppo.Config.PtxCoef)
	PtxBestOf  int     `json:"ptx_best_of,omitempty"` // Config.PtxBestOf: PPO-ptx's stream is best-of-n reference continuations
	// OutBias, ExactKL, DetachValue and Group are PPO's variants (lmppo.Config's fields of those
	// names); OutBias is also DPO's (Config.DPOOutBias).
	OutBias     bool `json:"out_bias,omitempty"`
	Dense       bool `json:"dense,omitempty"` // per-token rewards (Config.Dense)
	ExactKL     bool `json:"exact_kl,omitempty"`
	DetachValue bool `json:"detach_value,omitempty"`
	Group       int  `json:"group,omitempty"`
	// EntCoef is PPO's entropy bonus (lmppo.Config.EntCoef); with EntTarget, its floor, and
	// EntCoefFinal the coefficient the entropy target had raised it to at the last rollout
	// (lmppo.Config.EntTarget).
	EntCoef      float64 `json:"ent_coef,omitempty"`
	EntTarget    float64 `json:"ent_target,omitempty"`
	EntCoefFinal float64 `json:"ent_coef_final,omitempty"`
	AverageLast  int     `json:"average_last,omitempty"` // PPO's result averaged the weights of this many last iterations (Config.AverageLast)
	// Interpolations measure the policy's weights moved toward the reference or past the
	// policy (Config.Interpolate), on the same held-out prompts.
	Interpolations []Interpolation `json:"interpolations,omitempty"`
	// DPORounds and KLBudget are DPO's labelling rounds and KL budget on the training prompts
	// (Config.DPORounds, Config.DPOKLBudget; 0: none).
	DPORounds int     `json:"dpo_rounds,omitempty"`
	KLBudget  float64 `json:"kl_budget,omitempty"`
	DPONLL    float64 `json:"dpo_nll,omitempty"`       // RPO's α (dpo.Config.NLL; 0: DPO)
	KLRamp    bool    `json:"kl_ramp,omitempty"`       // the budget spread over the rounds (Config.DPOKLRamp)
	Smoothing float64 `json:"dpo_smoothing,omitempty"` // conservative DPO's ε (dpo.Config.Smoothing)
	RoundRef  bool    `json:"dpo_round_ref,omitempty"` // each round's loss anchored on the policy it started from (Config.DPORoundRef)
	// Judge and JudgePrompts are DPO's continuations per prompt and prompts per round judged
	// by the reward model (Config.DPOJudge, Config.DPOJudgePrompts); JudgedPairs is how many
	// pairs it judged over the rounds, beside the LabelsUsed human labels.
	Judge        int `json:"dpo_judge,omitempty"`
	JudgePrompts int `json:"dpo_judge_prompts,omitempty"`
	JudgedPairs  int `json:"judged_pairs,omitempty"`
	// JudgeSoft says the judged pairs carried the reward model's probability as their label
	// (Config.DPOJudgeSoft), and JudgedMu is the mean of those labels.
	JudgeSoft bool    `json:"dpo_judge_soft,omitempty"`
	JudgedMu  float64 `json:"judged_mu,omitempty"`
	// ExtrapolationKL and ExtrapolationEta are DPO's extrapolation's KL budget on training
	// prompts (Config.DPOExtrapolate; 0: none), the step of its η (Config.DPOExtrapolateStep)
	// and the η it reached (1: not past DPO's end; 0: no extrapolation).
	ExtrapolationKL   float64 `json:"dpo_extrapolation_kl,omitempty"`
	ExtrapolationStep float64 `json:"dpo_extrapolation_step,omitempty"`
	ExtrapolationEta  float64 `json:"dpo_extrapolation_eta,omitempty"`
	// Replicas is how many DPO replicas each round trained and merged (Config.DPOReplicas;
	// 0: one policy).
	Replicas int `json:"dpo_replicas,omitempty"`
	// ValKLBudget is the KL budget on ValPrompts validation prompts (Config.ValKLBudget; 0:
	// none); ValEta is where on the line from the reference it left the tuned policy (1: as
	// tuned), and ValKLTuned and ValKL the KL on the validation continuations at η 1 and there.
	ValKLBudget float64 `json:"val_kl_budget,omitempty"`
	ValPrompts  int     `json:"val_prompts,omitempty"`
	ValEta      float64 `json:"val_eta,omitempty"`
	ValKLTuned  float64 `json:"val_kl_tuned,omitempty"`
	ValKL       float64 `json:"val_kl,omitempty"`

	// TrainPrompts and EvalPrompts are how many prompts were labelled and trained on, and how
	// many held-out prompts measured (Config.TrainPrompts).
	TrainPrompts int `json:"train_prompts"`
	EvalPrompts  int `json:"eval_prompts"`

	LabelsUsed             int      `json:"labels_used"`
	RewardModelValAccuracy *float64 `json:"reward_model_val_accuracy"` // nil when no validation label was strict
	RewardModelEpochs      int      `json:"reward_model_epochs"`       // passes of each fit (Config.RewardEpochs, or text.RewardConfig's)

	GoldBefore           float64 `json:"gold_before"`
	GoldAfter            float64 `json:"gold_after"`
	PositiveShareBefore  float64 `json:"positive_share_before"`
	PositiveShareAfter   float64 `json:"positive_share_after"`
	FreeOfEBefore        float64 `json:"free_of_e_before"`
	FreeOfEAfter         float64 `json:"free_of_e_after"`
	RewardBefore         float64 `json:"reward_before"` // mean reward-model score of the continuations
	RewardAfter          float64 `json:"reward_after"`
	KL                   float64 `json:"kl"` // nats per continuation
	HeldOutNLLBefore     float64 `json:"heldout_nll_before"`
	HeldOutNLLAfter      float64 `json:"heldout_nll_after"`
	Distinct2Before      float64 `json:"distinct_2_before"`
	Distinct2After       float64 `json:"distinct_2_after"`
	ValidWordShareBefore float64 `json:"valid_word_share_before"`
	ValidWordShareAfter  float64 `json:"valid_word_share_after"`
	// PositiveShareCI and FreeOfECI are the 95% intervals of the shares after training,
	// bootstrapped over the held-out prompts (shareCI).
	PositiveShareCI [2]float64 `json:"positive_share_after_ci95"`
	FreeOfECI       [2]float64 `json:"free_of_e_after_ci95"`
	// KLCI is KL's 95% interval, bootstrapped over the held-out prompts in the same way
	// (meanCI). Absent for best-of-n, whose KL is the formula's.
	KLCI *[2]float64 `json:"kl_ci95,omitempty"`
	// EvalPerPrompt is how many continuations of each held-out prompt were measured.
	EvalPerPrompt int `json:"eval_per_prompt"`

	Samples []Sample `json:"samples"`
	// Prompts are the held-out prompts one by one, in the order measured: which prompts a
	// tuned policy still misses, where the means above say only how many.
	Prompts     []PromptResult `json:"prompts"`
	Curve       []Point        `json:"curve,omitempty"` // PPO's iterations, or DPO's KL checks on training prompts (Iter: the step)
	WallSeconds float64        `json:"wall_seconds"`

	// Policy is the tuned policy as measured (after any walk to the KL budget); nil for
	// best-of-n, which tunes none. It is not part of the JSON report.
	Policy *lm.Model `json:"-"`
}

// PromptResult is one held-out prompt's measures over its EvalPerPrompt continuations. The
// goal is the task's: a gold score above 0 on TextPositive-v0 (the positive share), no e on
// TextNoE-v0 (free of e).
type PromptResult struct {
	Prompt          string  `json:"prompt"`
	GoalShareBefore float64 `json:"goal_share_before"`
	GoalShareAfter  float64 `json:"goal_share_after"`
	// KL is the mean KL of the tuned policy's continuations, in nats; absent for best-of-n.
	KL *float64 `json:"kl,omitempty"`
	// Miss is the first of the tuned continuations that misses the goal, if any.
	Miss string `json:"miss,omitempty"`
}

// Sample is a held-out prompt with a continuation of the reference and one of the tuned policy.
type Sample struct {
	Prompt string `json:"prompt"`
	Before string `json:"before"`
	After  string `json:"after"`
}

// Point is one PPO iteration: the means over its rollout.
type Point struct {
	Iter   int     `json:"iter"`
	Reward float64 `json:"reward"` // reward-model score
	Gold   float64 `json:"gold"`
	KL     float64 `json:"kl"`
	Beta   float64 `json:"beta"`
}

// Run runs the experiment on task t of world w from the reference model ref (which it does not
// change), logging progress lines to log (if non-nil).
func Run(cfg Config, w *text.World, t text.Task, ref *lm.Model, log func(string)) (*Report, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = func(string) {}
	}
	if ref.Config.Vocab != w.Tok.VocabSize() {
		return nil, fmt.Errorf("textrl: the model has %d tokens, the tokenizer %d", ref.Config.Vocab, w.Tok.VocabSize())
	}
	start := time.Now()
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x7465787472))
	L := t.Length
	gold := func(s string) float64 { return w.Score(t, s) }

	// Held-out prompts (every fourth) measure; the rest, with the training prompts if
	// cfg.TrainPrompts, are labelled and trained on.
	train, eval := splitPrompts(w, cfg.TrainPrompts)
	var val [][]int // prompts of the KL budget, neither trained on nor measured (cfg.ValKLBudget)
	if cfg.ValKLBudget > 0 {
		if train, val = valSplit(w, train, eval, cfg.TrainPrompts); len(val) == 0 {
			return nil, errors.New("textrl: the KL budget needs validation prompts: the world has no training prompts")
		}
	}
	if len(train) == 0 || len(eval) == 0 {
		return nil, errors.New("textrl: too few prompts for a held-out split")
	}
	log(fmt.Sprintf("%d prompts to label and train on, %d held-out prompts to measure", len(train), len(eval)))

	// 1. Labels: two continuations of one prompt per query, sampled from m, rated on the gold
	// score (text.Rate). The first round's come from the reference; PPO's later rounds from
	// its policy, so that the reward model learns where the policy goes (Ziegler et al. 2019,
	// §2: online data collection).
	feat := cfg.Features
	data := &reward.Dataset{}
	var pairs []dpo.Pair
	label := func(m *lm.Model, n int) error {
		qp := make([][]int, 0, 2*n)
		for range n {
			p := train[rng.IntN(len(train))]
			qp = append(qp, p, p)
		}
		qc, err := sample(m, rng, qp, L)
		if err != nil {
			return err
		}
		for k := range n {
			p, a, b := qp[2*k], qc[2*k], qc[2*k+1]
			c := text.Rate(rng, cfg.Rater, gold, w.Tok.Decode(a), w.Tok.Decode(b))
			if data.AddChoice(feat.Segment(p, a), feat.Segment(p, b), c) {
				mu, _ := c.Mu()
				pairs = append(pairs, dpo.Pair{Prompt: p, Left: a, Right: b, Mu: mu})
			}
		}
		return nil
	}
	rounds := 1
	switch cfg.Method {
	case PPO:
		rounds = min(cfg.Rounds, cfg.Labels/2, max(cfg.Iters, 1))
	case DPO:
		rounds = min(cfg.DPORounds, cfg.Labels/2)
	}
	roundLabels := func(r int) int { // the last round takes the remainder
		return cfg.Labels/rounds + min(1, r/max(rounds-1, 1))*(cfg.Labels%rounds)
	}
	if err := label(ref, cfg.Labels/rounds); err != nil {
		return nil, err
	}
	labelled := cfg.Labels / rounds

	// 2. The reward model: the text Bradley-Terry ensemble on the labels.
	var rm *reward.Model
	var fit reward.Stats
	refit := func() error {
		m, st, err := fitReward(cfg, data)
		if err != nil {
			return err
		}
		rm, fit = m, st
		log(fmt.Sprintf("%d labels (%d strict or tied), reward model: %d train, %d val, val accuracy %.3f",
			data.Len(), len(pairs), fit.Train, fit.Val, fit.ValAccuracy))
		return nil
	}
	if err := refit(); err != nil {
		return nil, err
	}
	rep := &Report{Env: t.Name, Method: cfg.Method, Seed: cfg.Seed, Noise: cfg.Rater.ErrorRate, N: cfg.N, TrainPrompts: len(train), EvalPrompts: len(eval), RewardModelEpochs: cfg.rewardConfig().Epochs}
	score := func(p, c []int) float64 { return rm.Return(feat.Segment(p, c)) }

	// 3. The reference, measured on held-out prompts.
	ep := make([][]int, 0, len(eval)*cfg.EvalPerPrompt)
	for _, p := range eval {
		for range cfg.EvalPerPrompt {
			ep = append(ep, p)
		}
	}
	// Measurement draws from its own stream, so every method and label budget of a seed is
	// measured on the same reference samples.
	mrng := rand.New(rand.NewPCG(cfg.Seed, 0x6d656173757265))
	before, err := sample(ref, mrng, ep, L)
	if err != nil {
		return nil, err
	}
	held := w.Tok.Encode(strings.Join(w.HeldOut, "\n") + "\n")
	nllBefore, err := lm.HeldOutLoss(ref, held)
	if err != nil {
		return nil, err
	}

	// 4. Tuning.
	var policy *lm.Model
	var after [][]int
	switch cfg.Method {
	case PPO:
		pc := cfg.PPO
		pc.Length, pc.Seed = L, cfg.Seed
		if cfg.PtxBestOf > 0 {
			pc.PtxTemp = 1 // the stream is the tempered reference's own samples
		}
		rep.Beta, rep.KLTarget, rep.Ptx = pc.Beta, pc.KLTarget, pc.PtxCoef
		rep.ExactKL, rep.DetachValue, rep.Group, rep.OutBias = pc.ExactKL, pc.DetachValue, pc.Group, pc.OutBias
		rep.EntCoef, rep.EntTarget = pc.EntCoef, pc.EntTarget
		if cfg.LogSigmoid {
			rep.LogSigmoid, rep.Margin = true, cfg.LogSigmoidMargin
		}
		var goldSum, refMean, refStd float64
		standardise := func() (err error) { // LogSigmoid's standardisation on the reference, per reward model
			if cfg.LogSigmoid {
				refMean, refStd, err = refStats(cfg.Seed, ref, train, L, score)
			}
			return err
		}
		if err := standardise(); err != nil {
			return nil, err
		}
		tr, err := lmppo.New(pc, ref, train, func(p, c []int) float64 {
			goldSum += gold(w.Tok.Decode(c))
			if cfg.LogSigmoid {
				return logSigmoid(score(p, c), refMean, refStd, cfg.LogSigmoidMargin)
			}
			return score(p, c)
		})
		if err != nil {
			return nil, err
		}
		if err := setPretrain(tr, w, pc.PtxCoef); err != nil {
			return nil, err
		}
		// With PtxBestOf, ptx reads best-of-n continuations under the reward model of the
		// moment instead, drawn from the reference on their own stream of randomness.
		brng := rand.New(rand.NewPCG(cfg.Seed, 0x7074786e))
		bestPtx := func() error {
			if cfg.PtxBestOf == 0 {
				return nil
			}
			s, err := bestStream(ref, brng, train, cfg.PtxDraws, cfg.PtxBestOf, L, score, w.Tok.Encode("\n"))
			if err != nil {
				return err
			}
			return tr.SetPretrain(s)
		}
		if err := bestPtx(); err != nil {
			return nil, err
		}
		rep.PtxBestOf = cfg.PtxBestOf
		if cfg.Dense {
			rep.Dense = true
			err := tr.SetTokenReward(func(p, c []int, out []float64) {
				goldSum += gold(w.Tok.Decode(c))
				seg := feat.Segment(p, c)
				rm.Rewards(seg.Obs, nil, nil, seg.Len, out)
			})
			if err != nil {
				return nil, err
			}
		}
		total := cfg.Iters + cfg.finalIters()
		avg := make([]float64, 0, len(tr.Policy.Params)) // the sum of the last AverageLast iterations' weights
		for i := range total {
			if r := i * rounds / cfg.Iters; i > 0 && i < cfg.Iters && r > (i-1)*rounds/cfg.Iters {
				n := roundLabels(r)
				if err := label(tr.Policy, n); err != nil {
					return nil, err
				}
				labelled += n
				if err := refit(); err != nil {
					return nil, err
				}
				if err := standardise(); err != nil {
					return nil, err
				}
				if err := bestPtx(); err != nil {
					return nil, err
				}
				if err := tr.Rewhiten(); err != nil {
					return nil, err
				}
			}
			goldSum = 0
			st, err := tr.Step()
			if err != nil {
				return nil, err
			}
			if i >= total-cfg.AverageLast {
				avg = addWeights(avg, tr.Policy.Params)
			}
			pt := Point{Iter: i + 1, Reward: st.Score, Gold: goldSum / float64(pc.Batch), KL: st.KL, Beta: st.Beta}
			if pc.EntTarget > 0 {
				rep.EntCoefFinal = st.EntCoef
			}
			rep.Curve = append(rep.Curve, pt)
			if (i+1)%10 == 0 || i+1 == total {
				ent := ""
				if pc.EntCoef > 0 {
					ent = fmt.Sprintf("  entropy %.3f", st.Entropy)
				}
				if pc.EntTarget > 0 {
					ent += fmt.Sprintf(" (bonus %.4f)", st.EntCoef)
				}
				log(fmt.Sprintf("ppo %3d/%d  reward %6.3f  gold %6.3f  kl %5.2f  beta %.3f  clip %.3f%s  %4.0fs",
					i+1, total, pt.Reward, pt.Gold, pt.KL, pt.Beta, st.ClipFrac, ent, time.Since(start).Seconds()))
			}
		}
		policy = tr.Policy
		if cfg.AverageLast > 0 {
			policy = tr.Policy.Clone()
			for k, v := range avg {
				policy.Params[k] = v / float64(cfg.AverageLast)
			}
			rep.AverageLast = cfg.AverageLast
		}
	case DPO:
		if len(pairs) == 0 {
			return nil, errors.New("textrl: no labelled pair to train DPO on")
		}
		rep.Beta, rep.DPORounds, rep.KLBudget, rep.DPONLL, rep.KLRamp, rep.Smoothing, rep.RoundRef = cfg.DPO.Beta, rounds, cfg.DPOKLBudget, cfg.DPO.NLL, cfg.DPOKLRamp, cfg.DPO.Smoothing, cfg.DPORoundRef
		rep.OutBias, rep.ExtrapolationKL = cfg.DPOOutBias, cfg.DPOExtrapolate
		if cfg.DPOExtrapolate > 0 {
			rep.ExtrapolationStep = cfg.DPOExtrapolateStep
		}
		if cfg.DPOJudge > 1 {
			rep.Judge, rep.JudgePrompts, rep.JudgeSoft = cfg.DPOJudge, cfg.DPOJudgePrompts, cfg.DPOJudgeSoft
		}
		if cfg.DPOReplicas > 1 {
			rep.Replicas = cfg.DPOReplicas
		}
		jrng := rand.New(rand.NewPCG(cfg.Seed, 0x6a75646765)) // the judged pairs' own stream: the labels' draws stay as they were
		var prefer func(p, a, b []int) float64                // the judged pairs' label (Config.DPOJudgeSoft; nil: 1)
		if cfg.DPOJudgeSoft {
			prefer = func(p, a, b []int) float64 {
				mu, _ := rm.Prefer(feat.Segment(p, a), feat.Segment(p, b))
				return mu
			}
		}
		from := 0
		roundPairs := func(m *lm.Model, r int) ([]dpo.Pair, error) {
			if r > 0 {
				n := roundLabels(r)
				if err := label(m, n); err != nil {
					return nil, err
				}
				labelled += n
				if err := refit(); err != nil {
					return nil, err
				}
			}
			round := slices.Clip(pairs[from:]) // judged pairs appended to it must not land in pairs' spare capacity
			from = len(pairs)
			if cfg.DPOJudge > 1 {
				judged, err := judgedPairs(m, jrng, train, cfg.DPOJudgePrompts, cfg.DPOJudge, L, score, prefer)
				if err != nil {
					return nil, err
				}
				sum := 0.0
				for _, p := range judged {
					sum += p.Mu
				}
				if len(judged) > 0 {
					n := rep.JudgedPairs + len(judged)
					rep.JudgedMu = (rep.JudgedMu*float64(rep.JudgedPairs) + sum) / float64(n)
					rep.JudgedPairs = n
				}
				round = append(round, judged...)
				log(fmt.Sprintf("dpo round %d: %d human pairs, %d pairs judged by the reward model, mean label %.3f", r+1, len(round)-len(judged), len(judged), sum/float64(max(len(judged), 1))))
			}
			return round, nil
		}
		check := func(pt Point, prompts, conts [][]int) { // the KL budget's checks, on training prompts, for the curve
			for i, c := range conts {
				pt.Gold += gold(w.Tok.Decode(c)) / float64(len(conts))
				pt.Reward += score(prompts[i], c) / float64(len(conts))
			}
			rep.Curve = append(rep.Curve, pt)
			log(fmt.Sprintf("dpo step %4d  kl on training prompts %5.2f  gold %6.3f  %4.0fs", pt.Iter, pt.KL, pt.Gold, time.Since(start).Seconds()))
		}
		if policy, rep.ExtrapolationEta, err = dpoRounds(cfg, ref, train, L, rounds, roundPairs,
			func(s string) { log(fmt.Sprintf("%s  %4.0fs", s, time.Since(start).Seconds())) }, check); err != nil {
			return nil, err
		}
	case BoN:
		rep.KL = bestofn.KL(cfg.N)
		many := make([][]int, 0, len(ep)*cfg.N)
		for _, p := range ep {
			for range cfg.N {
				many = append(many, p)
			}
		}
		cands, err := sample(ref, mrng, many, L)
		if err != nil {
			return nil, err
		}
		after = bestOf(many, cands, cfg.N, score)
	}

	if policy != nil && cfg.ValKLBudget > 0 {
		l := line{step: budgetStep, min: 0, max: 1}
		if cfg.ValExtrapolate {
			l.max = expoMax
		}
		var r budgetResult
		if policy, r, err = withinBudget(ref, policy, newValCheck(ref, val, cfg.ValKLSamples, L, cfg.Seed), cfg.ValKLBudget, l,
			func(s string) { log(fmt.Sprintf("%s  %4.0fs", s, time.Since(start).Seconds())) }); err != nil {
			return nil, err
		}
		rep.ValKLBudget, rep.ValPrompts, rep.ValEta, rep.ValKLTuned, rep.ValKL = cfg.ValKLBudget, len(val), r.Eta, r.KLTuned, r.KL
	}

	rep.LabelsUsed = labelled
	if !math.IsNaN(fit.ValAccuracy) {
		a := fit.ValAccuracy
		rep.RewardModelValAccuracy = &a
	}

	// 5. The tuned policy, measured on the same held-out prompts.
	rep.HeldOutNLLBefore, rep.HeldOutNLLAfter = nllBefore, nllBefore
	var kls []float64 // each tuned continuation's KL; none for best-of-n
	if policy != nil {
		rep.Policy = policy
		if after, err = sample(policy, mrng, ep, L); err != nil {
			return nil, err
		}
		if kls, err = seqKL(policy, ref, ep, after); err != nil {
			return nil, err
		}
		rep.KL = meanOf(kls)
		ci := meanCI(cfg.Seed, kls, cfg.EvalPerPrompt)
		rep.KLCI = &ci
		if rep.HeldOutNLLAfter, err = lm.HeldOutLoss(policy, held); err != nil {
			return nil, err
		}
	}
	measure := func(conts [][]int) (text.Measures, float64, []string) {
		s := make([]string, len(conts))
		r := 0.0
		for i, c := range conts {
			s[i] = w.Tok.Decode(c)
			r += score(ep[i], c) / float64(len(conts))
		}
		return measureTexts(w, t, s, cfg.EvalPerPrompt), r, s
	}
	mb, rb, textsBefore := measure(before)
	ma, ra, texts := measure(after)
	rep.EvalPerPrompt = cfg.EvalPerPrompt
	rep.PositiveShareCI = shareCI(cfg.Seed, texts, cfg.EvalPerPrompt, func(s string) bool { return gold(s) > 0 })
	rep.FreeOfECI = shareCI(cfg.Seed, texts, cfg.EvalPerPrompt, func(s string) bool { return text.NoEScore(s) == 0 })
	rep.GoldBefore, rep.GoldAfter = mb.Gold, ma.Gold
	rep.PositiveShareBefore, rep.PositiveShareAfter = mb.PositiveShare, ma.PositiveShare
	rep.FreeOfEBefore, rep.FreeOfEAfter = mb.FreeOfE, ma.FreeOfE
	rep.Distinct2Before, rep.Distinct2After = mb.Distinct2, ma.Distinct2
	rep.ValidWordShareBefore, rep.ValidWordShareAfter = mb.ValidWordShare, ma.ValidWordShare
	rep.RewardBefore, rep.RewardAfter = rb, ra
	for i := range min(cfg.Samples, len(eval)) {
		k := i * cfg.EvalPerPrompt
		rep.Samples = append(rep.Samples, Sample{Prompt: w.Tok.Decode(ep[k]), Before: w.Tok.Decode(before[k]), After: w.Tok.Decode(after[k])})
	}
	rep.Prompts = promptResults(w.Tok, eval, textsBefore, texts, kls, cfg.EvalPerPrompt, func(s string) bool { return goal(t, gold(s)) })
	if policy != nil {
		for i, eta := range cfg.Interpolate {
			p := interpolate(ref, policy, eta)
			conts, err := sample(p, rand.New(rand.NewPCG(cfg.Seed, 0x6c697469+uint64(i))), ep, L)
			if err != nil {
				return nil, err
			}
			in := Interpolation{Eta: eta}
			if in.KL, err = meanKL(p, ref, ep, conts); err != nil {
				return nil, err
			}
			if in.HeldOutNLL, err = lm.HeldOutLoss(p, held); err != nil {
				return nil, err
			}
			in.Measures, in.Reward, _ = measure(conts)
			rep.Interpolations = append(rep.Interpolations, in)
			log(fmt.Sprintf("η %.2f: positive share %.3f, gold %.3f, KL %.2f nats, held-out NLL %.3f, distinct-2 %.3f, valid words %.3f",
				eta, in.PositiveShare, in.Gold, in.KL, in.HeldOutNLL, in.Distinct2, in.ValidWordShare))
		}
	}
	rep.WallSeconds = time.Since(start).Seconds()
	return rep, nil
}

// Interpolation is a policy on the line through weight space from the reference to the tuned
// policy (Config.Interpolate), measured on the held-out prompts.
type Interpolation struct {
	Eta float64 `json:"eta"` // θ_ref + η·(θ − θ_ref)
	text.Measures
	Reward     float64 `json:"reward"`      // mean reward-model score
	KL         float64 `json:"kl"`          // mean summed KL from the reference, nats
	HeldOutNLL float64 `json:"heldout_nll"` // per-token NLL on held-out corpus text
}

// interpolate returns a copy of ref with weights θ_ref + η·(θ − θ_ref), θ being policy's.
func interpolate(ref, policy *lm.Model, eta float64) *lm.Model {
	var p *lm.Model
	if policy.Config.OutBias {
		p = ref.WithOutputBias()
	} else {
		p = ref.Clone()
	}
	for k, v := range policy.Params {
		p.Params[k] += eta * (v - p.Params[k])
	}
	return p
}

// addWeights adds w to sum element by element, starting sum at w when it is empty.
func addWeights(sum, w []float64) []float64 {
	if len(sum) == 0 {
		return append(sum, w...)
	}
	for k, v := range w {
		sum[k] += v
	}
	return sum
}
