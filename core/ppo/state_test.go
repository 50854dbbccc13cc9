package ppo

import (
	"encoding/json"
	"math"
	"testing"
)

// TestStateResumes checks that a trainer resumed from State and its policy takes its next
// update as the trainer it was saved from would (same step size, same optimiser moments),
// and that one resumed without State takes a far larger one: a fresh Adam's first steps move
// every weight by about the step size, and the schedule starts again at its top.
func TestStateResumes(t *testing.T) {
	cfg := DefaultConfig("CartPole-v1")
	// As the hub trains: rewards normalised, the step size annealed to a floor.
	cfg.NormReward, cfg.MinLRFrac = true, 0.1
	iter := cfg.NumSteps * cfg.NumEnvs
	cfg.TotalSteps = 20 * iter // saved at the end of the schedule, as a converged project is
	a, err := New(cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Train(20*iter, nil); err != nil {
		t.Fatal(err)
	}
	saved := a.Policy().Clone()
	// The state goes through JSON, as the hub's checkpoints store it.
	b, err := json.Marshal(a.State())
	if err != nil {
		t.Fatal(err)
	}
	var st State
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	step := func(tr *Trainer) float64 {
		before := append([]float64(nil), tr.Policy().Params()...)
		if err := tr.Train(iter, nil); err != nil {
			t.Fatal(err)
		}
		d := 0.0
		for i, v := range tr.Policy().Params() {
			d += (v - before[i]) * (v - before[i])
		}
		return math.Sqrt(d)
	}
	resume := func(withState bool) *Trainer {
		tr, err := New(cfg, 2)
		if err != nil {
			t.Fatal(err)
		}
		copy(tr.Policy().Params(), saved.Params())
		if saved.ObsNorm != nil {
			tr.Policy().ObsNorm = saved.ObsNorm.Clone()
		}
		if withState {
			if err := tr.SetState(st); err != nil {
				t.Fatal(err)
			}
			if tr.EnvSteps() != a.EnvSteps() || tr.learningRate() != a.learningRate() {
				t.Fatalf("resumed at %d steps, step size %g; saved at %d, %g", tr.EnvSteps(), tr.learningRate(), a.EnvSteps(), a.learningRate())
			}
		}
		return tr
	}
	resumed, fresh := resume(true), resume(false)
	dA, dR, dF := step(a), step(resumed), step(fresh)
	t.Logf("update size: uninterrupted %.4f, resumed with State %.4f, without %.4f", dA, dR, dF)
	if !(dR < 2*dA) {
		t.Errorf("resumed with State, the update is %.4f, the uninterrupted trainer's %.4f", dR, dA)
	}
	if !(dF > 3*dA) {
		t.Errorf("resumed without State, the update is %.4f, only %.1fx the uninterrupted trainer's %.4f", dF, dF/dA, dA)
	}
}

// TestSetStateRejectsAMismatch checks that a state of another shape is refused.
func TestSetStateRejectsAMismatch(t *testing.T) {
	tr, err := New(DefaultConfig("CartPole-v1"), 1)
	if err != nil {
		t.Fatal(err)
	}
	st := tr.State()
	st.AdamM = st.AdamM[1:]
	if err := tr.SetState(st); err == nil {
		t.Error("moments of the wrong length accepted")
	}
	st = tr.State()
	st.RewardStat = NewRunningStat(1)
	if tr.Config().NormReward {
		st.RewardStat = nil
	}
	if err := tr.SetState(st); err == nil {
		t.Error("a reward normaliser that does not match NormReward accepted")
	}
}

// TestStateJSON checks that State survives JSON exactly, moments included.
func TestStateJSON(t *testing.T) {
	cfg := DefaultConfig("Pendulum-v1")
	cfg.NormReward = true
	tr, err := New(cfg, 3)
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Train(2*cfg.NumSteps*cfg.NumEnvs, nil); err != nil {
		t.Fatal(err)
	}
	want := tr.State()
	b, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	var got State
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	wb, _ := json.Marshal(want)
	gb, _ := json.Marshal(got)
	if string(wb) != string(gb) || got.AdamT != want.AdamT || len(got.AdamM) != len(want.AdamM) || got.AdamM[7] != want.AdamM[7] || got.AdamV[9] != want.AdamV[9] {
		t.Errorf("state changed through JSON")
	}
	if want.AdamT == 0 || want.RewardStat == nil {
		t.Errorf("after training, Adam has taken %d steps and the reward normaliser is %v", want.AdamT, want.RewardStat)
	}
}
