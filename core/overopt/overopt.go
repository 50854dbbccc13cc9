// Package overopt measures reward-model over-optimisation (Gao et al. 2022, "Scaling Laws for
// Reward Model Overoptimization"): PPO trains long on a reward model that is no longer
// refitted, and at intervals the policy's true return, its return under the learned reward
// and its KL from the initial policy are recorded; the true return against d = √KL is then
// fitted with R(d) = d(α - β log d) (core/sweep's Gao), whose peak and fall show how far
// optimising the learned reward helps before it hurts.
package overopt

import (
	"fmt"
	"math"

	"github.com/prefer-rlhf/prefer/core/ppo"
	"github.com/prefer-rlhf/prefer/core/sweep"
)

// Point is one measurement.
type Point struct {
	EnvSteps      int     `json:"env_steps"`
	KL            float64 `json:"kl"`             // per episode: per-step KL from the initial policy × horizon
	D             float64 `json:"d"`              // √KL
	TrueReturn    float64 `json:"true_return"`    // fresh episodes of the standard task
	LearnedReturn float64 `json:"learned_return"` // the learned reward per step on the last rollout × horizon
}

// Report is a run with the fit of true return gained against d.
type Report struct {
	Points    []Point   `json:"points"`
	Fit       sweep.Gao `json:"fit"` // of TrueReturn - Points[0].TrueReturn against D
	FitOK     bool      `json:"fit_ok"`
	PeakD     float64   `json:"peak_d"`    // d* of the fit; NaN if the fit never turns down
	PeakTrue  float64   `json:"peak_true"` // the fit's true return at d*, initial return added back
	FinalTrue float64   `json:"final_true"`
	// Drop is the fitted peak's true return minus the last measured one once the policy is
	// past the peak (d > d*): how much it lost by optimising further; 0 before the peak.
	Drop float64 `json:"drop"`
}

// Config is what Run needs beyond the trainer.
type Config struct {
	// Steps is the number of PPO env steps on the frozen reward.
	Steps int
	// Points is the number of measurements, evenly spread over Steps, after one at the start.
	Points int
	// EvalEpisodes is the number of episodes of each true-return measurement.
	EvalEpisodes int
	// Seed fixes the evaluation episodes.
	Seed uint64
}

// Run trains tr on r (which should not change meanwhile) for cfg.Steps env steps, measuring
// as Point says. tr's policy at the start is the initial policy the KL is measured from.
func Run(tr *ppo.Trainer, r ppo.Reward, cfg Config, progress func(Point)) (*Report, error) {
	if cfg.Steps < 1 || cfg.Points < 2 || cfg.EvalEpisodes < 1 {
		return nil, fmt.Errorf("overopt: need Steps >= 1, Points >= 2 and EvalEpisodes >= 1")
	}
	pc := tr.Config()
	horizon := float64(pc.FixedHorizon)
	if horizon == 0 {
		horizon = float64(tr.Spec().MaxEpisodeSteps)
	}
	initial := tr.Policy().Clone()
	tr.SetReward(r)
	rep := &Report{}
	measure := func(k int) error {
		pt := Point{EnvSteps: tr.EnvSteps(), LearnedReturn: math.NaN()}
		pt.TrueReturn = ppo.Evaluate(tr.Policy(), pc.Env, cfg.EvalEpisodes, cfg.Seed^uint64(k)<<8^0x0e7a)
		if ro := tr.Rollout(); ro != nil {
			kl, err := ppo.PolicyKL(tr.Policy(), initial, ro.Obs)
			if err != nil {
				return err
			}
			pt.KL = kl * horizon
			n := ro.T * ro.E
			out := make([]float64, n)
			r.Rewards(ro.Obs, ro.Actions, ro.NextObs, n, out)
			s := 0.0
			for _, v := range out {
				s += v
			}
			pt.LearnedReturn = s / float64(n) * horizon
		}
		pt.D = math.Sqrt(math.Max(pt.KL, 0))
		rep.Points = append(rep.Points, pt)
		if progress != nil {
			progress(pt)
		}
		return nil
	}
	if err := measure(0); err != nil {
		return nil, err
	}
	for k := 1; k <= cfg.Points; k++ {
		steps := k*cfg.Steps/cfg.Points - (k-1)*cfg.Steps/cfg.Points
		if err := tr.Train(steps, nil); err != nil {
			return nil, err
		}
		if err := measure(k); err != nil {
			return nil, err
		}
	}
	rep.summarize()
	return rep, nil
}

// summarize fits Gao's curve to the true return gained and finds the peak and the drop.
func (rep *Report) summarize() {
	base := rep.Points[0].TrueReturn
	var d, gain []float64
	for _, p := range rep.Points[1:] {
		d = append(d, p.D)
		gain = append(gain, p.TrueReturn-base)
	}
	rep.FinalTrue = rep.Points[len(rep.Points)-1].TrueReturn
	rep.PeakD, rep.PeakTrue, rep.Drop, rep.FitOK = math.NaN(), math.NaN(), 0, false
	g, err := sweep.FitGao(d, gain)
	if err != nil {
		return
	}
	rep.Fit = g
	ds, rs, ok := g.Peak()
	rep.FitOK = ok
	if ok {
		rep.PeakD, rep.PeakTrue = ds, base+rs
		if last := rep.Points[len(rep.Points)-1]; last.D > ds {
			rep.Drop = math.Max(rep.PeakTrue-rep.FinalTrue, 0)
		}
	}
}
