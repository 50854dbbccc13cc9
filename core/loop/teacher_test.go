package loop

import (
	"math"
	"testing"

	"github.com/prefer-rlhf/prefer/core/oracle"
	"github.com/prefer-rlhf/prefer/core/ppo"
	"github.com/prefer-rlhf/prefer/core/query"
	"github.com/prefer-rlhf/prefer/core/reward"
)

// tiny is a run too short to learn, long enough to go through every step of the loop.
func tiny(seed uint64) Config {
	c := small(seed)
	c.Labels, c.Steps, c.Rounds = 16, 2048, 2
	c.Reward.MinSteps = 5
	c.CurveEpisodes, c.EvalEpisodes = 2, 2
	return c
}

// TestTeachersQueriesObjectivesRun runs the loop with each of B-Pref's teachers, each query
// strategy and each objective, and checks that a run is still fixed by its seed.
func TestTeachersQueriesObjectivesRun(t *testing.T) {
	for _, name := range oracle.TeacherNames {
		tc, _ := oracle.ParseTeacher(name)
		c := tiny(5)
		c.Teacher = &tc
		if _, err := Run(c, nil); err != nil {
			t.Errorf("teacher %s: %v", name, err)
		}
	}
	for _, s := range query.Strategies {
		c := tiny(6)
		c.Query.Strategy = s
		if _, err := Run(c, nil); err != nil {
			t.Errorf("query %s: %v", s, err)
		}
	}
	for _, o := range []reward.Objective{reward.ObjectiveMin, reward.ObjectiveUWO} {
		c := tiny(7)
		c.Objective = o
		c.Reward.Robust = true
		tc := oracle.TeacherMistake
		c.Teacher = &tc
		c.Query.Strategy = query.KCenterEntropy
		a, err := Run(c, nil)
		if err != nil {
			t.Fatalf("objective %s: %v", o, err)
		}
		b, _ := Run(c, nil)
		if a.EvalReturn != b.EvalReturn {
			t.Errorf("objective %s: one seed, eval %v and %v", o, a.EvalReturn, b.EvalReturn)
		}
	}
	c := tiny(5)
	c.Objective = "max"
	if c.Validate() == nil {
		t.Error("unknown objective accepted")
	}
}

func TestTeacherThresholdsFromThePool(t *testing.T) {
	pool := []Clip{{TrueReturn: 10}, {TrueReturn: 30}}
	tc := oracle.TeacherSkip
	skip, equal := teacherThresholds(&tc, untrained(t), pool, 75)
	// No training episode yet: the pool's mean clip return, 20, times the ratio 0.1.
	if math.Abs(skip-2) > 1e-12 || equal != 0 {
		t.Errorf("thresholds %v %v, want 2 0", skip, equal)
	}
	if s, e := teacherThresholds(nil, nil, pool, 75); s != 0 || e != 0 {
		t.Errorf("no teacher: %v %v", s, e)
	}
}

func TestQueryInputsPairsTheLabelledClips(t *testing.T) {
	seg := func(v float64) Clip {
		return Clip{Seg: reward.Segment{Obs: []float64{v, v}, Act: []float64{0}, Next: []float64{v, v}, Len: 1}}
	}
	pool := []Clip{seg(1), seg(2), seg(3)}
	d := &reward.Dataset{}
	d.Add(reward.Comparison{Left: seg(7).Seg, Right: seg(8).Seg, Mu: 1})
	in, err := QueryInputs(nil, pool, d, query.KCenter)
	if err != nil {
		t.Fatal(err)
	}
	if len(in.Features) != 3 || in.Features[1][0] != 2 || len(in.Labelled) != 1 || in.Labelled[0][2] != 8 || in.Returns != nil {
		t.Errorf("inputs %+v", in)
	}
}

// untrained is a trainer that has not trained: no finished episode yet.
func untrained(t *testing.T) *ppo.Trainer {
	tr, err := ppo.New(ppo.DefaultConfig("CartPole-v1"), 1)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}
