package env

import (
	"encoding/json"
	"math"
	"os"
	"testing"
)

// recordedEpisode is one episode of testdata/gymnasium-0.29.1/trajectories.json, recorded with
// Gymnasium 0.29.1's own code (see the README beside it).
type recordedEpisode struct {
	Env        string      `json:"env"`
	StartState []float64   `json:"start_state"`
	Actions    []float64   `json:"actions"`
	States     [][]float64 `json:"states"`
	Rewards    []float64   `json:"rewards"`
	Terminated []bool      `json:"terminated"`
}

// TestReplayMatchesRecordedGymnasium replays every recorded episode with Replay and compares
// each state, reward and termination flag with what Gymnasium itself produced. The
// transliteration tests (gym_test.go) check the logic over long sequences; this one checks
// against Gymnasium's output, so a shared misreading of its source cannot pass both.
func TestReplayMatchesRecordedGymnasium(t *testing.T) {
	raw, err := os.ReadFile("testdata/gymnasium-0.29.1/trajectories.json")
	if err != nil {
		t.Fatal(err)
	}
	var eps []recordedEpisode
	if err := json.Unmarshal(raw, &eps); err != nil {
		t.Fatal(err)
	}
	tol := map[string]float64{
		"CartPole-v1":              0,
		"MountainCarContinuous-v0": 0,
		"Pendulum-v1":              1e-9,
		"Acrobot-v1":               1e-9,
	}
	seen := map[string]int{}
	for i, ep := range eps {
		tl, ok := tol[ep.Env]
		if !ok {
			t.Fatalf("episode %d: unexpected env %q", i, ep.Env)
		}
		seen[ep.Env]++
		actions := make([][]float64, len(ep.Actions))
		for k, a := range ep.Actions {
			actions[k] = []float64{a}
		}
		states, rewards, terminated, err := Replay(ep.Env, ep.StartState, actions)
		if err != nil {
			t.Fatalf("episode %d (%s): %v", i, ep.Env, err)
		}
		if len(states) != len(ep.States) {
			t.Fatalf("episode %d (%s): %d steps, Gymnasium %d", i, ep.Env, len(states), len(ep.States))
		}
		for k := range states {
			for j, want := range ep.States[k] {
				if d := math.Abs(states[k][j] - want); d > tl || math.IsNaN(d) {
					t.Fatalf("episode %d (%s) step %d state[%d] = %.17g, Gymnasium %.17g (diff %g > %g)",
						i, ep.Env, k, j, states[k][j], want, d, tl)
				}
			}
			if d := math.Abs(rewards[k] - ep.Rewards[k]); d > tl {
				t.Fatalf("episode %d (%s) step %d reward = %.17g, Gymnasium %.17g", i, ep.Env, k, rewards[k], ep.Rewards[k])
			}
			if terminated[k] != ep.Terminated[k] {
				t.Fatalf("episode %d (%s) step %d terminated = %v, Gymnasium %v", i, ep.Env, k, terminated[k], ep.Terminated[k])
			}
		}
	}
	for env := range tol {
		if seen[env] == 0 {
			t.Errorf("no recorded episode of %s", env)
		}
	}
}
