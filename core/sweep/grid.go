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
	Env     string `json:"env"`
	Teacher string `json:"teacher"`
	Query   string `json:"query"`
	Labels  int    `json:"labels"`
	Robust  bool   `json:"robust"`
	// RobustMode names the robust fit when it is not R3M (reward.RobustMode): empty for R3M,
	// so that R3M's runs keep the keys they had before the modes.
	RobustMode string `json:"robust_mode,omitempty"`
	Objective  string `json:"objective"`
	// FinalFresh is the loop's Config.FinalFresh: env steps of a fresh policy on the final r̂
	// (0: off, and then absent from the key, so runs without it keep their keys).
	FinalFresh int `json:"final_fresh,omitempty"`
}

// Run is one run of a cell.
type Run struct {
	Cell
	Seed uint64 `json:"seed"`
}

// Key identifies a run across invocations: a sweep that finds a result with the same key
// does not run it again.
func (r Run) Key() string {
	return fmt.Sprintf("%s|%s|%s|%d|%s|%s%s|%d", r.Env, r.Teacher, r.Query, r.Labels, r.robust(), r.Objective, r.fresh(), r.Seed)
}

// Key identifies a cell.
func (c Cell) Key() string {
	return c.Env + "|" + c.Teacher + "|" + c.Query + "|" + strconv.Itoa(c.Labels) + "|" + c.robust() + "|" + c.Objective + c.fresh()
}

// fresh is the fresh policy's part of a key: empty when it is off.
func (c Cell) fresh() string {
	if c.FinalFresh == 0 {
		return ""
	}
	return "|fresh" + strconv.Itoa(c.FinalFresh)
}

// robust is the robust fit's part of a key: "true" or "false" as before the modes, with the
// mode after it when there is one.
func (c Cell) robust() string {
	if c.RobustMode == "" {
		return strconv.FormatBool(c.Robust)
	}
	return strconv.FormatBool(c.Robust) + "-" + c.RobustMode
}

// Grid lists the runs of every teacher × query on one env, seeds 1..seeds, cell by cell
// (teachers outer, queries inner, seeds innermost), so that a grid cut short has whole cells.
// robust is the robust fit's mode: "" for the plain fit, "r3m" or another reward.RobustMode.
func Grid(env string, teachers, queries []string, labels, seeds int, robust, objective string) []Run {
	var runs []Run
	mode := robust
	if mode == "r3m" {
		mode = ""
	}
	for _, t := range teachers {
		for _, q := range queries {
			c := Cell{Env: env, Teacher: t, Query: q, Labels: labels, Robust: robust != "", RobustMode: mode, Objective: objective}
			for s := 1; s <= seeds; s++ {
				runs = append(runs, Run{Cell: c, Seed: uint64(s)})
			}
		}
	}
	return runs
}
