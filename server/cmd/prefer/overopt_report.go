package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"slices"

	"github.com/prefer-rlhf/prefer/core/overopt"
	"github.com/prefer-rlhf/prefer/core/reward"
	"github.com/prefer-rlhf/prefer/core/sweep"
)

// overoptSettings are what a report's runs share, as its JSON names them: reports pool over
// seeds only when these are equal.
type overoptSettings struct {
	Env        string  `json:"env"`
	Steps      int     `json:"steps"`
	Points     int     `json:"points"`
	Teacher    string  `json:"teacher"`
	Lambda     float64 `json:"lambda"`
	Horizon    int     `json:"horizon"`
	KLEpisodes int     `json:"kl_episodes"`
	Members    int     `json:"members"`
	Prior      float64 `json:"prior"`
}

// overoptReport is one over-optimisation report: the settings and, per objective, each
// seed's points. runs[i][k] is objective objs[i] on seeds[k].
type overoptReport struct {
	overoptSettings
	objs   []reward.Objective
	runs   [][][]overopt.Point
	seeds  []uint64
	labels []int // labels each seed's loop used
}

// write summarises the report and writes PREFIX.json and the charts, a line per objective and
// the conservation line on stderr, and with asJSON the JSON on stdout.
func (r *overoptReport) write(prefix string, asJSON bool, stdout, stderr io.Writer) int {
	fail := func(err error) int {
		fmt.Fprintf(stderr, "prefer overopt: %v\n", err)
		return 1
	}
	sums := make([]*overopt.Summary, len(r.objs))
	for i := range r.objs {
		s, err := overopt.Summarize(r.runs[i])
		if err != nil {
			return fail(err)
		}
		sums[i] = s
	}
	res := overoptJSON(r.objs, sums, r.runs, r.seeds)
	res["env"], res["seeds"], res["labels"], res["steps"], res["points"] = r.Env, r.seeds, r.labels, r.Steps, r.Points
	res["teacher"] = r.Teacher
	res["lambda"], res["window"], res["horizon"], res["kl_episodes"] = r.Lambda, overopt.Window, r.Horizon, r.KLEpisodes
	res["members"], res["prior"] = r.Members, r.Prior
	b, err := json.Marshal(res)
	if err != nil {
		return fail(err)
	}
	if err := os.WriteFile(prefix+".json", append(b, '\n'), 0o644); err != nil {
		return fail(err)
	}
	if err := os.WriteFile(prefix+".svg", overoptCompareChart(r.Env, len(r.seeds), r.objs, sums), 0o644); err != nil {
		return fail(err)
	}
	for i, obj := range r.objs {
		if err := os.WriteFile(prefix+"-"+string(obj)+".svg", overoptChart(r.Env, len(r.seeds), obj, sums[i]), 0o644); err != nil {
			return fail(err)
		}
	}
	for i, obj := range r.objs {
		s := sums[i]
		fmt.Fprintf(stderr, "%-4s peak true return %.1f at d = %.2f, final %.1f: drop %.1f (per seed %.1f); fit R(d) = d(%.3g - %.3g log d)\n",
			obj, s.PeakTrue, s.PeakD, s.FinalTrue, s.Drop, s.SeedDrops, s.Fit.Alpha, s.Fit.Beta)
	}
	if c, ok := res["conservation"].(map[string]any); ok {
		fmt.Fprintf(stderr, "conservation over %d seeds: best conservative drop / mean's drop = %v, 95%% bootstrap over seeds %v (goal <= 0.5: %v); mean of per-seed drops %v, %v; wrote %s.json and the charts\n",
			len(r.seeds), c["ratio"], c["ratio_ci"], c["met"], c["seed_ratio"], c["seed_ratio_ci"], prefix)
	}
	if asJSON {
		fmt.Fprintln(stdout, string(b))
	}
	return 0
}

