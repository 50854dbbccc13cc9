package ui

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/prefer-rlhf/prefer/core/prefs"
	"github.com/prefer-rlhf/prefer/wasm/fitter"
	"github.com/vugu/vugu"
)

// Views of the app.
const (
	ViewLoading = "loading"
	ViewJoin    = "join"
	ViewLabel   = "label"
)

// QueueTarget is how many pairs the app keeps prefetched on the device, so a rater can label
// for a long while with no network.
const QueueTarget = 100

// Rater is who labels on this device. It is stored on the device after joining, so the rater
// is remembered.
type Rater struct {
	ID        string `json:"rater_id"`
	Token     string `json:"token"`
	ProjectID string `json:"project_id"`
	Name      string `json:"name"`
	Code      string `json:"join_code"`
	// Participant is a crowd platform's id for the rater (Prolific's PROLIFIC_PID, MTurk's
	// workerId), from the join link; "" for a rater who joined with a name.
	Participant string `json:"participant,omitempty"`
}

// Settings are the rater's switches, stored on the device.
type Settings struct {
	// Private keeps labels on the device: only model updates (deltas against the global model,
	// with the label count) are sent. It applies to labels made while it is on.
	Private bool `json:"private"`
	// HidePrediction hides the local model's prediction entirely. When false, the prediction for
	// a pair is shown only after the rater has answered it, so it cannot anchor them.
	HidePrediction bool `json:"hide_prediction"`
	// Read identifies the instructions the rater has read (instrSum), so they open by
	// themselves only before the first pair and again when the teacher changes them.
	Read uint32 `json:"instructions_read,omitempty"`
}

// Label is one of the rater's comparisons as kept on the device: the comparison sent to the hub,
// the pair it answers (the local model trains on the clips), and where it stands.
type Label struct {
	prefs.Comparison
	Pair    prefs.Pair `json:"pair"`
	Private bool       `json:"private"` // made in private mode: never sent
	Synced  bool       `json:"synced"`  // the hub has acknowledged it (accepted or duplicate)
}

// Pair is a prefetched pair ready to show: the wire pair and both clips replayed to scenes.
type Pair struct {
	prefs.Pair
	Seq         int64      `json:"seq"` // arrival order, so the queue survives a reload in order
	left, right clipScenes // filled by prepare; not stored
	text        *textView  // a text pair decoded (textpair.go); not stored
}

// App is the whole state of the page. Components read it under the EventEnv's read lock while
// rendering; every change goes through update, which takes the write lock and asks for a render.
type App struct {
	env    vugu.EventEnv
	store  Store
	hub    Hub
	fitter Fitter
	now    func() time.Time

	View     string
	Rater    *Rater
	Settings Settings
	JoinCode string // prefilled from a join link
	// Participant is the crowd platform's participant id from the join link: the app joins
	// with it, asking for no name.
	Participant string
	JoinErr     string
	Joining     bool

	Queue    []*Pair  // prefetched pairs, Queue[0] is on screen
	Labels   []*Label // every label on this device, oldest first
	shownAt  time.Time
	labelled map[string]bool // pair ids already answered, so a re-sent pair is not shown again

	// NetDown: the last sync failed at the network (the hub did not answer), so the app is
	// offline even where the browser says it is online. Online() is what the status shows.
	NetDown bool
	// browserOnline reads the browser's own view of the network (navigator.onLine; set by
	// ListenNetwork), nil in tests: online.
	browserOnline func() bool

	SyncErr    string // why the last sync failed, when the hub answered with an error
	Warnings   []string
	ModelVer   int    // global model version held
	model      []byte // the global model as received (JSON), handed to the fitter
	LastChoice *Label
	Predicted  map[string]fitter.Prediction // pair id -> the local model's prediction before the answer
	Model      fitter.Stats                 // the local model, as last reported by the worker
	ModelBusy  bool                         // a refit is running
	ModelErr   string                       // the worker's last error
	Updates    int                          // model updates the hub took (private mode)
	AssistOff  bool                         // the teacher hides model predictions (project setting, from the last sync)
	sinceUpd   int                          // private labels since the last requested update

	Study Study // from the last sync: the cap, the instructions, the completion link
	Help  bool  // the instructions are on screen
	// saving counts labels made but not yet in Labels (saveLabel runs after the answer), so
	// the cap holds for a rater quicker than the device's storage.
	saving int

	// text is the text project's bundle (textpair.go), nil for a clip project or until it
	// has arrived; textBusy while it is being fetched.
	text     *textBundle
	textBusy bool
	// switching: the clip build is reloading the page into the full build (fullswitch.go).
	switching bool
	// Try is the Try-it box (tryit.go). policy is the text project's policy it samples from,
	// nil until fetched or read from the device (the stored one is decoded after the first
	// pair shows); policyBusy while either runs. PolicyWant is the newest policy version the
	// last sync announced. firstText: the first text pair's paint was marked. tryUI is the
	// box's elements (MountTryIt).
	Try        TryState
	tryUI      *tryDOM
	policy     *heldPolicy
	policyBusy bool
	PolicyWant int
	firstText  bool

	Player *Player
	// RedTeam is red-team mode's state (redteam.go), nil before it first opens; RedPlayer
	// shows its clip.
	RedTeam   *RedTeam
	RedPlayer *Player

	// AfterJoin, if set, runs once the rater has joined (the page drops the join link from
	// the address bar).
	AfterJoin func()

	RetryIn       time.Duration   // delay before the next sync attempt
	Failures      int             // consecutive failed syncs
	wakeNow       bool            // sync now even while backing off
	pendingUpdate json.RawMessage // a model update waiting to be sent (private mode)

	kick      chan struct{} // wakes the sync loop
	renderMu  sync.Mutex
	renderDue bool // a background render is scheduled (renderLater)
	// mu serialises the store writes made from goroutines (a sync's answer, settings, the local
	// model, the text bundle, the policy). A label's write begins in the answer's task instead
	// (Choose), and IndexedDB commits writes in the order they began.
	mu sync.Mutex
}

