package hub

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/prefer-rlhf/prefer/core/prefs"
	"github.com/prefer-rlhf/prefer/core/wire"
	"github.com/prefer-rlhf/prefer/server/store"
)

// TestClientRoundTrip drives the hub through Client: join, sync a label, read it back as the
// trainer does, and get the hub's error body back as *Error with its field.
func TestClientRoundTrip(t *testing.T) {
	e := newEnv(t, Config{})
	ctx := context.Background()
	anon := NewClient(e.srv.URL, "")
	jr, err := anon.Join(ctx, wire.JoinRequest{JoinCode: e.code, Name: "Grace"})
	if err != nil || jr.ProjectID != e.pid || jr.Token == "" {
		t.Fatalf("join: %+v %v", jr, err)
	}
	rater := NewClient(e.srv.URL, jr.Token)
	res, err := rater.Sync(ctx, e.pid, wire.SyncRequest[prefs.Comparison]{WantPairs: 10})
	if err != nil || len(res.Pairs) != len(e.pairs) {
		t.Fatalf("sync: %d pairs, %v", len(res.Pairs), err)
	}
	if res.Pairs[0].Left.Env != "CartPole-v1" {
		t.Fatalf("pair's clip not decoded: %+v", res.Pairs[0])
	}
	label := prefs.Comparison{ID: "0190b8a4-0000-7000-8000-000000000001", PairID: res.Pairs[0].ID, Choice: prefs.Left,
		CreatedAt: time.Now().UTC(), ResponseMS: 900}
	res, err = rater.Sync(ctx, e.pid, wire.SyncRequest[prefs.Comparison]{Comparisons: []prefs.Comparison{label}})
	if err != nil || len(res.Accepted) != 1 {
		t.Fatalf("sync a label: %+v %v", res, err)
	}
	teacher := NewClient(e.srv.URL, e.teacher)
	labels, err := teacher.Labels(ctx, e.pid, 0, false)
	if err != nil || len(labels) != 1 || labels[0].ID != label.ID || labels[0].Choice != prefs.Left {
		t.Fatalf("trainer labels: %+v %v", labels, err)
	}
	rows, err := teacher.Export(ctx, e.pid)
	if err != nil || len(rows) != 1 || rows[0].ID != label.ID || rows[0].Left.Env != "CartPole-v1" {
		t.Fatalf("export: %+v %v", rows, err)
	}
	// A teacher-only call with a rater token is a 403 with the hub's error body.
	_, err = rater.Projects(ctx)
	var he *Error
	if !errors.As(err, &he) || he.Status != 403 || he.Code != "forbidden" {
		t.Fatalf("rater listing projects: %v, want 403 forbidden", err)
	}
	// A bad setting names its field.
	_, err = teacher.PatchSettings(ctx, e.pid, map[string]any{"overlap": 0})
	if !errors.As(err, &he) || he.Status != 400 || he.Field != "overlap" {
		t.Fatalf("overlap 0: %v, want 400 naming overlap", err)
	}
	if _, _, err := teacher.Checkpoint(ctx, e.pid); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("checkpoint before any round: %v, want store.ErrNotFound", err)
	}
}
