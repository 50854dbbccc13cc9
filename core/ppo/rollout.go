package ppo

import (
	"math/rand/v2"
	"sort"
	"sync"

	"github.com/prefer-rlhf/prefer/core/env"
	"github.com/prefer-rlhf/prefer/core/nn"
)

// Rollout is the experience of one rollout: T steps of E environments. Every slice is flat and
// row-major [t][e] (then the vector's coordinates), so transition (t, e) is row t*E+e.
//
// States and Actions replay a clip exactly: SetState(States row) then Step(Actions row)
// reproduces the step.
type Rollout struct {
	T, E     int
	ObsDim   int // length of an observation row
	ActDim   int // length of an action row (1 for a discrete space)
	StateDim int // length of a state row

	States      []float64 // the env's internal state before each step (env.State())
	Obs         []float64 // the raw observation before each step
	Actions     []float64 // the action as sent to env.Step (a Gaussian's sample clipped to the box)
	NextObs     []float64 // the observation after each step (the last one of an ended episode)
	TrueRewards []float64 // the env's reward for each step
	Rewards     []float64 // what PPO trained on: learned or true, KL-penalised, normalised, +γ·V at truncations
	Start       []bool    // the step is the first of an episode
	Terminated  []bool    // the env terminated with this step
	Truncated   []bool    // the time limit (or the fixed horizon) ended the episode with this step
}

func newRollout(T, E, obsDim, actDim, stateDim int) *Rollout {
	n := T * E
	return &Rollout{
		T: T, E: E, ObsDim: obsDim, ActDim: actDim, StateDim: stateDim,
		States:  make([]float64, n*stateDim),
		Obs:     make([]float64, n*obsDim),
		Actions: make([]float64, n*actDim), NextObs: make([]float64, n*obsDim),
		TrueRewards: make([]float64, n), Rewards: make([]float64, n),
		Start: make([]bool, n), Terminated: make([]bool, n), Truncated: make([]bool, n),
	}
}

// Done reports whether row i is the last step of an episode.
func (r *Rollout) Done(i int) bool { return r.Terminated[i] || r.Truncated[i] }

// envSlot is one environment with its own random stream (resets and action samples), so that
// what happens in it depends only on the seed, not on which goroutine steps it.
type envSlot struct {
	env   env.Env
	rng   *rand.Rand
	obs   []float64 // the current observation (a copy)
	start bool      // the next step starts an episode
	ret   float64   // true return of the episode so far
	len   int
}

// episode is a finished training episode.
type episode struct {
	t, e   int
	ret    float64
	length int
}

// collect steps every env NumSteps times with the current policy, filling t.roll and the
// rollout buffers (normalised observations, raw actions, log-probabilities), with the envs
// split into contiguous shards, one goroutine each. Nothing is shared between shards but the
// read-only policy, so the result does not depend on the sharding.
func (tr *Trainer) collect() []episode {
	E := tr.cfg.NumEnvs
	w := min(tr.cfg.workers(), E)
	eps := make([][]episode, w)
	var wg sync.WaitGroup
	for k := 0; k < w; k++ {
		lo, hi := k*E/w, (k+1)*E/w
		wg.Add(1)
		go func() {
			defer wg.Done()
			eps[k] = tr.collectShard(lo, hi, &tr.tapes[k].actor)
		}()
	}
	wg.Wait()
	var all []episode
	for _, s := range eps {
		all = append(all, s...)
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].t != all[j].t {
			return all[i].t < all[j].t
		}
		return all[i].e < all[j].e
	})
	return all
}

// collectShard runs envs [lo, hi) for a rollout.
func (tr *Trainer) collectShard(lo, hi int, tape *nn.Tape) []episode {
	r, p := tr.roll, tr.pol
	E, od, ad, sd, k := r.E, r.ObsDim, r.ActDim, r.StateDim, p.outDim()
	n := hi - lo
	limit := tr.timeLimit
	var done []episode
	for t := 0; t < r.T; t++ {
		b := t*E + lo // first row of this shard at step t
		for e := lo; e < hi; e++ {
			i := t*E + e
			s := &tr.slots[e]
			copy(r.States[i*sd:(i+1)*sd], s.env.State())
			copy(r.Obs[i*od:(i+1)*od], s.obs)
			r.Start[i] = s.start
		}
		x := tr.obsN[b*od : (b+n)*od]
		p.normalize(r.Obs[b*od:(b+n)*od], x, n)
		out := p.Actor.Forward(tape, x, n)
		for e := lo; e < hi; e++ {
			i := t*E + e
			s := &tr.slots[e]
			j := e - lo
			act := r.Actions[i*ad : (i+1)*ad]
			tr.logp[i] = p.sample(out[j*k:(j+1)*k], p.LogStd, s.rng, false, tr.rawAct[i*ad:(i+1)*ad], act)
			obs, rew, term := s.env.Step(act)
			s.ret += rew
			s.len++
			trunc := !term && limit > 0 && s.len >= limit
			copy(r.NextObs[i*od:(i+1)*od], obs)
			r.TrueRewards[i], r.Terminated[i], r.Truncated[i] = rew, term, trunc
			if term || trunc {
				done = append(done, episode{t, e, s.ret, s.len})
				copy(s.obs, s.env.Reset(s.rng))
				s.start, s.ret, s.len = true, 0, 0
			} else {
				copy(s.obs, obs)
				s.start = false
			}
		}
	}
	return done
}
