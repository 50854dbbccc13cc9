package fitter

import (
	"encoding/base64"
	"encoding/json"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/prefer-rlhf/prefer/core/env"
	"github.com/prefer-rlhf/prefer/core/prefs"
	"github.com/prefer-rlhf/prefer/core/reward"
)

// randomClip is a CartPole clip from a random start with random actions.
func randomClip(rng *rand.Rand, steps int) prefs.Clip {
	e, _ := env.Lookup("CartPole-v1")
	e.Reset(rng)
	s := e.State()
	s[2] = (rng.Float64()*2 - 1) * 0.2 // a wide range of pole angles
	c := prefs.Clip{ID: "c", Env: "CartPole-v1", StartState: s}
	for i := 0; i < steps; i++ {
		c.Actions = append(c.Actions, []float64{float64(rng.IntN(2))})
	}
	return c
}

// upright is the hidden preference: the clip whose pole stays closer to upright is better.
func upright(c prefs.Clip) float64 {
	seg, _ := segment(&c)
	sum := 0.0
	for t := 0; t < seg.Len; t++ {
		sum -= math.Abs(seg.Obs[t*4+2])
	}
	return sum
}

func labels(rng *rand.Rand, n int) []Label {
	var ls []Label
	for i := 0; i < n; i++ {
		l, r := randomClip(rng, 20), randomClip(rng, 20)
		c := prefs.Right
		if upright(l) > upright(r) {
			c = prefs.Left
		}
		ls = append(ls, Label{ID: strconv.Itoa(i), PairID: "p" + strconv.Itoa(i), Choice: c, Left: l, Right: r})
	}
	return ls
}

func find(out []Out, typ string) *Out {
	for i := range out {
		if out[i].Type == typ {
			return &out[i]
		}
	}
	return nil
}

func TestFitterLearnsFromOwnLabels(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	ls := labels(rng, 150)
	f := New(DefaultConfig())
	out := f.Handle(In{Type: TypeInit, Labels: ls[:140]})
	if e := find(out, TypeError); e != nil {
		t.Fatal(e.Message)
	}
	for i := 0; i < 30; i++ { // idle rounds improve the model
		f.Idle()
	}
	right := 0
	for _, l := range ls[140:] {
		out := f.Handle(In{Type: TypeLabel, Labels: []Label{l}})
		p := find(out, TypePrediction)
		if p == nil || p.Prediction.PairID != l.PairID {
			t.Fatalf("no prediction for %s before the refit: %+v", l.PairID, out)
		}
		if (p.Prediction.PLeft > 0.5) == (l.Choice == prefs.Left) {
			right++
		}
		st := find(out, TypeFitted)
		if st == nil || st.Stats.Labels == 0 {
			t.Fatalf("no stats after the refit: %+v", out)
		}
	}
	if right < 8 {
		t.Errorf("predicted %d of 10 new labels, want >= 8", right)
	}
	if f.lastStats.Accuracy < 0.75 {
		t.Errorf("held-out accuracy %.2f, want >= 0.75", f.lastStats.Accuracy)
	}
}

func TestFitterUpdateIsDeltaAgainstGlobal(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	g, err := reward.New(reward.Defaults(), reward.Shape{ObsDim: 4, ActDim: 1, ActN: 2})
	if err != nil {
		t.Fatal(err)
	}
	w, _ := g.MarshalJSON()
	global, _ := json.Marshal(map[string]any{"version": 3, "weights": json.RawMessage(w)})
	f := New(DefaultConfig())
	if out := f.Handle(In{Type: TypeUpdate}); find(out, TypeError) == nil {
		t.Fatal("an update without a global model did not fail")
	}
	f.Handle(In{Type: TypeInit, Labels: labels(rng, 20), Global: global})
	out := f.Handle(In{Type: TypeUpdate})
	u := find(out, TypeModelDelta)
	if u == nil {
		t.Fatalf("no update: %+v", out)
	}
	var body struct {
		ID          string `json:"id"`
		BaseVersion int    `json:"base_version"`
		Labels      int    `json:"labels"`
		DeltaF32    string `json:"delta_f32"`
	}
	if err := json.Unmarshal(u.Update, &body); err != nil {
		t.Fatal(err)
	}
	raw, err := base64.StdEncoding.DecodeString(body.DeltaF32)
	if err != nil {
		t.Fatal(err)
	}
	nparams := 0
	for i := 0; i < g.Members(); i++ {
		nparams += len(g.Net(i).Params)
	}
	if body.BaseVersion != 3 || body.Labels != 20 || len(raw) != 4*nparams || !prefs.ValidUUID(body.ID) {
		t.Fatalf("update base %d labels %d delta bytes %d (want 3, 20, %d) id %q", body.BaseVersion, body.Labels, len(raw), 4*nparams, body.ID)
	}
	nonzero := false
	for _, b := range raw {
		if b != 0 {
			nonzero = true
		}
	}
	if !nonzero {
		t.Fatal("the local model did not move from the global one")
	}
}

