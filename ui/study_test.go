package ui

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/prefer-rlhf/prefer/core/prefs"
)

// TestQuotaHoldsOffline: the app learns the cap from a sync and stops offering pairs at it
// with no network, counting its unsynced labels on top of the hub's; at the cap it asks for no
// pairs, and the thank-you screen links to the completion URL once every label is sent.
func TestQuotaHoldsOffline(t *testing.T) {
	h := &fakeHub{stored: map[string]prefs.Comparison{}, pairs: testPairs(20),
		study: ProjectStatus{MaxLabelsPerRater: 5, CompletionURL: "https://app.prolific.com/submissions/complete?cc=C0DE"}}
	st := NewMemStore()
	a := newTestApp(st, h)
	joinAndFill(t, a, h)
	label(t, a, 2, prefs.Left)
	if _, err := a.syncOnce(); err != nil {
		t.Fatal(err)
	}
	if a.Study.HubLabels != 2 || a.Left() != 3 {
		t.Fatalf("after 2 synced labels of 5: hub %d, left %d", a.Study.HubLabels, a.Left())
	}

	h.offline = true
	label(t, a, 3, prefs.Right)
	if !a.AtCap() || a.Pending() != 3 {
		t.Fatalf("at 2 synced + 3 waiting of 5: at cap %v, pending %d", a.AtCap(), a.Pending())
	}
	onScreen := a.Current()
	a.update(func() { a.Choose(prefs.Left) })
	if a.Current() != onScreen || a.LastChoice.PairID == onScreen.ID {
		t.Fatal("the app took a label past the cap")
	}
	if !rendersIn(a, &Notice{App: a}, "id", "done") || rendersIn(a, &Notice{App: a}, "id", "complete") {
		t.Fatal("at the cap with labels waiting: want the thank-you screen without the completion link")
	}

	// The cap holds across a reload offline.
	b := newTestApp(st, h)
	b.load("", "")
	if !b.AtCap() {
		t.Fatalf("after a reload: left %d, want 0", b.Left())
	}

	h.offline = false
	if _, err := b.syncOnce(); err != nil {
		t.Fatal(err)
	}
	if len(h.stored) != 5 || b.Pending() != 0 || !b.AtCap() {
		t.Fatalf("after syncing: %d on the hub, %d pending, at cap %v", len(h.stored), b.Pending(), b.AtCap())
	}
	if _, err := b.syncOnce(); err != nil || h.lastWant != 0 {
		t.Fatalf("a sync at the cap asked for %d pairs (%v)", h.lastWant, err)
	}
	if !rendersIn(b, &Notice{App: b}, "href", h.study.CompletionURL) {
		t.Fatal("the thank-you screen does not link to the completion URL")
	}
	if got := b.CompletionHost(); got != "app.prolific.com" {
		t.Errorf("completion host %q", got)
	}
}

// TestQuotaRejectionIsFinal: labels the hub refuses as over the cap (made on two devices) are
// not sent again and do not count as waiting; the rater is told, not alarmed.
func TestQuotaRejectionIsFinal(t *testing.T) {
	h := &fakeHub{stored: map[string]prefs.Comparison{}, pairs: testPairs(12), study: ProjectStatus{MaxLabelsPerRater: 4}}
	a := newTestApp(NewMemStore(), h)
	joinAndFill(t, a, h)
	// Another device of the same rater has given 3 labels the app has not heard of.
	for _, id := range []string{"x1", "x2", "x3"} {
		h.stored[id] = prefs.Comparison{ID: id}
	}
	label(t, a, 3, prefs.Left)
	if _, err := a.syncOnce(); err != nil {
		t.Fatal(err)
	}
	if len(h.stored) != 4 || a.Pending() != 0 || !a.AtCap() {
		t.Fatalf("%d on the hub, %d pending, at cap %v; want 4, 0, true", len(h.stored), a.Pending(), a.AtCap())
	}
	calls := h.calls
	if more, err := a.syncOnce(); err != nil || more {
		t.Fatalf("a sync at the cap: more %v, err %v", more, err)
	}
	if h.calls != calls+1 || len(h.stored) != 4 {
		t.Fatal("the refused labels were sent again")
	}
	if len(a.Warnings) != 1 || !strings.Contains(a.Warnings[0], "2 labels were past your limit") {
		t.Fatalf("warnings %q", a.Warnings)
	}
}

