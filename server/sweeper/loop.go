package sweeper

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/prefer-rlhf/prefer/core/loop"
	"github.com/prefer-rlhf/prefer/core/oracle"
	"github.com/prefer-rlhf/prefer/core/ppo"
	"github.com/prefer-rlhf/prefer/core/query"
	"github.com/prefer-rlhf/prefer/core/reward"
	"github.com/prefer-rlhf/prefer/core/sweep"
)

// AnchorsFile holds the measured normalisation anchors of a sweep's directory: PPO on the
// true reward, once per env and seed.
const AnchorsFile = "anchors.jsonl"

// anchor is one line of AnchorsFile.
type anchor struct {
	Env         string  `json:"env"`
	Seed        uint64  `json:"seed"`
	Steps       int     `json:"steps"`
	EvalReturn  float64 `json:"eval_return"`
	WallSeconds float64 `json:"wall_seconds"`
}

// Anchors measures the return of PPO trained on the true reward (`prefer train`'s defaults:
// ppo.DefaultConfig and ppo.DefaultSteps) per env and seed, on the same evaluation episodes as
// the loop's final evaluation, once: results are kept in Dir's AnchorsFile. It is safe for
// concurrent use; runs of one seed wait for one measurement.
type Anchors struct {
	dir  string
	mu   sync.Mutex
	have map[string]*expert
}

type expert struct {
	once sync.Once
	ret  float64
	err  error
}

// NewAnchors reads the anchors measured before in dir.
func NewAnchors(dir string) (*Anchors, error) {
	a := &Anchors{dir: dir, have: map[string]*expert{}}
	f, err := os.Open(filepath.Join(dir, AnchorsFile))
	if os.IsNotExist(err) {
		return a, nil
	}
	if err != nil {
		return nil, fmt.Errorf("sweeper: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var l anchor
		if json.Unmarshal(sc.Bytes(), &l) != nil {
			continue // a line cut short by a kill: measured again
		}
		e := &expert{ret: l.EvalReturn}
		e.once.Do(func() {})
		a.have[l.Env+"|"+strconv.FormatUint(l.Seed, 10)] = e
	}
	return a, sc.Err()
}

// Expert returns PPO's true-reward return on env for seed, measuring it if needed.
func (a *Anchors) Expert(envName string, seed uint64, episodes int) (float64, error) {
	k := envName + "|" + strconv.FormatUint(seed, 10)
	a.mu.Lock()
	e, ok := a.have[k]
	if !ok {
		e = &expert{}
		a.have[k] = e
	}
	a.mu.Unlock()
	e.once.Do(func() {
		var l anchor
		l, e.err = measureExpert(envName, seed, episodes)
		if e.err != nil {
			return
		}
		e.ret = l.EvalReturn
		a.mu.Lock()
		defer a.mu.Unlock()
		e.err = appendJSON(filepath.Join(a.dir, AnchorsFile), l)
	})
	return e.ret, e.err
}

func measureExpert(envName string, seed uint64, episodes int) (anchor, error) {
	cfg := ppo.DefaultConfig(envName)
	steps := ppo.DefaultSteps(envName)
	tr, err := ppo.New(cfg, seed)
	if err != nil {
		return anchor{}, err
	}
	start := time.Now()
	if err := tr.Train(steps, nil); err != nil {
		return anchor{}, err
	}
	// The loop's final evaluation episodes (loop.Run: seed ^ 0xe7a1).
	ret := ppo.Evaluate(tr.Policy(), envName, episodes, seed^0xe7a1)
	return anchor{Env: envName, Seed: seed, Steps: steps, EvalReturn: ret, WallSeconds: time.Since(start).Seconds()}, nil
}

func appendJSON(path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := f.Write(append(b, '\n')); err != nil {
		return err
	}
	return f.Sync()
}

// Settings are what a sweep changes of the loop's defaults beyond the grid's cell.
type Settings struct {
	Steps  int // PPO env steps per run; 0: the env's default
	Rounds int // 0: the env's default
}

// LoopFunc runs a grid's run as `prefer experiment` does (loop.Defaults for the env) with the
// cell's teacher, query strategy, label budget, robust fit and objective, and scores it
// against the random policy and the anchors' true-reward PPO.
func LoopFunc(anchors *Anchors, set Settings) Func {
	return func(r sweep.Run) (sweep.Result, error) {
		cfg, err := LoopConfig(r, set)
		if err != nil {
			return sweep.Result{}, err
		}
		rep, err := loop.Run(cfg, nil)
		if err != nil {
			return sweep.Result{}, err
		}
		exp, err := anchors.Expert(r.Env, r.Seed, cfg.EvalEpisodes)
		if err != nil {
			return sweep.Result{}, err
		}
		res := sweep.Result{
			Run: r, EvalReturn: rep.EvalReturn, RandomReturn: rep.RandomReturn, ExpertReturn: exp,
			Normalized: sweep.Normalize(rep.EvalReturn, rep.RandomReturn, exp),
			LabelsUsed: rep.LabelsUsed, WallSeconds: rep.WallSeconds,
		}
		if rep.Fresh != nil {
			res.FreshKept = &rep.Fresh.Kept
		}
		return res, nil
	}
}

// LoopConfig is the loop's configuration for a run.
func LoopConfig(r sweep.Run, set Settings) (loop.Config, error) {
	cfg := loop.Defaults(r.Env)
	cfg.Seed = r.Seed
	if r.Labels > 0 {
		cfg.Labels = r.Labels
	}
	if set.Steps > 0 {
		cfg.Steps = set.Steps
	}
	if set.Rounds > 0 {
		cfg.Rounds = set.Rounds
	}
	t, err := oracle.ParseTeacher(r.Teacher)
	if err != nil {
		return cfg, err
	}
	cfg.Teacher = &t
	if cfg.Query.Strategy, err = query.ParseStrategy(r.Query); err != nil {
		return cfg, err
	}
	cfg.Reward.Robust = r.Robust
	cfg.FinalFresh = r.FinalFresh
	if cfg.Reward.RobustMode, err = reward.ParseRobustMode(r.RobustMode); err != nil {
		return cfg, err
	}
	if r.Objective != "" {
		if cfg.Objective, err = reward.ParseObjective(r.Objective); err != nil {
			return cfg, err
		}
	}
	return cfg, cfg.Validate()
}
