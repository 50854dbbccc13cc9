// Package dpo is Direct Preference Optimisation (Rafailov et al. 2023): it fits a policy to
// comparisons directly, with no reward model and no sampling, by the Bradley-Terry loss on the
// implicit reward β·log(π(y|x)/π_ref(y|x)). It works on any policy that can score a sequence's
// log-probability and backpropagate a weight on it (Model); core/lm's language model is one.
package dpo

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
)

// Model is a policy being trained: sequences are a prompt and a continuation of token ids.
type Model interface {
	// LogProb returns log π(cont | prompt), summed over the continuation's tokens.
	LogProb(prompt, cont []int) float64
	// Backward adds weight × ∇θ log π(cont | prompt) to the model's accumulated gradient.
	Backward(prompt, cont []int, weight float64)
}

// Scorer is a frozen reference policy: only its log-probabilities are needed.
type Scorer interface {
	LogProb(prompt, cont []int) float64
}

// Pair is one labelled comparison of two continuations of one prompt: Mu is the probability
// that Left is the better, 1, 0 or ½ for "equally good" (prefs.Choice.Mu).
type Pair struct {
	Prompt, Left, Right []int
	Mu                  float64
}

// Config holds DPO's hyperparameters. Start from Defaults.
type Config struct {
	// Beta is β, the strength of the implicit KL constraint to the reference: the optimum is
	// π ∝ π_ref·exp(r/β) (Rafailov et al. 2023, eq. 4). 0.1 is the paper's usual value.
	Beta float64
	// Batch is the number of pairs per gradient step.
	Batch int
	// NLL is α of RPO (Pang et al. 2024, "Iterative Reasoning Preference Optimization",
	// eq. 1): the loss of each pair with a winner adds α times the winner's negative
	// log-likelihood per token, −α·log π(y_w|x)/|y_w|. Plain DPO lowers the chosen and the
	// rejected continuation's likelihood alike and moves the mass to sequences no label
	// names; the term holds it on the chosen ones, which are the policy's own samples. Ties
	// add nothing. 0 is DPO.
	NLL float64
	// Smoothing is ε of conservative DPO (Mitchell 2023, "A note on DPO with noisy
	// preferences"): each label is taken as flipped with probability ε, μ → ε + (1−2ε)μ, so a
	// strict label asks for an implicit-reward margin of log((1−ε)/ε), not an unbounded one
	// (noiseless labels otherwise have no finite optimum). Ties stay ½. 0 is DPO.
	Smoothing float64
	// Seed fixes the order of pairs in each epoch.
	Seed uint64
}

// Defaults returns β = 0.1 and batches of 32 pairs.
func Defaults() Config { return Config{Beta: 0.1, Batch: 32, Seed: 1} }

// Loss is the DPO loss of one pair (Rafailov et al. 2023, eq. 7, with a soft label μ for ties)
// from the policy's and the reference's log-probabilities of the left and right continuation:
// with z = β[(log π(l) − log π_ref(l)) − (log π(r) − log π_ref(r))], loss = −μ·log σ(z) −
// (1−μ)·log σ(−z). gLeft and gRight are its derivatives with respect to log π(l) and log π(r):
// β(σ(z)−μ) and −β(σ(z)−μ).
func Loss(beta, mu, piLeft, refLeft, piRight, refRight float64) (loss, gLeft, gRight float64) {
	z := beta * ((piLeft - refLeft) - (piRight - refRight))
	loss = mu*softplus(-z) + (1-mu)*softplus(z)
	d := sigmoid(z) - mu
	return loss, beta * d, -beta * d
}

// Stats summarise one pass over the pairs.
type Stats struct {
	Loss     float64 // mean DPO loss
	Accuracy float64 // share of strict pairs whose implicit reward ranks the preferred one higher
	Margin   float64 // mean implicit-reward margin β·Δ, preferred minus other, on strict pairs
}

// Trainer runs DPO over a fixed set of pairs, with the reference's log-probabilities computed
// once.
type Trainer struct {
	cfg        Config
	model      Model
	pairs      []Pair
	refL, refR []float64
	rng        *rand.Rand
}

