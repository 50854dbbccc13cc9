//go:build !(js && wasm)

package d1

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/prefer-rlhf/prefer/core/prefs"
	"github.com/prefer-rlhf/prefer/server/hub"
	"github.com/prefer-rlhf/prefer/server/store"
	"github.com/prefer-rlhf/prefer/server/trainer"
)

// The D1 store stands in for the native one behind the hub's and the trainer's interfaces.
var (
	_ hub.Store     = (*Store)(nil)
	_ trainer.Store = (*Store)(nil)
)

var ctx = context.Background()

// both is the method set the parity test drives on the native store and on the D1 store.
type both interface {
	hub.Store
	trainer.Store
	AddClipsAndPairs(ctx context.Context, projectID string, clips []prefs.Clip, pairs []store.NewPair, replace bool) error
	LatestPolicy(ctx context.Context, projectID string) (*store.Policy, error)
	PairsFor(ctx context.Context, projectID, raterID string, n int, skip []string) ([]store.Pair, error)
	AddComparisons(ctx context.Context, projectID, raterID string, cs []prefs.Comparison, received time.Time) (store.SyncResult, error)
	PairCoverage(ctx context.Context, projectID string, overlap int) (labelled, full int, err error)
	SetGold(ctx context.Context, projectID, pairID string, choice prefs.Choice) error
	Gold(ctx context.Context, projectID string) (map[string]prefs.Choice, error)
	SetRaterWeight(ctx context.Context, projectID, raterID string, w float64) error
	RaterWeights(ctx context.Context, projectID string) (map[string]float64, error)
}

