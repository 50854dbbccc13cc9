package redteam

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"

	"github.com/prefer-rlhf/prefer/core/env"
	"github.com/prefer-rlhf/prefer/core/prefs"
)

// Policy picks an action for an observation; nil in Problem means uniformly random actions.
type Policy func(obs []float64, rng *rand.Rand) []float64

// Problem is what the adversary attacks: clips of Env scored by Score, compared with clips of
// Policy.
type Problem struct {
	Env    string
	Score  Scorer
	Policy Policy
}

// Scored is a clip with its learned and true returns.
type Scored struct {
	Clip  prefs.Clip `json:"clip"`
	RHat  float64    `json:"rhat"`
	Truth float64    `json:"true"`
}

// Pair is a failing clip against an ordinary reference clip: the model prefers the failure,
// the true reward the ordinary clip.
type Pair struct {
	Failing  Scored `json:"failing"`
	Ordinary Scored `json:"ordinary"`
}

// Result is what a search found.
type Result struct {
	Pairs     []Pair  `json:"pairs"`
	Effort    int     `json:"effort"`    // env steps to the first failure; -1 when none was found
	Steps     int     `json:"steps"`     // env steps simulated by the search in all
	RHatBar   float64 `json:"rhat_bar"`  // the Percentile quantile of the references' r̂
	Threshold float64 `json:"threshold"` // the task's failure threshold on a clip's true return
	RefSteps  int     `json:"ref_steps"` // env steps of the reference clips (not in Effort)
}

// Search runs the cross-entropy method over start states and action sequences for clips with
// r̂ above the references' Percentile quantile and a true return below Threshold(Env). The
// first generation is the reference clips themselves, so with a policy the search starts from
// its actions. It is deterministic for a seed.
func Search(p Problem, cfg Config, seed uint64) (Result, error) {
	if p.Score == nil {
		return Result{}, errors.New("redteam: Problem.Score is nil")
	}
	if cfg.Steps <= 0 || cfg.Refs <= 1 || cfg.Pop <= 0 || cfg.Elite <= 0 || cfg.Elite > cfg.Pop ||
		cfg.Budget < 0 || cfg.Percentile <= 0 || cfg.Percentile >= 1 {
		return Result{}, fmt.Errorf("redteam: bad config %+v", cfg)
	}
	thr, err := Threshold(p.Env, cfg.Steps)
	if err != nil {
		return Result{}, err
	}
	base, err := env.Lookup(p.Env)
	if err != nil {
		return Result{}, err
	}
	e, err := env.FixedHorizon(base, 0)
	if err != nil {
		return Result{}, err
	}
	spec := e.Spec()
	rng := rand.New(rand.NewPCG(seed, 0x7265647465616d))
	act := p.Policy
	if act == nil {
		act = func(_ []float64, rng *rand.Rand) []float64 { return spec.Action.Sample(rng) }
	}

	// References: clips of the policy from fresh resets.
	refs := make([]Scored, cfg.Refs)
	for i := range refs {
		obs := append([]float64(nil), e.Reset(rng)...)
		c := prefs.Clip{Env: p.Env, StartState: e.State()}
		for range cfg.Steps {
			a := act(obs, rng)
			c.Actions = append(c.Actions, append([]float64(nil), a...))
			o, _, _ := e.Step(a)
			copy(obs, o)
		}
		if refs[i], err = score(p, c); err != nil {
			return Result{}, err
		}
	}
	rh := make([]float64, len(refs))
	sr, st := spread(refs)
	for i, r := range refs {
		rh[i] = r.RHat
	}
	sort.Float64s(rh)
	bar := rh[int(math.Ceil(cfg.Percentile*float64(len(rh))))-1]
	res := Result{Effort: -1, RHatBar: bar, Threshold: thr, RefSteps: cfg.Refs * cfg.Steps}
	// The other side of a pair: references that met the task with r̂ at most the bar, so the
	// model prefers the failure and the true reward the ordinary clip.
	var ordinary []Scored
	for _, r := range refs {
		if r.Truth >= thr && r.RHat <= bar {
			ordinary = append(ordinary, r)
		}
	}
	if len(ordinary) == 0 {
		ordinary = refs
	}

	objective := func(s Scored) float64 { return s.RHat/sr - cfg.Lambda*s.Truth/st }
	gen := refs
	d := newDist(spec, cfg)
	for res.Steps+cfg.Steps <= cfg.Budget && len(res.Pairs) < cfg.Max {
		sort.SliceStable(gen, func(i, j int) bool { return objective(gen[i]) > objective(gen[j]) })
		elite := gen[:min(cfg.Elite, len(gen))]
		d.fit(elite, cfg)
		next := make([]Scored, 0, cfg.Pop)
		for range cfg.Pop {
			if res.Steps+cfg.Steps > cfg.Budget {
				break
			}
			var start []float64
			if rng.Float64() < cfg.FreshStart {
				e.Reset(rng)
				start = e.State()
			} else {
				start = elite[rng.IntN(len(elite))].Clip.StartState
			}
			c := prefs.Clip{Env: p.Env, StartState: append([]float64(nil), start...), Actions: d.sample(rng)}
			s, err := score(p, c)
			if err != nil {
				return Result{}, err
			}
			res.Steps += cfg.Steps
			if s.RHat > bar && s.Truth < thr && len(res.Pairs) < cfg.Max {
				if res.Effort < 0 {
					res.Effort = res.Steps
				}
				res.Pairs = append(res.Pairs, Pair{Failing: s, Ordinary: ordinary[len(res.Pairs)%len(ordinary)]})
			}
			next = append(next, s)
		}
		if len(next) == 0 {
			break
		}
		gen = next
	}
	return res, nil
}

func score(p Problem, c prefs.Clip) (Scored, error) {
	r, t, err := p.Score(c.StartState, c.Actions)
	if err != nil {
		return Scored{}, fmt.Errorf("redteam: %w", err)
	}
	return Scored{Clip: c, RHat: r, Truth: t}, nil
}

// spread returns the standard deviations of the references' r̂ and true returns (1 where 0),
// which put the two on one scale in the objective.
func spread(refs []Scored) (sr, st float64) {
	var mr, mt float64
	for _, r := range refs {
		mr += r.RHat
		mt += r.Truth
	}
	n := float64(len(refs))
	mr, mt = mr/n, mt/n
	for _, r := range refs {
		sr += (r.RHat - mr) * (r.RHat - mr)
		st += (r.Truth - mt) * (r.Truth - mt)
	}
	sr, st = math.Sqrt(sr/n), math.Sqrt(st/n)
	if sr < 1e-9 {
		sr = 1
	}
	if st < 1e-9 {
		st = 1
	}
	return sr, st
}