func TestFitterSurvivesBadMessages(t *testing.T) {
	f := New(DefaultConfig())
	bad := []In{
		{Type: "nonsense"},
		{Type: TypeLabel},
		{Type: TypeLabel, Labels: []Label{{ID: "x", Choice: "left", Left: prefs.Clip{Env: "Nope-v0", StartState: []float64{1}, Actions: [][]float64{{0}}}}}},
		{Type: TypeGlobal, Global: json.RawMessage(`{"version": 1, "weights": {"format": "other"}}`)},
		{Type: TypeInit, Labels: []Label{{ID: "y", Choice: "left", Left: prefs.Clip{Env: "CartPole-v1", StartState: []float64{0, 0, 0, 0}, Actions: [][]float64{{7}}}}}},
	}
	for _, in := range bad {
		if out := f.Handle(in); find(out, TypeError) == nil {
			t.Errorf("%+v: no error reported", in.Type)
		}
	}
}

func TestFitterRestartsInPartsFromSavedModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	ls := labels(rng, 40)
	cfg := DefaultConfig()
	cfg.SaveEvery = 1
	a := New(cfg)
	out := a.Handle(In{Type: TypeInit, Labels: ls})
	saved := find(out, TypeLocal)
	if saved == nil {
		t.Fatalf("no local model to keep: %+v", out)
	}
	p0, _ := a.model.Prefer(a.labels[0].left, a.labels[0].right)

	// The page restarts the worker in parts: init, labels in chunks, fit.
	b := New(cfg)
	b.Handle(In{Type: TypeInit, Local: saved.Local})
	for lo := 0; lo < len(ls); lo += 25 {
		if out := b.Handle(In{Type: TypeAdd, Labels: ls[lo:min(lo+25, len(ls))]}); find(out, TypeError) != nil {
			t.Fatalf("add: %+v", out)
		}
	}
	if b.model != nil {
		t.Fatal("the model was fitted before the fit message")
	}
	b.restoreLocal() // what the fit message does first
	if b.model == nil || !b.fitted {
		t.Fatal("the saved model was not restored")
	}
	for i := 0; i < a.model.Members(); i++ {
		pa, pb := a.model.Net(i).Params, b.model.Net(i).Params
		for j := range pa {
			if pa[j] != pb[j] {
				t.Fatalf("member %d parameter %d: restored %v, saved %v", i, j, pb[j], pa[j])
			}
		}
	}
	if p1, _ := b.model.Prefer(b.labels[0].left, b.labels[0].right); p1 != p0 {
		t.Errorf("the restored model predicts %v, the saved one %v", p1, p0)
	}
	out = b.Handle(In{Type: TypeFit})
	if find(out, TypeFitted) == nil {
		t.Fatalf("no fit: %+v", out)
	}
	if b.data.Len() != a.data.Len() {
		t.Errorf("%d labels after the restart, want %d", b.data.Len(), a.data.Len())
	}
}

// Red-team mode's scores: nothing to score with before a label; then r̂ of each clip as the
// model's return, in order, and higher for the clip the rater's preference favours (a clip
// that keeps the pole up against the same start pushed one way until it falls).
func TestFitterScoresClips(t *testing.T) {
	f := New(DefaultConfig())
	rng := rand.New(rand.NewPCG(5, 6))
	good := prefs.Clip{ID: "g", Env: "CartPole-v1", StartState: []float64{0, 0, 0.02, 0}}
	bad := prefs.Clip{ID: "b", Env: "CartPole-v1", StartState: good.StartState}
	for i := 0; i < 20; i++ {
		good.Actions = append(good.Actions, []float64{float64(i % 2)})
		bad.Actions = append(bad.Actions, []float64{0})
	}
	out := f.Handle(In{Type: TypeScore, Seq: 7, Clips: []prefs.Clip{good, bad}})
	if s := find(out, TypeScores); s == nil || s.Scores.Seq != 7 || len(s.Scores.RHat) != 0 || s.Scores.Reason == "" {
		t.Fatalf("before any label: %+v", out)
	}
	if e := find(f.Handle(In{Type: TypeInit, Labels: labels(rng, 120)}), TypeError); e != nil {
		t.Fatal(e.Message)
	}
	for i := 0; i < 30; i++ {
		f.Idle()
	}
	out = f.Handle(In{Type: TypeScore, Seq: 8, Clips: []prefs.Clip{good, bad}})
	s := find(out, TypeScores)
	if s == nil || s.Scores.Seq != 8 || len(s.Scores.RHat) != 2 {
		t.Fatalf("scores: %+v", out)
	}
	for i, c := range []prefs.Clip{good, bad} {
		seg, _ := segment(&c)
		if want := f.model.Return(seg); s.Scores.RHat[i] != want {
			t.Fatalf("r̂ of clip %d = %v, want the model's return %v", i, s.Scores.RHat[i], want)
		}
	}
	if !(s.Scores.RHat[0] > s.Scores.RHat[1]) {
		t.Fatalf("r̂ balanced %v <= pushed over %v", s.Scores.RHat[0], s.Scores.RHat[1])
	}
	other := good
	other.Env, other.StartState, other.Actions = "Pendulum-v1", []float64{0, 0}, [][]float64{{0}}
	if e := find(f.Handle(In{Type: TypeScore, Clips: []prefs.Clip{other}}), TypeError); e == nil {
		t.Fatal("a clip of another env was scored")
	}
}