func openD1(t *testing.T) *Store {
	t.Helper()
	db, closeDB, err := OpenLocal(filepath.Join(t.TempDir(), "d1.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeDB() })
	if err := Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	if err := Migrate(ctx, db); err != nil { // a second run applies nothing
		t.Fatal(err)
	}
	return New(db, hub.HashToken("pt_secret"))
}

func openNative(t *testing.T) *store.Store {
	t.Helper()
	s, err := store.Open(filepath.Join(t.TempDir(), "native.db"), store.Options{Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// step is one call made on both stores; it returns what the call gave, to be compared.
type step struct {
	name string
	do   func(s both) (any, error)
}

// TestParityWithNativeStore runs one history of calls on the native SQLite store and on the D1
// store and checks that every call returns the same values and the same errors (times aside:
// the stores stamp their own).
func TestParityWithNativeStore(t *testing.T) {
	pid, other := uuid.NewString(), uuid.NewString()
	ada, bob := uuid.NewString(), uuid.NewString()
	created := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	clips := []prefs.Clip{
		{ID: uuid.NewString(), Env: "CartPole-v1", StartState: []float64{0, 0, 0.01, 0}, Actions: [][]float64{{0}, {1}}},
		{ID: uuid.NewString(), Env: "CartPole-v1", PolicyVersion: 1, StartState: []float64{0, 0, -0.01, 0}, Actions: [][]float64{{1}, {1}}},
		{ID: uuid.NewString(), Env: "CartPole-v1", PolicyVersion: 1, StartState: []float64{0.1, 0, 0, 0}, Actions: [][]float64{{1}}},
	}
	pair1, pair2 := uuid.NewString(), uuid.NewString()
	cmp := func(pair string, c prefs.Choice) prefs.Comparison {
		return prefs.Comparison{ID: uuid.NewString(), PairID: pair, Choice: c, CreatedAt: created.Add(time.Minute), ResponseMS: 900}
	}
	batch := []prefs.Comparison{cmp(pair1, prefs.Left), cmp(pair1, prefs.Right), cmp(pair1, prefs.Equal)}
	stolen := batch[0]
	stolen.Choice = prefs.CantTell
	bobs := cmp(pair1, prefs.Left)
	crowd := uuid.NewString()
	crowdBatch := []prefs.Comparison{cmp(pair2, prefs.Left), cmp(pair2, prefs.Right), cmp(pair2, prefs.Equal)}
	crowdBatch[1].ResponseMS = 400_000 // an idle tab: capped in the active time
	upd := &store.ModelUpdate{ID: uuid.NewString(), ProjectID: pid, RaterID: ada, BaseVersion: 1, Labels: 12,
		Delta: []float32{0.5, -0.25, 1}, Metrics: map[string]float64{"acc": 0.75, "bad": math.NaN()}}
	updFromBob := *upd
	updFromBob.RaterID = bob
	upd2 := &store.ModelUpdate{ID: uuid.NewString(), ProjectID: pid, RaterID: bob, BaseVersion: 1, Labels: 3, Delta: []float32{1, 2, 3}}

	steps := []step{
		{"create project", func(s both) (any, error) {
			set := store.DefaultSettings()
			set.ClipSeconds = 2
			err := s.CreateProject(ctx, &store.Project{ID: pid, Env: "CartPole-v1", Settings: set, JoinCode: "ABC123", CreatedAt: created})
			if err != nil {
				return nil, err
			}
			return nil, s.CreateProject(ctx, &store.Project{ID: other, Env: "Pendulum-v1", Settings: store.DefaultSettings(), JoinCode: "XYZ789", CreatedAt: created.Add(time.Second)})
		}},
		{"duplicate join code fails", func(s both) (any, error) {
			err := s.CreateProject(ctx, &store.Project{ID: uuid.NewString(), Env: "CartPole-v1", JoinCode: "ABC123"})
			return err != nil, nil
		}},
		{"project", func(s both) (any, error) { return s.Project(ctx, pid) }},
		{"project by code", func(s both) (any, error) { return s.ProjectByJoinCode(ctx, "XYZ789") }},
		{"no project", func(s both) (any, error) { return s.Project(ctx, uuid.NewString()) }},
		{"pause", func(s both) (any, error) { return nil, s.SetPaused(ctx, other, true) }},
		{"pause missing", func(s both) (any, error) { return nil, s.SetPaused(ctx, "nope", true) }},
		{"settings", func(s both) (any, error) {
			set := store.DefaultSettings()
			set.Query = "random"
			return nil, s.SetSettings(ctx, other, set)
		}},
		{"projects", func(s both) (any, error) { return s.Projects(ctx) }},
		{"raters", func(s both) (any, error) {
			if err := s.CreateRater(ctx, &store.Rater{ID: ada, ProjectID: pid, Name: "Ada", CreatedAt: created}, "hash-ada"); err != nil {
				return nil, err
			}
			return nil, s.CreateRater(ctx, &store.Rater{ID: bob, ProjectID: pid, Name: "Bob", CreatedAt: created.Add(time.Second)}, "hash-bob")
		}},
		{"rater by hash", func(s both) (any, error) { return s.RaterByTokenHash(ctx, "hash-bob") }},
		{"unknown rater", func(s both) (any, error) { return s.RaterByTokenHash(ctx, "hash-eve") }},
		{"clips and pairs", func(s both) (any, error) {
			return nil, s.AddClipsAndPairs(ctx, pid, clips[:2], []store.NewPair{{ID: pair1, Left: clips[0].ID, Right: clips[1].ID, Priority: 1}}, true)
		}},
		{"pair with a missing clip fails", func(s both) (any, error) {
			err := s.AddClipsAndPairs(ctx, pid, nil, []store.NewPair{{ID: uuid.NewString(), Left: clips[0].ID, Right: uuid.NewString()}}, false)
			return err != nil, nil
		}},
		{"clip", func(s both) (any, error) {
			c, err := s.Clip(ctx, pid, clips[1].ID)
			var v any
			json.Unmarshal(c, &v)
			return v, err
		}},
		{"clip of another project", func(s both) (any, error) { return s.Clip(ctx, other, clips[1].ID) }},
		{"clips by id", func(s both) (any, error) { return s.ClipsByID(ctx, pid, []string{clips[0].ID, clips[1].ID, "nope"}) }},
		{"pair exists", func(s both) (any, error) {
			a, err := s.PairExists(ctx, pid, pair1)
			b, _ := s.PairExists(ctx, other, pair1)
			return []bool{a, b}, err
		}},
		{"pairs for ada", func(s both) (any, error) { return s.PairsFor(ctx, pid, ada, 5, nil) }},
		{"pairs skipped", func(s both) (any, error) { return s.PairsFor(ctx, pid, ada, 5, []string{pair1}) }},
		{"add comparisons", func(s both) (any, error) { return s.AddComparisons(ctx, pid, ada, batch, created.Add(2*time.Minute)) }},
		{"re-send", func(s both) (any, error) {
			return s.AddComparisons(ctx, pid, ada, batch[:2], created.Add(3*time.Minute))
		}},
		{"another rater's id", func(s both) (any, error) {
			return s.AddComparisons(ctx, pid, bob, []prefs.Comparison{stolen, bobs}, created.Add(4*time.Minute))
		}},
		{"pairs for ada after labelling", func(s both) (any, error) { return s.PairsFor(ctx, pid, ada, 5, nil) }},
		{"labels", func(s both) (any, error) { return s.Labels(ctx, pid, 0, false) }},
		{"labels after 2", func(s both) (any, error) { return s.Labels(ctx, pid, 2, false) }},
		{"exclude bob", func(s both) (any, error) { return nil, s.SetExcluded(ctx, pid, bob, true) }},
		{"exclude in the wrong project", func(s both) (any, error) { return nil, s.SetExcluded(ctx, other, bob, true) }},
		{"labels without bob", func(s both) (any, error) { return s.Labels(ctx, pid, 0, false) }},
		{"labels with bob", func(s both) (any, error) { return s.Labels(ctx, pid, 0, true) }},
		{"rater summaries", func(s both) (any, error) { return s.Raters(ctx, pid) }},
		{"export", func(s both) (any, error) {
			var rows []store.ExportRow
			err := s.Export(ctx, pid, func(e *store.ExportRow) error {
				e2 := *e
				e2.Left, e2.Right = append(json.RawMessage(nil), e.Left...), append(json.RawMessage(nil), e.Right...)
				rows = append(rows, e2)
				return nil
			})
			return rows, err
		}},
		{"no model yet", func(s both) (any, error) {
			v, err := s.LatestModelVersion(ctx, pid)
			_, err2 := s.Model(ctx, pid, 0)
			return []any{v, err2}, err
		}},
		{"publish round 1", func(s both) (any, error) {
			return nil, s.PublishRound(ctx, &store.Round{ProjectID: pid, Round: 1, Checkpoint: []byte{1, 2, 3},
				Model:  &store.Model{Version: 1, Weights: json.RawMessage(`{"format":"x"}`), NumParams: 3, Metrics: map[string]float64{"reward/val_accuracy": 0.5, "nan": math.NaN()}},
				Policy: &store.Policy{Version: 1, Weights: []byte{9, 8}, LearnedReturn: 1.5, TrueReturn: math.NaN(), KL: 0.25, EnvSteps: 100, Labels: 4},
				Clips:  clips[2:], Pairs: []store.NewPair{{ID: pair2, Left: clips[1].ID, Right: clips[2].ID, Priority: 0.5}}, ReplacePairs: true})
		}},
		{"model", func(s both) (any, error) { return s.Model(ctx, pid, 0) }},
		{"model 1", func(s both) (any, error) { return s.Model(ctx, pid, 1) }},
		{"model 2 missing", func(s both) (any, error) { return s.Model(ctx, pid, 2) }},
		{"num params", func(s both) (any, error) { return s.ModelNumParams(ctx, pid, 1) }},
		{"policy", func(s both) (any, error) {
			p, err := s.LatestPolicy(ctx, pid)
			if p != nil {
				return noNaN([]store.Policy{*p}), err
			}
			return nil, err
		}},
		{"policy version", func(s both) (any, error) { return s.LatestPolicyVersion(ctx, pid) }},
		{"history", func(s both) (any, error) {
			h, err := s.PolicyHistory(ctx, pid, 10)
			return noNaN(h), err
		}},
		{"checkpoint", func(s both) (any, error) {
			r, st, err := s.Checkpoint(ctx, pid)
			return []any{r, st}, err
		}},
		{"no checkpoint", func(s both) (any, error) {
			_, _, err := s.Checkpoint(ctx, other)
			return nil, err
		}},
		{"active pairs replaced", func(s both) (any, error) { return s.PairsFor(ctx, pid, bob, 5, nil) }},
		{"update", func(s both) (any, error) { return s.AddModelUpdate(ctx, upd) }},
		{"update again", func(s both) (any, error) { return s.AddModelUpdate(ctx, upd) }},
		{"update id of another rater", func(s both) (any, error) { return s.AddModelUpdate(ctx, &updFromBob) }},
		{"update 2", func(s both) (any, error) { return s.AddModelUpdate(ctx, upd2) }},
		{"pending", func(s both) (any, error) { return s.ModelUpdates(ctx, pid, "pending") }},
		{"publish round 2", func(s both) (any, error) {
			return nil, s.PublishRound(ctx, &store.Round{ProjectID: pid, Round: 2, Checkpoint: []byte{4},
				Model:  &store.Model{Version: 2, Weights: json.RawMessage(`{"format":"y"}`), NumParams: 3},
				Merged: []string{upd.ID}, Rejected: map[string]string{upd2.ID: "too old"}})
		}},
		{"all updates", func(s both) (any, error) { return s.ModelUpdates(ctx, pid, "") }},
		{"counts", func(s both) (any, error) { return s.Counts(ctx, pid) }},
		{"crowd rater", func(s both) (any, error) {
			return nil, s.CreateRater(ctx, &store.Rater{ID: crowd, ProjectID: pid, Name: "abc", Participant: "abc", CreatedAt: created.Add(2 * time.Second)}, "hash-crowd")
		}},
		{"participant taken", func(s both) (any, error) {
			err := s.CreateRater(ctx, &store.Rater{ID: uuid.NewString(), ProjectID: pid, Name: "x", Participant: "abc"}, "hash-x")
			return errors.Is(err, store.ErrParticipantTaken), nil
		}},
		{"rater by participant", func(s both) (any, error) { return s.RaterByParticipant(ctx, pid, "abc") }},
		{"no such participant", func(s both) (any, error) { return s.RaterByParticipant(ctx, pid, "zzz") }},
		{"second device", func(s both) (any, error) {
			if err := s.AddRaterToken(ctx, crowd, "hash-crowd-2", created); err != nil {
				return nil, err
			}
			return s.RaterByTokenHash(ctx, "hash-crowd-2")
		}},
		{"pairs for the crowd rater", func(s both) (any, error) { return s.PairsForOverlap(ctx, pid, crowd, 5, nil, 3) }},
		{"capped insert", func(s both) (any, error) {
			return s.AddComparisonsCapped(ctx, pid, crowd, crowdBatch, created.Add(5*time.Minute), 2)
		}},
		{"capped retry", func(s both) (any, error) {
			return s.AddComparisonsCapped(ctx, pid, crowd, crowdBatch, created.Add(6*time.Minute), 2)
		}},
		{"crowd labels", func(s both) (any, error) { return s.RaterLabels(ctx, crowd) }},
		{"pairs at overlap 1", func(s both) (any, error) { return s.PairsForOverlap(ctx, pid, bob, 5, nil, 1) }},
		{"pairs at overlap 2", func(s both) (any, error) { return s.PairsForOverlap(ctx, pid, bob, 5, nil, 2) }},
		{"rater times", func(s both) (any, error) { return s.Raters(ctx, pid) }},
		{"coverage", func(s both) (any, error) {
			l, f, err := s.PairCoverage(ctx, pid, 2)
			return []int{l, f}, err
		}},
		{"gold", func(s both) (any, error) { return nil, s.SetGold(ctx, pid, pair2, prefs.Left) }},
		{"gold of a missing pair", func(s both) (any, error) { return nil, s.SetGold(ctx, pid, uuid.NewString(), prefs.Left) }},
		{"bad gold answer", func(s both) (any, error) { return s.SetGold(ctx, pid, pair1, "cant_tell") != nil, nil }},
		{"gold pairs", func(s both) (any, error) { return s.Gold(ctx, pid) }},
		{"gold pair for every rater", func(s both) (any, error) { return s.PairsForOverlap(ctx, pid, bob, 5, nil, 1) }},
		{"ungold", func(s both) (any, error) { return nil, s.SetGold(ctx, pid, pair1, "") }},
		{"weight", func(s both) (any, error) { return nil, s.SetRaterWeight(ctx, pid, bob, 0.5) }},
		{"weight of a missing rater", func(s both) (any, error) { return nil, s.SetRaterWeight(ctx, pid, uuid.NewString(), 0.5) }},
		{"bad weight", func(s both) (any, error) { return s.SetRaterWeight(ctx, pid, bob, 2) != nil, nil }},
		{"weights", func(s both) (any, error) { return s.RaterWeights(ctx, pid) }},
		{"crowd export", func(s both) (any, error) {
			var parts []string
			err := s.Export(ctx, pid, func(e *store.ExportRow) error { parts = append(parts, e.Participant); return nil })
			return parts, err
		}},
		{"no text bundle", func(s both) (any, error) { _, _, err := s.TextBundle(ctx, other); return nil, err }},
		{"text bundle", func(s both) (any, error) {
			return nil, s.SetTextBundle(ctx, other, json.RawMessage(`{"env":"a"}`), "d1")
		}},
		{"text bundle replaced before labels", func(s both) (any, error) {
			if err := s.SetTextBundle(ctx, other, json.RawMessage(`{"env":"b"}`), "d2"); err != nil {
				return nil, err
			}
			b, d, err := s.TextBundle(ctx, other)
			return []string{string(b), d}, err
		}},
		{"text bundle of a labelled project", func(s both) (any, error) { return nil, s.SetTextBundle(ctx, pid, json.RawMessage(`{"env":"a"}`), "d1") }},
		{"same digest again", func(s both) (any, error) { return nil, s.SetTextBundle(ctx, pid, json.RawMessage(`{"env":"c"}`), "d1") }},
		{"another digest refused", func(s both) (any, error) {
			err := s.SetTextBundle(ctx, pid, json.RawMessage(`{"env":"x"}`), "d9")
			b, d, _ := s.TextBundle(ctx, pid)
			return []any{errors.Is(err, store.ErrTextBundleInUse), string(b), d}, nil
		}},
	}
	native, d := openNative(t), openD1(t)
	for _, st := range steps {
		a, errA := st.do(native)
		b, errB := st.do(d)
		if (errA == nil) != (errB == nil) {
			t.Fatalf("%s: native error %v, d1 error %v", st.name, errA, errB)
		}
		if errA != nil && errors.Is(errA, store.ErrNotFound) != errors.Is(errB, store.ErrNotFound) {
			t.Fatalf("%s: native error %v, d1 error %v", st.name, errA, errB)
		}
		if errA != nil && errors.Is(errA, store.ErrForeignID) != errors.Is(errB, store.ErrForeignID) {
			t.Fatalf("%s: native error %v, d1 error %v", st.name, errA, errB)
		}
		na, nb := normalise(t, a), normalise(t, b)
		if !reflect.DeepEqual(na, nb) {
			ja, _ := json.Marshal(na)
			jb, _ := json.Marshal(nb)
			t.Fatalf("%s:\nnative %s\nd1     %s", st.name, ja, jb)
		}
	}
	// The history did something: a spot check that the comparison outcomes are the expected ones.
	res, _ := d.AddComparisons(ctx, pid, ada, batch, time.Now())
	if len(res.Duplicates) != 3 || len(res.Accepted) != 0 {
		t.Fatalf("re-sent batch: %+v", res)
	}
	for _, s := range []both{native, d} {
		if err := s.SetTextBundle(ctx, pid, json.RawMessage(`{}`), "d8"); !errors.Is(err, store.ErrTextBundleInUse) {
			t.Fatalf("a labelled project's text bundle replaced by another digest: %v", err)
		}
		if b, dg, err := s.TextBundle(ctx, other); err != nil || string(b) != `{"env":"b"}` || dg != "d2" {
			t.Fatalf("an unlabelled project's bundle %s %s, %v; want the replacement", b, dg, err)
		}
	}
}

// noNaN replaces the NaN of an unknown return by -1e9, which JSON can carry.
func noNaN(ps []store.Policy) []store.Policy {
	for i := range ps {
		if math.IsNaN(ps[i].LearnedReturn) {
			ps[i].LearnedReturn = -1e9
		}
		if math.IsNaN(ps[i].TrueReturn) {
			ps[i].TrueReturn = -1e9
		}
		if math.IsNaN(ps[i].KL) {
			ps[i].KL = -1e9
		}
	}
	return ps
}

// normalise turns v into plain JSON values with the times the stores stamp themselves removed.
func normalise(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	json.Unmarshal(b, &out)
	var strip func(any) any
	strip = func(x any) any {
		switch y := x.(type) {
		case map[string]any:
			for k, v := range y {
				switch k {
				case "CreatedAt", "ReceivedAt", "LastSeen", "Seq":
					delete(y, k)
				default:
					y[k] = strip(v)
				}
			}
		case []any:
			for i := range y {
				y[i] = strip(y[i])
			}
		}
		return x
	}
	return strip(out)
}

func TestTeacherSecret(t *testing.T) {
	d := openD1(t)
	scope, err := d.TeacherToken(ctx, hub.HashToken("pt_secret"))
	if err != nil || scope != "" {
		t.Fatalf("the secret: %q, %v", scope, err)
	}
	if _, err := d.TeacherToken(ctx, hub.HashToken("pt_other")); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("another token: %v", err)
	}
	if _, err := New(d.db, "").TeacherToken(ctx, hub.HashToken("")); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("no secret set must accept no token: %v", err)
	}
}

func TestPairsExist(t *testing.T) {
	d := openD1(t)
	pid := uuid.NewString()
	if err := d.CreateProject(ctx, &store.Project{ID: pid, Env: "CartPole-v1", Settings: store.DefaultSettings(), JoinCode: "J1"}); err != nil {
		t.Fatal(err)
	}
	clips := []prefs.Clip{
		{ID: uuid.NewString(), Env: "CartPole-v1", StartState: []float64{0, 0, 0, 0}, Actions: [][]float64{{0}}},
		{ID: uuid.NewString(), Env: "CartPole-v1", StartState: []float64{0, 0, 0, 0}, Actions: [][]float64{{1}}},
	}
	pair := uuid.NewString()
	if err := d.AddClipsAndPairs(ctx, pid, clips, []store.NewPair{{ID: pair, Left: clips[0].ID, Right: clips[1].ID}}, false); err != nil {
		t.Fatal(err)
	}
	got, err := d.PairsExist(ctx, pid, []string{pair, uuid.NewString()})
	if err != nil || len(got) != 1 || !got[pair] {
		t.Fatalf("PairsExist: %v, %v", got, err)
	}
	if got, _ := d.PairsExist(ctx, uuid.NewString(), []string{pair}); len(got) != 0 {
		t.Fatalf("a pair of another project: %v", got)
	}
}

var _ hub.PairLister = (*Store)(nil)

// TestPairRatersOnePerRater: on both stores, a rater's second request on a pair in the same
// millisecond (its re-send and a new label) does not count the rater twice, and labels
// refused for the cap count no one (store's TestPairRatersOnePerRater has the native cases).
func TestPairRatersOnePerRater(t *testing.T) {
	for i, s := range []both{openNative(t), openD1(t)} {
		name := []string{"native", "d1"}[i]
		pid, ada, bob := uuid.NewString(), uuid.NewString(), uuid.NewString()
		if err := s.CreateProject(ctx, &store.Project{ID: pid, Env: "CartPole-v1", Settings: store.DefaultSettings(), JoinCode: "J1"}); err != nil {
			t.Fatal(err)
		}
		for _, r := range []string{ada, bob} {
			if err := s.CreateRater(ctx, &store.Rater{ID: r, ProjectID: pid, Name: r}, "hash-"+r); err != nil {
				t.Fatal(err)
			}
		}
		clips := []prefs.Clip{
			{ID: uuid.NewString(), Env: "CartPole-v1", StartState: []float64{0, 0, 0, 0}, Actions: [][]float64{{0}}},
			{ID: uuid.NewString(), Env: "CartPole-v1", StartState: []float64{0, 0, 0, 0}, Actions: [][]float64{{1}}},
		}
		p1, p2 := uuid.NewString(), uuid.NewString()
		if err := s.AddClipsAndPairs(ctx, pid, clips, []store.NewPair{{ID: p1, Left: clips[0].ID, Right: clips[1].ID},
			{ID: p2, Left: clips[1].ID, Right: clips[0].ID}}, false); err != nil {
			t.Fatal(err)
		}
		now := time.UnixMilli(1_800_000_000_000)
		label := func(pair string) prefs.Comparison {
			return prefs.Comparison{ID: uuid.NewString(), PairID: pair, Choice: prefs.Left, CreatedAt: now.Add(-time.Minute), ResponseMS: 900}
		}
		first := label(p1)
		calls := []struct {
			rater string
			cs    []prefs.Comparison
			max   int
		}{
			{ada, []prefs.Comparison{first}, 0},
			{ada, []prefs.Comparison{first, label(p1)}, 0},     // the same millisecond
			{bob, []prefs.Comparison{label(p2), label(p1)}, 1}, // p1's label is over the cap
		}
		for _, c := range calls {
			if _, err := s.AddComparisonsCapped(ctx, pid, c.rater, c.cs, now, c.max); err != nil {
				t.Fatal(err)
			}
		}
		// p1: Ada only; p2: Bob only.
		if l, full, err := s.PairCoverage(ctx, pid, 2); err != nil || l != 2 || full != 0 {
			t.Fatalf("%s: coverage at overlap 2: %d labelled, %d full, %v; want 2, 0", name, l, full, err)
		}
	}
}
