package loop

import (
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/prefer-rlhf/prefer/core/env"
)

// TestReplayRecordsTheSameClip: replaying a clip's start and actions gives back the clip the
// loop recorded (the adversary's clips reach the rater this way).
func TestReplayRecordsTheSameClip(t *testing.T) {
	for _, name := range []string{"CartPole-v1", "Pendulum-v1"} {
		base, _ := env.Lookup(name)
		e, err := env.FixedHorizon(base, 0)
		if err != nil {
			t.Fatal(err)
		}
		c := Roll(e, nil, 7, 40, rand.New(rand.NewPCG(1, 2)))
		d := e.Spec().Action.Dim()
		var actions [][]float64
		for k := 0; k < c.Seg.Len; k++ {
			actions = append(actions, c.Actions[k*d:(k+1)*d])
		}
		r, err := Replay(e, c.StartState, actions)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(r, c) {
			t.Errorf("%s: the replayed clip differs from the recorded one", name)
		}
	}
	if _, err := Replay(mustFixed(t, "CartPole-v1"), []float64{0, 0, 0, 0}, [][]float64{{5}}); err == nil {
		t.Error("Replay accepted action 5 in CartPole")
	}
}

func mustFixed(t *testing.T, name string) env.Env {
	base, err := env.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	e, err := env.FixedHorizon(base, 0)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestAdversarialRoundsHardenAFlawedModel: a Pendulum reward model fitted offline on 30 labels
// of random clips (Christiano et al. 2017's offline failure) has failures the adversary finds;
// two adversarial rounds label them, and the model then ranks held-out ordinary pairs better.
func TestAdversarialRoundsHardenAFlawedModel(t *testing.T) {
	if testing.Short() {
		t.Skip("a learning run")
	}
	c := Defaults("Pendulum-v1")
	c.Seed = 1
	c.Labels, c.Rounds, c.Steps = 30, 1, 4096
	c.CurveEpisodes, c.EvalEpisodes = 2, 2
	c.AdversarialRounds, c.AccuracyPairs, c.AdversaryRandomRefs = 2, 200, true
	c.Adversary.Budget, c.Adversary.Max = 40000, 16
	rep, err := Run(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	a := rep.Adversarial
	if a == nil {
		t.Fatal("no adversarial report")
	}
	found := 0
	for _, n := range a.FailuresFound {
		found += n
	}
	if a.Rounds != 2 || len(a.FailuresFound) != 2 || a.FailuresFound[0] == 0 || a.Labels != found || rep.LabelsUsed != c.Labels+found {
		t.Errorf("rounds %d, failures %v, adversarial labels %d, labels used %d (budget %d)", a.Rounds, a.FailuresFound, a.Labels, rep.LabelsUsed, c.Labels)
	}
	if len(a.EffortAfterRound) != 2 || a.EffortAfterRound[1] != a.EffortAfter {
		t.Errorf("effort after each round %v, after the last %d", a.EffortAfterRound, a.EffortAfter)
	}
	if a.EffortBefore <= 0 || a.HeldOutPairs < 100 {
		t.Errorf("effort before %d, held-out pairs %d", a.EffortBefore, a.HeldOutPairs)
	}
	if !(a.AccuracyAfter > a.AccuracyBefore+0.05) {
		t.Errorf("held-out accuracy %.3f -> %.3f, want a rise of more than 0.05", a.AccuracyBefore, a.AccuracyAfter)
	}
	t.Logf("failures %v, effort %d -> %v, accuracy %.3f -> %.3f", a.FailuresFound, a.EffortBefore, a.EffortAfterRound, a.AccuracyBefore, a.AccuracyAfter)

	c.AdversarialRounds = 0
	plain, err := Run(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	if plain.Adversarial != nil || plain.LabelsUsed != c.Labels {
		t.Errorf("without adversarial rounds: report %+v, %d labels", plain.Adversarial, plain.LabelsUsed)
	}
}
