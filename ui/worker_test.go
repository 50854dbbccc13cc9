package ui

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/prefer-rlhf/prefer/core/prefs"
	"github.com/prefer-rlhf/prefer/wasm/fitter"
)

// initFitter records what Init was given.
type initFitter struct{ local []byte }

func (f *initFitter) Init(_ []*Label, _, local []byte)  { f.local = local }
func (f *initFitter) AddLabel(*Label)                   {}
func (f *initFitter) SetGlobal([]byte)                  {}
func (f *initFitter) RequestUpdate()                    {}
func (f *initFitter) Score(seq int, clips []prefs.Clip) {}

// TestLocalModelKeptAsSent: the worker's local model, which the page keeps without decoding it,
// comes back whole to the worker of the next page load; a message that only looks like one is
// not kept.
func TestLocalModelKeptAsSent(t *testing.T) {
	h := &fakeHub{stored: map[string]prefs.Comparison{}, pairs: testPairs(4)}
	st := NewMemStore()
	a := newTestApp(st, h)
	joinAndFill(t, a, h)
	want := fitter.Local{Base: 3, Model: bytes.Repeat([]byte{0, 1, 2, 250, '"', '}'}, 100)}
	msg, err := json.Marshal(fitter.Out{Type: fitter.TypeLocal, Local: &want})
	if err != nil {
		t.Fatal(err)
	}
	a.FitterMessage(string(msg))
	a.FitterMessage(`{"type":"local","local":{"base":9`)  // cut short: not JSON
	a.FitterMessage(`{"type":"local","local":{"base":9}`) // cut short: the local model is not JSON

	f := &initFitter{}
	b := newTestApp(st, h)
	b.SetFitter(f)
	b.load("", "")
	var got fitter.Local
	if err := json.Unmarshal(f.local, &got); err != nil {
		t.Fatalf("the next load's local model %q: %v", f.local, err)
	}
	if got.Base != want.Base || !bytes.Equal(got.Model, want.Model) {
		t.Fatalf("the next load's local model is base %d, %d bytes; want base %d, %d bytes", got.Base, len(got.Model), want.Base, len(want.Model))
	}
}