// seedRatio is the ratio of the mean of other's per-seed drops to the mean objective's, with
// its 95% bootstrap interval over seeds (core/overopt's SeedDropRatio), as JSON values.
func seedRatio(base, other []float64, seed uint64) (ratio, ci any) {
	rng := rand.New(rand.NewPCG(seed, 0x7365))
	r, lo, hi, ok := overopt.SeedDropRatio(rng, base, other, sweep.Resamples, 0.95)
	if ok {
		ci = []float64{lo, hi}
	}
	return nullable(r), ci
}

// overoptFile is a report as `prefer overopt` writes it (PREFIX.json), the parts a merge reads.
type overoptFile struct {
	overoptSettings
	Seeds      []uint64          `json:"seeds"`
	Labels     []int             `json:"labels"`
	Window     int               `json:"window"`
	Objectives []overoptFileRuns `json:"objectives"`
}

// overoptFileRuns is one objective's runs in a report, one per seed in the report's order.
type overoptFileRuns struct {
	Objective reward.Objective `json:"objective"`
	Runs      []struct {
		Seed   uint64          `json:"seed"`
		Points []overopt.Point `json:"points"`
	} `json:"runs"`
}

// sameSettings reports whether f and g were run with the same settings (seeds and labels
// apart) and objectives.
func (f *overoptFile) sameSettings(g *overoptFile) bool {
	if f.overoptSettings != g.overoptSettings || len(f.Objectives) != len(g.Objectives) {
		return false
	}
	for _, o := range f.Objectives {
		if !slices.ContainsFunc(g.Objectives, func(p overoptFileRuns) bool { return p.Objective == o.Objective }) {
			return false
		}
	}
	return true
}

// readOveropt reads the reports that `prefer overopt` wrote and pools them over seeds: the same
// env, objectives and settings, and no seed twice. Labels may differ per seed (each loop
// reports what it used); the first report's order of objectives is kept.
func readOveropt(files []string) (*overoptReport, error) {
	var rep *overoptReport
	var first overoptFile
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			return nil, err
		}
		var f overoptFile
		if err := json.Unmarshal(b, &f); err != nil {
			return nil, fmt.Errorf("%s: %v", name, err)
		}
		if len(f.Objectives) == 0 || len(f.Seeds) == 0 || len(f.Labels) != len(f.Seeds) {
			return nil, fmt.Errorf("%s: not a report of prefer overopt (no objectives or seeds)", name)
		}
		if f.Window != overopt.Window {
			return nil, fmt.Errorf("%s: measured with a window of %d points, this prefer uses %d", name, f.Window, overopt.Window)
		}
		if rep == nil {
			first = f
			rep = &overoptReport{overoptSettings: f.overoptSettings}
			for _, o := range f.Objectives {
				rep.objs = append(rep.objs, o.Objective)
			}
			rep.runs = make([][][]overopt.Point, len(rep.objs))
		} else if !f.sameSettings(&first) {
			return nil, fmt.Errorf("%s: other settings than %s (env, steps, points, teacher, lambda, horizon, kl episodes, members, prior or objectives)", name, files[0])
		}
		for _, s := range f.Seeds {
			if slices.Contains(rep.seeds, s) {
				return nil, fmt.Errorf("%s: seed %d is in an earlier report too", name, s)
			}
		}
		for i, obj := range rep.objs {
			o := f.Objectives[slices.IndexFunc(f.Objectives, func(p overoptFileRuns) bool { return p.Objective == obj })]
			if len(o.Runs) != len(f.Seeds) {
				return nil, fmt.Errorf("%s: objective %s has %d runs for %d seeds", name, obj, len(o.Runs), len(f.Seeds))
			}
			for k, run := range o.Runs {
				if run.Seed != f.Seeds[k] || len(run.Points) != f.Points+1 {
					return nil, fmt.Errorf("%s: objective %s's run %d is seed %d with %d points, want seed %d with %d", name, obj, k, run.Seed, len(run.Points), f.Seeds[k], f.Points+1)
				}
				rep.runs[i] = append(rep.runs[i], run.Points)
			}
		}
		rep.seeds, rep.labels = append(rep.seeds, f.Seeds...), append(rep.labels, f.Labels...)
	}
	if rep == nil {
		return nil, fmt.Errorf("no reports to merge")
	}
	return rep, nil
}
