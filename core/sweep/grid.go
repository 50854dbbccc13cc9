// Package sweep holds the pure parts of a sweep over preference-learning settings, B-Pref
// style (Lee et al. 2021): the grid of runs (grid.go), the normalised score of a run and the
// per-cell summary with a bootstrap confidence interval over seeds (summary.go), and Gao et
// al. 2022's fit of true reward against KL for over-optimisation (gao.go). Running the grid
// (processes, files, resuming) is server/sweeper's.
package sweep

import (
	"fmt"
	"strconv"
)

// Cell is one setting of a sweep; its runs differ only in the seed.
type Cell struct {
	Env       string `json:"env"`
	Teacher   string `json:"teacher"`
	Query     string `json:"query"`
	Labels    int    `json:"labels"`
	Robust    bool   `json:"robust"`
	Objective string `json:"objective"`
}

// Run is one run of a cell.
type Run struct {
	Cell
	Seed uint64 `json:"seed"`
}

// Key identifies a run across invocations: a sweep that finds a result with the same key
// does not run it again.
func (r Run) Key() string {
	return fmt.Sprintf("%s|%s|%s|%d|%t|%s|%d", r.Env, r.Teacher, r.Query, r.Labels, r.Robust, r.Objective, r.Seed)
}

// Key identifies a cell.
func (c Cell) Key() string {
	return c.Env + "|" + c.Teacher + "|" + c.Query + "|" + strconv.Itoa(c.Labels) + "|" + strconv.FormatBool(c.Robust) + "|" + c.Objective
}

// Grid lists the runs of every teacher × query on one env, seeds 1..seeds, cell by cell
// (teachers outer, queries inner, seeds innermost), so that a grid cut short has whole cells.
func Grid(env string, teachers, queries []string, labels, seeds int, robust bool, objective string) []Run {
	var runs []Run
	for _, t := range teachers {
		for _, q := range queries {
			c := Cell{Env: env, Teacher: t, Query: q, Labels: labels, Robust: robust, Objective: objective}
			for s := 1; s <= seeds; s++ {
				runs = append(runs, Run{Cell: c, Seed: uint64(s)})
			}
		}
	}
	return runs
}
