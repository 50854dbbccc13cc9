package classroom

import (
	"fmt"
	"math/rand/v2"

	"github.com/prefer-rlhf/prefer/core/env"
	"github.com/prefer-rlhf/prefer/core/oracle"
	"github.com/prefer-rlhf/prefer/core/prefs"
)

// DemoRater is a synthetic rater for demo mode: it answers a pair from the clips' true returns
// (env.ScoreClip: the checker's score for a behaviour, the fixed-horizon return for a
// Gymnasium task) as core/oracle's rater does, so a teacher can show the whole loop before the
// class joins.
type DemoRater struct {
	Name  string
	Rater oracle.Rater
	// Teacher, if not nil, answers instead of Rater: one of B-Pref's simulated teachers
	// (core/oracle.Teacher, Lee et al. 2021), as `prefer experiment --teacher` does, so a
	// class can watch an irrational teacher: a skipped query is "can't tell" and an equal one
	// "equally good", as in the loop.
	Teacher *oracle.Teacher

	// seen and meanReturn are the clips answered so far and their mean true return: B-Pref's
	// thresholds scale with the mean return of recent episodes, which a demo rater does not
	// see, so it takes its clips' mean, as the loop does before its first episode ends
	// (loop's teacherThresholds).
	seen       int
	meanReturn float64
}

// DemoRaters returns n demo raters named "demo-1" ... "demo-n". With teacher "" they answer
// at random with probability noise (oracle.Rater.ErrorRate, the random-response noise of
// Christiano et al. 2017, §2.2.3) and otherwise prefer the clip with the larger true return;
// otherwise teacher names one of B-Pref's teachers (oracle.TeacherNames) and noise must be 0.
func DemoRaters(n int, noise float64, teacher string) ([]DemoRater, error) {
	if n < 0 || n > 100 {
		return nil, fmt.Errorf("classroom: demo raters must be between 0 and 100, got %d", n)
	}
	r := oracle.Rater{ErrorRate: noise}
	if err := r.Validate(); err != nil {
		return nil, fmt.Errorf("classroom: demo noise: %w", err)
	}
	var tp *oracle.Teacher
	if teacher != "" {
		t, err := oracle.ParseTeacher(teacher)
		if err != nil {
			return nil, fmt.Errorf("classroom: demo teacher: %w", err)
		}
		if noise != 0 {
			return nil, fmt.Errorf("classroom: demo teacher %s and demo noise %g: a teacher has its own mistakes (use mistake)", teacher, noise)
		}
		tp = &t
	}
	out := make([]DemoRater, n)
	for i := range out {
		out[i] = DemoRater{Name: fmt.Sprintf("demo-%d", i+1), Rater: r, Teacher: tp}
	}
	return out, nil
}

// Answer returns d's choice for pair p.
func (d *DemoRater) Answer(rng *rand.Rand, p prefs.Pair) (prefs.Choice, error) {
	l, err := env.ClipRewards(p.Left.Env, p.Left.StartState, p.Left.Actions)
	if err != nil {
		return "", fmt.Errorf("classroom: left clip of pair %s: %w", p.ID, err)
	}
	r, err := env.ClipRewards(p.Right.Env, p.Right.StartState, p.Right.Actions)
	if err != nil {
		return "", fmt.Errorf("classroom: right clip of pair %s: %w", p.ID, err)
	}
	if d.Teacher == nil {
		return d.Rater.Choose(rng, oracle.Return(l), oracle.Return(r)), nil
	}
	for _, rw := range [][]float64{l, r} {
		d.seen++
		d.meanReturn += (oracle.Return(rw) - d.meanReturn) / float64(d.seen)
	}
	skip, equal := d.Teacher.Thresholds(d.meanReturn, 1, 1)
	return d.Teacher.Label(rng, l, r, skip, equal), nil
}
