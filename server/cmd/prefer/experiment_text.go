package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/prefer-rlhf/prefer/core/lm"
	"github.com/prefer-rlhf/prefer/core/text"
	"github.com/prefer-rlhf/prefer/core/textrl"
	"github.com/prefer-rlhf/prefer/server/corpus"
	"github.com/prefer-rlhf/prefer/server/langmodel"
)

// isTextEnv reports whether args name a text task with --env, which `prefer experiment` hands
// to runTextExperiment.
func isTextEnv(args []string) bool {
	_, ok := text.TaskOf(envArg(args))
	return ok
}

// envArg is the value of the first --env flag in args ("" if none), read before the flags are
// parsed: the text experiment's flag defaults depend on the task (textrl.ForTask).
func envArg(args []string) string {
	for i, a := range args {
		for _, p := range []string{"--env=", "-env="} {
			if len(a) > len(p) && a[:len(p)] == p {
				return a[len(p):]
			}
		}
		if (a == "--env" || a == "-env") && i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}

// runTextExperiment is `prefer experiment --env TextPositive-v0 ...`: core/textrl on the
// default corpus and language model (server/langmodel, pretrained on first use).
func runTextExperiment(args []string, stdout, stderr io.Writer) int {
	d := textrl.ForTask(langmodel.TextLoop(), envArg(args))
	fs := flag.NewFlagSet("experiment", flag.ContinueOnError)
	fs.SetOutput(stderr)
	envName := fs.String("env", "TextPositive-v0", "text task")
	method := fs.String("method", d.Method, "ppo (reward model + PPO with a KL penalty), dpo or bon (best-of-n under the reward model)")
	labels := fs.Int("labels", d.Labels, "comparisons asked of the synthetic rater")
	seed := fs.Uint64("seed", 1, "random seed")
	noise := fs.Float64("noise", 0, "rater error rate: chance of a random left/right answer, in [0, 1]")
	temp := fs.Float64("temperature", 0, "rater Boltzmann temperature (0: always the better continuation)")
	beta := fs.Float64("beta", -1, fmt.Sprintf("PPO's starting KL coefficient (default %g) or DPO's β (default %g)", d.PPO.Beta, d.DPO.Beta))
	klTarget := fs.Float64("kl-target", d.PPO.KLTarget, "PPO: target KL per continuation in nats that β adapts toward; 0 keeps β fixed")
	klRate := fs.Float64("kl-rate", d.PPO.KLRate, "PPO: K_β, how fast β adapts toward --kl-target")
	ptxBest := fs.Int("ptx-best-of", 0, "PPO: PPO-ptx reads best-of-N continuations of the training prompts under the reward model, drawn from the reference at every refit, instead of the corpus's training sentences (0: the sentences)")
	ptxDraws := fs.Int("ptx-draws", d.PtxDraws, "--ptx-best-of: best-of-N continuations per training prompt in the stream")
	ptx := fs.Float64("ptx", d.PPO.PtxCoef, "PPO: γ of PPO-ptx (Ouyang et al. 2022), the weight of the next-token loss on the corpus's training sentences in each update; 0 turns it off")
	iters := fs.Int("iters", d.Iters, "PPO iterations")
	rounds := fs.Int("rounds", d.Rounds, "PPO: labelling rounds; rounds after the first label the policy's samples and refit the reward model")
	final := fs.Float64("final-share", d.FinalShare, "PPO: iterations after --iters on the final reward model, as a share of --iters")
	lr := fs.Float64("lr", 0, "step size of PPO or DPO (0: the method's default)")
	epochs := fs.Int("epochs", d.DPOEpochs, "DPO epochs over the comparisons")
	dpoRounds := fs.Int("dpo-rounds", d.DPORounds, "DPO: labelling rounds; rounds after the first label pairs of the DPO policy's own continuations and train on them, the reference staying the KL anchor (iterative/online DPO)")
	dpoBudget := fs.Float64("dpo-kl-budget", d.DPOKLBudget, "DPO: stop training at this KL in nats per continuation, measured on training prompts, back to the last check within it; 0 turns it off")
	dpoKLSamples := fs.Int("dpo-kl-samples", d.DPOKLSamples, "DPO with --dpo-kl-budget: continuations of training prompts each KL check measures")
	dpoRamp := fs.Bool("dpo-kl-ramp", d.DPOKLRamp, "DPO with --dpo-kl-budget and --dpo-rounds R: round r (from 0) stops at budget·(r+1)/R, so every round's labels move the policy")
	dpoRoundRef := fs.Bool("dpo-round-ref", d.DPORoundRef, "DPO with --dpo-rounds: each round's loss anchors on the policy as the round found it, not the reference (the KL budget stays the reference's)")
	dpoNLL := fs.Float64("dpo-nll", d.DPO.NLL, "DPO: α of RPO (Pang et al. 2024), the weight of the winner's per-token negative log-likelihood added to each pair's loss; 0 is DPO")
	dpoSmooth := fs.Float64("dpo-smoothing", d.DPO.Smoothing, "DPO: ε of conservative DPO (Mitchell 2023), each label taken as flipped with probability ε; 0 is DPO")
	dpoJudge := fs.Int("dpo-judge", d.DPOJudge, "DPO: each round also samples K continuations of --dpo-judge-prompts training prompts from the policy and trains on each prompt's best against its worst under the reward model (online DPO with the reward model as the oracle; asks no label); 0 turns it off")
	dpoJudgePrompts := fs.Int("dpo-judge-prompts", d.DPOJudgePrompts, "DPO with --dpo-judge: training prompts judged per round")
	dpoJudgeSoft := fs.Bool("dpo-judge-soft", d.DPOJudgeSoft, "DPO with --dpo-judge: label each judged pair with the reward model's probability that its best beats its worst instead of 1 (distilling the reward model into DPO)")
	dpoExtra := fs.Float64("dpo-extrapolate", d.DPOExtrapolate, "DPO: after training, move the weights past the DPO policy along the line from the reference, θ_ref + η·(θ − θ_ref) with η in steps of --dpo-extrapolate-step, to the largest η whose KL on --dpo-kl-samples continuations of training prompts is within this many nats (ExPO, Zheng et al. 2024); 0 turns it off")
	dpoExtraStep := fs.Float64("dpo-extrapolate-step", d.DPOExtrapolateStep, "DPO with --dpo-extrapolate: the step of η, in (0, 1]")
	dpoReplicas := fs.Int("dpo-replicas", d.DPOReplicas, "DPO: train this many replicas on each round's pairs in their own orders and merge them, the mean of their weights (WARP); 0 or 1: one policy")
	valBudget := fs.Float64("val-kl-budget", d.ValKLBudget, "PPO, DPO: after training, move the weights along the line from the reference, θ_ref + η·(θ − θ_ref) with η in steps of 0.01, to where their KL on --val-kl-samples continuations of validation prompts (the corpus's training sentences' prompts, neither trained on nor measured) is within this many nats: back from a policy over it to the first η within, or with --val-extrapolate on past one within it to the last η within; 0 turns it off")
	valSamples := fs.Int("val-kl-samples", d.ValKLSamples, "with --val-kl-budget: validation continuations the KL is measured on")
	valExtra := fs.Bool("val-extrapolate", d.ValExtrapolate, "with --val-kl-budget: a policy within the budget moves on past itself (η > 1, ExPO) to the last η within it")
	n := fs.Int("n", d.N, "best-of-n's n")
	dim := fs.Int("features", d.Features.Dim, "hash buckets of the reward model's token and bigram features")
	rmEpochs := fs.Int("rm-epochs", d.RewardEpochs, "passes over each reward model member's bootstrap resample in a fit; 0 keeps the browser's 10")
	logSig := fs.Bool("log-sigmoid", d.LogSigmoid, "PPO: maximise log σ(z − margin) of the reward model's score z standardised on the reference (Wang et al. 2024; the hub's objective) instead of the score")
	margin := fs.Float64("margin", d.LogSigmoidMargin, "PPO with --log-sigmoid: the margin in the reference's standard deviations")
	dense := fs.Bool("dense", d.Dense, "PPO: the reward model's reward at each token instead of its sum at the end (needs --log-sigmoid=false)")
	exactKL := fs.Bool("exact-kl", d.PPO.ExactKL, "PPO: compute the KL penalty exactly over the vocabulary at every state (lower variance, same objective) instead of from the sampled token")
	entCoef := fs.Float64("ent-coef", d.PPO.EntCoef, "PPO: entropy bonus, this times each state's entropy over the vocabulary in the reward's units (as β); 0 turns it off")
	entTarget := fs.Float64("ent-target", d.PPO.EntTarget, "PPO with --ent-coef: raise the entropy bonus from --ent-coef while the policy's mean entropy per state is under this many nats, back to it over them; 0 keeps the bonus fixed")
	entRate := fs.Float64("ent-rate", d.PPO.EntRate, "PPO with --ent-target: how fast the bonus adapts (as --kl-rate is β's)")
	detachValue := fs.Bool("detach-value", d.PPO.DetachValue, "PPO: the value loss trains the value head alone, not the trunk it shares with the policy")
	group := fs.Int("group", d.PPO.Group, "PPO: continuations per prompt in a rollout with a leave-one-out baseline (RLOO) instead of the value head; 0 or 1 keeps the value head")
	average := fs.Int("average", d.AverageLast, "PPO: the result is the mean of the policy's weights over its last N iterations (tail averaging); 0 turns it off")
	interp := fs.String("interpolate", "", "PPO, DPO: also measure the weights θ_ref + η·(θ − θ_ref) for each η of this comma-separated list (e.g. 0.5,0.75; WiSE-FT, WARP's LITI)")
	outBias := fs.Bool("out-bias", d.PPO.OutBias, "PPO (on by default), DPO (off unless given): give the policy an output bias per token, starting at zero")
	biasLR := fs.Float64("bias-lr", d.PPO.BiasLR, "--out-bias: Adam step size of the output bias (DPO: the policy's step size unless given)")
	batch := fs.Int("batch", d.PPO.Batch, "PPO: continuations per rollout")
	minibatch := fs.Int("minibatch", d.PPO.Minibatch, "PPO: continuations per gradient step")
	trainPrompts := fs.Bool("train-prompts", d.TrainPrompts, "label and train on prompts from the corpus's training sentences too, beside three quarters of the held-out ones (the other quarter still measures)")
	evalPer := fs.Int("eval-per-prompt", d.EvalPerPrompt, "continuations of each held-out prompt that measure the reference and the tuned policy")
	frontier := fs.Bool("frontier", false, "run ppo, dpo and bon at several KL budgets and draw gold against KL on one chart")
	out := fs.String("out", "", "report file prefix: writes PREFIX.json and PREFIX.svg (default experiment-ENV-METHOD-SEED)")
	asJSON := fs.Bool("json", false, "end with the JSON report on stdout")
	policyOut := fs.String("policy-out", "", "write the tuned policy to this model file, as `prefer lm pretrain` writes one (`prefer lm sample --model FILE` continues text with it); not with bon or --frontier")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "prefer experiment: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	task, ok := text.TaskOf(*envName)
	if !ok {
		fmt.Fprintf(stderr, "prefer experiment: --env: %q is not a text task\n", *envName)
		return 2
	}
	cfg := d
	cfg.Method, cfg.Labels, cfg.Seed, cfg.Iters, cfg.Rounds, cfg.N, cfg.DPOEpochs = *method, *labels, *seed, *iters, *rounds, *n, *epochs
	cfg.Rater.ErrorRate, cfg.Rater.Temperature = *noise, *temp
	cfg.FinalShare = *final
	cfg.DPORounds, cfg.DPOKLBudget, cfg.DPOKLSamples, cfg.DPOKLRamp, cfg.DPORoundRef, cfg.DPO.NLL, cfg.DPO.Smoothing = *dpoRounds, *dpoBudget, *dpoKLSamples, *dpoRamp, *dpoRoundRef, *dpoNLL, *dpoSmooth
	cfg.Features.Dim, cfg.RewardEpochs = *dim, *rmEpochs
	cfg.PPO.KLTarget, cfg.PPO.KLRate, cfg.PPO.PtxCoef = *klTarget, *klRate, *ptx
	cfg.LogSigmoid, cfg.LogSigmoidMargin = *logSig, *margin
	cfg.TrainPrompts, cfg.Dense = *trainPrompts, *dense
	cfg.PPO.ExactKL, cfg.PPO.DetachValue, cfg.PPO.Group, cfg.PPO.EntCoef = *exactKL, *detachValue, *group, *entCoef
	cfg.AverageLast, cfg.PPO.OutBias, cfg.PPO.BiasLR = *average, *outBias, *biasLR
	cfg.PPO.Batch, cfg.PPO.Minibatch = *batch, *minibatch
	cfg.PPO.EntTarget, cfg.PPO.EntRate = *entTarget, *entRate
	cfg.EvalPerPrompt = *evalPer
	cfg.PtxBestOf, cfg.PtxDraws = *ptxBest, *ptxDraws
	cfg.DPOJudge, cfg.DPOJudgePrompts, cfg.DPOJudgeSoft = *dpoJudge, *dpoJudgePrompts, *dpoJudgeSoft
	cfg.DPOExtrapolate, cfg.DPOExtrapolateStep = *dpoExtra, *dpoExtraStep
	cfg.DPOReplicas = *dpoReplicas
	cfg.ValKLBudget, cfg.ValKLSamples, cfg.ValExtrapolate = *valBudget, *valSamples, *valExtra
	fs.Visit(func(f *flag.Flag) { // DPO's output bias only when asked for: PPO's default is not DPO's
		switch f.Name {
		case "out-bias":
			cfg.DPOOutBias = *outBias
		case "bias-lr":
			cfg.DPOBiasLR = *biasLR
		}
	})
	if *interp != "" {
		for _, f := range strings.Split(*interp, ",") {
			eta, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
			if err != nil {
				fmt.Fprintf(stderr, "prefer experiment: --interpolate: %q is not a number\n", f)
				return 2
			}
			cfg.Interpolate = append(cfg.Interpolate, eta)
		}
	}
	if *beta >= 0 {
		cfg.PPO.Beta, cfg.DPO.Beta = *beta, *beta
	}
	if *lr > 0 {
		cfg.PPO.LR, cfg.DPOLR = *lr, *lr
	}
	if err := cfg.Validate(); err != nil {
		fmt.Fprintf(stderr, "prefer experiment: %v\n", err)
		return 2
	}
	if *policyOut != "" && (*frontier || cfg.Method == textrl.BoN) {
		fmt.Fprintln(stderr, "prefer experiment: --policy-out: best-of-n and --frontier tune no single policy to write")
		return 2
	}
	if *out == "" {
		*out = outName("experiment", *envName, *method, strconv.FormatUint(*seed, 10))
		if *frontier {
			*out = outName("frontier", *envName, strconv.FormatUint(*seed, 10))
		}
	}

	w := text.Installed()
	if w == nil {
		var err error
		if w, err = corpus.Register(""); err != nil {
			fmt.Fprintf(stderr, "prefer experiment: %v\n", err)
			return 1
		}
	}
	ref, tok, err := langmodel.DefaultModel("", stderr)
	if err != nil {
		fmt.Fprintf(stderr, "prefer experiment: %v\n", err)
		return 1
	}
	if tok.VocabSize() != w.Tok.VocabSize() {
		fmt.Fprintf(stderr, "prefer experiment: the default model's tokenizer has %d tokens, the corpus's %d\n", tok.VocabSize(), w.Tok.VocabSize())
		return 1
	}
	// Valid words are words the reference was taught: the broad pretraining text's too.
	if w, err = langmodel.DefaultWorld(w, ""); err != nil {
		fmt.Fprintf(stderr, "prefer experiment: %v\n", err)
		return 1
	}
	log := func(s string) { fmt.Fprintln(stderr, s) }

	var result any
	var svg []byte
	var policy *lm.Model // the tuned policy, for --policy-out
	if *frontier {
		runs, err := textrl.Sweep(cfg, w, task, ref, log)
		if err != nil {
			fmt.Fprintf(stderr, "prefer experiment: %v\n", err)
			return 1
		}
		result, svg = map[string]any{"env": task.Name, "seed": cfg.Seed, "runs": runs}, textrl.Frontier(task.Name, runs).SVG()
	} else {
		fmt.Fprintf(stderr, "experiment %s seed %d: %s, %d labels (noise %g)\n", task.Name, cfg.Seed, cfg.Method, cfg.Labels, cfg.Rater.ErrorRate)
		rep, err := textrl.Run(cfg, w, task, ref, log)
		if err != nil {
			fmt.Fprintf(stderr, "prefer experiment: %v\n", err)
			return 1
		}
		klCI := ""
		if rep.KLCI != nil {
			klCI = fmt.Sprintf(" (%.2f-%.2f)", rep.KLCI[0], rep.KLCI[1])
		}
		fmt.Fprintf(stderr, "positive share %.3f -> %.3f (95%% CI over prompts %.3f-%.3f), free of e %.3f -> %.3f (%.3f-%.3f), gold %.3f -> %.3f, KL %.2f nats%s, held-out NLL %.3f -> %.3f, distinct-2 %.3f -> %.3f, valid words %.3f -> %.3f, %.0f s\n",
			rep.PositiveShareBefore, rep.PositiveShareAfter, rep.PositiveShareCI[0], rep.PositiveShareCI[1],
			rep.FreeOfEBefore, rep.FreeOfEAfter, rep.FreeOfECI[0], rep.FreeOfECI[1], rep.GoldBefore, rep.GoldAfter, rep.KL, klCI, rep.HeldOutNLLBefore, rep.HeldOutNLLAfter,
			rep.Distinct2Before, rep.Distinct2After, rep.ValidWordShareBefore, rep.ValidWordShareAfter, rep.WallSeconds)
		result, svg = rep, rep.Chart().SVG()
		policy = rep.Policy
	}
	report, _ := json.MarshalIndent(result, "", "  ")
	if err := os.WriteFile(*out+".json", append(report, '\n'), 0o644); err != nil {
		fmt.Fprintf(stderr, "prefer experiment: %v\n", err)
		return 1
	}
	if err := os.WriteFile(*out+".svg", svg, 0o644); err != nil {
		fmt.Fprintf(stderr, "prefer experiment: %v\n", err)
		return 1
	}
	fmt.Fprintf(stderr, "wrote %s.json and %s.svg\n", *out, *out)
	if *policyOut != "" { // after the report, so that a bad path costs the policy file, not the run
		b, _ := policy.MarshalBinary()
		if err := os.WriteFile(*policyOut, b, 0o644); err != nil {
			fmt.Fprintf(stderr, "prefer experiment: %v\n", err)
			return 1
		}
		fmt.Fprintf(stderr, "wrote the tuned policy to %s\n", *policyOut)
	}
	if *asJSON {
		b, _ := json.Marshal(result)
		fmt.Fprintln(stdout, string(b))
	}
	return 0
}