// NewApp returns an App over the given browser services. now may be nil (time.Now).
func NewApp(env vugu.EventEnv, store Store, hub Hub, fit Fitter, now func() time.Time) *App {
	if now == nil {
		now = time.Now
	}
	a := &App{env: env, store: store, hub: hub, fitter: fit, now: now, View: ViewLoading,
		labelled: map[string]bool{}, Predicted: map[string]fitter.Prediction{}, kick: make(chan struct{}, 1),
		Player: NewPlayer(), RedPlayer: NewPlayer()}
	a.Model.Accuracy, a.Model.Agreement = -1, -1
	return a
}

// Loaded reports whether what is stored on the device has been read and the first view
// chosen.
func (a *App) Loaded() bool {
	var v string
	a.read(func() { v = a.View })
	return v != ViewLoading
}

// Online reports whether the app can reach the hub as far as it knows: the browser says it is
// online and the last sync did not fail at the network. The browser's word is read now, not
// remembered from its last online or offline event: an event is lost when it fires before the
// app listens, and overwritten when a sync sent before the network went away is answered after
// the event (the answer proves the hub was reachable, not that it still is). Call it under a
// lock.
func (a *App) Online() bool {
	return !a.NetDown && (a.browserOnline == nil || a.browserOnline())
}

// SetFitter sets the local model's worker. Call it before Start.
func (a *App) SetFitter(f Fitter) { a.fitter = f }

// Warn shows a warning.
func (a *App) Warn(msg string) { a.update(func() { a.warn(msg) }) }

// update runs f under the write lock and then asks for a render.
func (a *App) update(f func()) {
	a.env.Lock()
	defer a.env.UnlockRender()
	f()
}

// backgroundRender is how long a render asked for by a background message (the model's
// worker, a sync's answer) waits for others to join it. While a rater labels, every answer
// brings a prediction, a fitted model, idle refits and a sync or two, each of which rendered the
// whole page (about 100 renders in 16 labels, TestBrowserNoLongTasks); a render takes 10-15 ms
// of the page's thread, 40-70 ms when fits share its core. The rater's own actions still
// render at once.
const backgroundRender = 150 * time.Millisecond

// later runs f under the write lock and renders within backgroundRender (renderLater). Call it
// from a goroutine.
func (a *App) later(f func()) {
	a.quietly(f)
	a.renderLater()
}

// renderLater renders within backgroundRender, together with any other background change made
// meanwhile.
func (a *App) renderLater() {
	a.renderMu.Lock()
	due := a.renderDue
	a.renderDue = true
	a.renderMu.Unlock()
	if due {
		return
	}
	time.AfterFunc(backgroundRender, func() {
		a.renderMu.Lock()
		a.renderDue = false
		a.renderMu.Unlock()
		a.update(func() {})
	})
}

// quietly runs f under the write lock without a render, for state the page does not show.
func (a *App) quietly(f func()) {
	a.env.Lock()
	defer a.env.UnlockOnly()
	f()
}

// read runs f under the read lock.
func (a *App) read(f func()) {
	a.env.RLock()
	defer a.env.RUnlock()
	f()
}

// warn adds a visible warning (kept to the last few). Call it under the write lock.
func (a *App) warn(msg string) {
	a.Warnings = append(a.Warnings, msg)
	if len(a.Warnings) > 4 {
		a.Warnings = a.Warnings[len(a.Warnings)-4:]
	}
}

// Current returns the pair on screen, or nil when the queue is empty. Call it under a lock.
func (a *App) Current() *Pair {
	if len(a.Queue) == 0 {
		return nil
	}
	return a.Queue[0]
}