// TestInstructionsBeforeTheFirstPair: a project's instructions open before the first pair and
// take no answers; once read they stay closed across a reload, the help key opens them again,
// and changed instructions open by themselves.
func TestInstructionsBeforeTheFirstPair(t *testing.T) {
	text := "Pick the clip where the pole stays up.\n\nIf you cannot tell, say so."
	h := &fakeHub{stored: map[string]prefs.Comparison{}, pairs: testPairs(6), study: ProjectStatus{Instructions: text}}
	st := NewMemStore()
	a := newTestApp(st, h)
	joinAndFill(t, a, h)
	if !a.Help {
		t.Fatal("the instructions are not shown before the first pair")
	}
	if got := Paragraphs(text); !reflect.DeepEqual(got, []string{"Pick the clip where the pole stays up.", "If you cannot tell, say so."}) {
		t.Fatalf("paragraphs %q", got)
	}
	if !rendersIn(a, &Notice{App: a}, "id", "instructions") {
		t.Fatal("the notice does not render the instructions")
	}
	a.update(func() { a.Choose(prefs.Left) })
	if a.LastChoice != nil {
		t.Fatal("an answer was taken behind the instructions")
	}
	a.update(a.StartLabelling)
	label(t, a, 1, prefs.Left)
	waitSaved(t, st, func(s Settings) bool { return s.Read == instrSum(text) })

	b := newTestApp(st, h)
	b.load("", "")
	if _, err := b.syncOnce(); err != nil {
		t.Fatal(err)
	}
	if b.Help {
		t.Fatal("instructions already read open again after a reload")
	}
	b.update(b.ToggleHelp)
	if !b.Help {
		t.Fatal("the help key does not open the instructions")
	}
	b.update(b.ToggleHelp)
	h.study.Instructions = text + "\n\nNew: watch the cart too."
	if _, err := b.syncOnce(); err != nil {
		t.Fatal(err)
	}
	if !b.Help {
		t.Fatal("changed instructions do not open by themselves")
	}
}

// waitSaved waits until the stored settings satisfy ok (settings are written in the background).
func waitSaved(t *testing.T, st *MemStore, ok func(Settings) bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		var s Settings
		if r, _ := st.Get(StoreMeta, metaSettings); r != nil && open(*r, &s) == nil && ok(s) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("settings not saved")
		}
	}
}

// TestParticipantLinkJoinsOnce: a join link with a participant id joins at once, asking for no
// name, and a reload (with or without the link) keeps that rater instead of joining again.
func TestParticipantLinkJoinsOnce(t *testing.T) {
	h := &fakeHub{stored: map[string]prefs.Comparison{}, pairs: testPairs(4)}
	st := NewMemStore()
	a := newTestApp(st, h)
	a.load("CODE", "abc")
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		var v string
		a.read(func() { v = a.View })
		if v == ViewLabel {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not joined: view %q, error %q", v, a.JoinErr)
		}
	}
	if !reflect.DeepEqual(h.joins, []string{"abc"}) || a.Rater.Participant != "abc" {
		t.Fatalf("joins %q, rater %+v", h.joins, a.Rater)
	}
	for _, link := range [][2]string{{"", ""}, {"CODE", "abc"}} {
		b := newTestApp(st, h)
		b.load(link[0], link[1])
		if b.View != ViewLabel || b.Joining || len(h.joins) != 1 {
			t.Fatalf("reload with link %q: view %q, joins %q", link, b.View, h.joins)
		}
	}
	// Another participant on the same device joins as themselves, asked for no name.
	c := newTestApp(st, h)
	c.load("CODE", "xyz")
	if c.View != ViewJoin || !c.Joining {
		t.Fatalf("a new participant: view %q, joining %v", c.View, c.Joining)
	}
	if rendersIn(c, &Join{App: c}, "id", "join-name") {
		t.Error("the join form asks a participant for a name")
	}
	if d := newTestApp(NewMemStore(), h); !rendersIn(d, &Join{App: d}, "id", "join-name") {
		t.Error("the join form asks a student for no name")
	}
}