// New checks cfg and the pairs and scores every pair under the reference.
func New(cfg Config, model Model, ref Scorer, pairs []Pair) (*Trainer, error) {
	switch {
	case !(cfg.Beta > 0) || math.IsInf(cfg.Beta, 0):
		return nil, fmt.Errorf("dpo: beta must be positive and finite, got %v", cfg.Beta)
	case cfg.Batch < 1:
		return nil, fmt.Errorf("dpo: batch must be at least 1, got %d", cfg.Batch)
	case !(cfg.Smoothing >= 0 && cfg.Smoothing < 0.5):
		return nil, fmt.Errorf("dpo: label smoothing must be in [0, 0.5), got %v", cfg.Smoothing)
	case !(cfg.NLL >= 0) || math.IsInf(cfg.NLL, 1):
		return nil, fmt.Errorf("dpo: NLL weight must be non-negative and finite, got %v", cfg.NLL)
	case len(pairs) == 0:
		return nil, errors.New("dpo: no pairs")
	}
	t := &Trainer{cfg: cfg, model: model, pairs: pairs, refL: make([]float64, len(pairs)), refR: make([]float64, len(pairs)),
		rng: rand.New(rand.NewPCG(cfg.Seed, 0xd90))}
	for i, p := range pairs {
		if !(p.Mu >= 0 && p.Mu <= 1) {
			return nil, fmt.Errorf("dpo: pair %d has mu %v outside [0, 1]", i, p.Mu)
		}
		if len(p.Left) == 0 || len(p.Right) == 0 {
			return nil, fmt.Errorf("dpo: pair %d has an empty continuation", i)
		}
		t.refL[i] = ref.LogProb(p.Prompt, p.Left)
		t.refR[i] = ref.LogProb(p.Prompt, p.Right)
	}
	return t, nil
}

// Epoch makes one pass over the pairs in a fresh random order, in minibatches of cfg.Batch:
// for each it accumulates the mean loss's gradient through Model.Backward and then calls step,
// which applies the optimiser and clears the gradient. The stats are of the policy as it was
// when each pair was visited.
func (t *Trainer) Epoch(step func()) Stats {
	return t.EpochUntil(func() bool { step(); return false })
}

// EpochUntil is Epoch with a step that may end the pass early: when step returns true no
// further minibatch is visited, as an early stop at a KL budget needs (core/textrl). The
// stats are of the pairs visited.
func (t *Trainer) EpochUntil(step func() (stop bool)) Stats {
	order := t.rng.Perm(len(t.pairs))
	var st Stats
	strict, visited := 0, 0
	for b := 0; b < len(order); b += t.cfg.Batch {
		batch := order[b:min(b+t.cfg.Batch, len(order))]
		w := 1 / float64(len(batch))
		for _, i := range batch {
			p := t.pairs[i]
			pl, pr := t.model.LogProb(p.Prompt, p.Left), t.model.LogProb(p.Prompt, p.Right)
			loss, gl, gr := Loss(t.cfg.Beta, t.cfg.Smoothing+(1-2*t.cfg.Smoothing)*p.Mu, pl, t.refL[i], pr, t.refR[i])
			if t.cfg.NLL > 0 && p.Mu != 0.5 {
				loss += t.nll(p, pl, pr, &gl, &gr)
			}
			st.Loss += loss
			t.model.Backward(p.Prompt, p.Left, w*gl)
			t.model.Backward(p.Prompt, p.Right, w*gr)
			if p.Mu != 0.5 {
				m := t.cfg.Beta * ((pl - t.refL[i]) - (pr - t.refR[i]))
				if p.Mu < 0.5 {
					m = -m
				}
				strict++
				st.Margin += m
				if m > 0 {
					st.Accuracy++
				}
			}
		}
		visited += len(batch)
		if step() {
			break
		}
	}
	st.Loss /= float64(visited)
	if strict > 0 {
		st.Accuracy /= float64(strict)
		st.Margin /= float64(strict)
	}
	return st
}

// nll is RPO's term of a pair with a winner (Config.NLL): it returns −α·log π(y_w)/|y_w|
// and adds its derivative, −α/|y_w|, to the winner's gradient weight (gl for Left, gr for
// Right).
func (t *Trainer) nll(p Pair, pl, pr float64, gl, gr *float64) float64 {
	if p.Mu > 0.5 {
		*gl -= t.cfg.NLL / float64(len(p.Left))
		return -t.cfg.NLL * pl / float64(len(p.Left))
	}
	*gr -= t.cfg.NLL / float64(len(p.Right))
	return -t.cfg.NLL * pr / float64(len(p.Right))
}

// ImplicitReward is DPO's reward of a continuation: β·(log π − log π_ref), defined up to a
// function of the prompt (Rafailov et al. 2023, eq. 5).
func ImplicitReward(beta, logPi, logRef float64) float64 { return beta * (logPi - logRef) }

func sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

// softplus is log(1 + eˣ), stable for large |x|.
func softplus(x float64) float64 {
	if x > 0 {
		return x + math.Log1p(math.Exp(-x))
	}
	return math.Log1p(math.Exp(x))
}