// Pending returns the number of labels waiting to sync: stored on the device, not private, not
// yet acknowledged. Call it under a lock.
func (a *App) Pending() int {
	n := 0
	for _, l := range a.Labels {
		if !l.Synced && !l.Private {
			n++
		}
	}
	return n
}

// PrivateCount returns the number of labels kept only on this device.
func (a *App) PrivateCount() int {
	n := 0
	for _, l := range a.Labels {
		if l.Private {
			n++
		}
	}
	return n
}

// Choose records the rater's answer to the pair on screen and shows the next pair at once.
// The label's write to the device begins in the answer's own task, so a page reloaded or closed
// right after the answer still keeps it (a write begun in a later task, after a timer or behind
// another write, was lost then, and the answered pair came back after the reload); it counts as
// waiting to sync (and the sync loop is woken) only once it is stored, so closing the tab never
// loses a counted label. Call it under the write lock (from an event handler).
func (a *App) Choose(c prefs.Choice) {
	p := a.Current()
	if p == nil || a.View != ViewLabel || a.Help || a.AtCap() || a.WaitingText() {
		return // nothing to answer, or a text pair not yet readable
	}
	now := a.now()
	ms := now.Sub(a.shownAt).Milliseconds()
	if ms < 0 || a.shownAt.IsZero() {
		ms = 0
	}
	if ms > prefs.MaxResponseMS {
		ms = prefs.MaxResponseMS
	}
	l := &Label{
		Comparison: prefs.Comparison{ID: prefs.NewUUID(time.Now()), PairID: p.ID, Choice: c,
			CreatedAt: now.UTC().Truncate(time.Millisecond), ResponseMS: ms},
		Pair: p.Pair, Private: a.Settings.Private,
	}
	a.Queue = a.Queue[1:]
	a.labelled[p.ID] = true
	if l.Private {
		a.sinceUpd++
	} else {
		a.saving++
	}
	a.LastChoice = l
	wait := a.beginLabel(l)
	a.showCurrent()
	go a.saveLabel(l, wait)
}

// beginLabel begins the write of a new label and the drop of its pair from the stored queue,
// in one transaction; wait waits until it commits.
func (a *App) beginLabel(l *Label) (wait func() error) {
	defer TraceEnd("begin label", TraceStart())
	op, err := put(StoreLabels, l.ID, l)
	if err != nil {
		return func() error { return err }
	}
	return a.store.Begin(op, del(StorePairs, l.PairID))
}

// saveLabel waits until a new label is stored (beginLabel's wait), then counts it and hands it
// to the local model. Waiting hands the thread back, so the answer's task (the render of the
// next pair) ends first.
func (a *App) saveLabel(l *Label, wait func() error) {
	err := wait()
	a.update(func() {
		if err != nil {
			a.warn("Could not save a label on this device: " + err.Error())
		}
		// Counted even if the store failed, so it still syncs while the page is open.
		a.Labels = append(a.Labels, l)
		if !l.Private {
			a.saving--
		}
	})
	if a.fitter != nil {
		a.update(func() { a.ModelBusy = true })
		a.fitter.AddLabel(l)
	}
	a.Kick()
}

// showCurrent starts playing the pair on screen. A pair whose clips cannot be replayed is
// skipped with a warning. Call it under the write lock.
func (a *App) showCurrent() {
	for len(a.Queue) > 0 {
		p := a.Queue[0]
		err := a.prepare(p)
		if err == nil {
			break
		}
		if err == errNoTokenizer {
			a.needText() // the pair shows once its project's bundle arrives
			break
		}
		a.Queue = a.Queue[1:]
		a.warn("Skipped a pair that could not be replayed (" + err.Error() + ").")
		go a.store.Write(del(StorePairs, p.ID))
	}
	a.shownAt = a.now()
	a.Player.Load(a.Current())
	if len(a.Queue) > 1 && a.Queue[1].left.scenes == nil && a.Queue[1].text == nil {
		go a.prepareNext()
	}
}

// prepareNext replays the next pair's clips in a task of its own, so the next answer shows it
// at once.
func (a *App) prepareNext() {
	time.Sleep(20 * time.Millisecond)
	defer TraceEnd("prepare next", TraceStart())
	a.quietly(func() {
		if len(a.Queue) > 1 {
			a.prepare(a.Queue[1]) // an error shows when the pair comes on screen
		}
	})
}

// Kick wakes the sync loop.
func (a *App) Kick() {
	select {
	case a.kick <- struct{}{}:
	default:
	}
}

// Start loads what is on the device and runs the sync loop until ctx is done. Run it in its own
// goroutine. joinCode and participant come from a join link; either may be "".
func (a *App) Start(ctx context.Context, joinCode, participant string) {
	a.load(joinCode, participant)
	a.syncLoop(ctx)
}
