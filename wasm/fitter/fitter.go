package fitter

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"time"

	"github.com/prefer-rlhf/prefer/core/env"
	"github.com/prefer-rlhf/prefer/core/merge"
	"github.com/prefer-rlhf/prefer/core/prefs"
	"github.com/prefer-rlhf/prefer/core/reward"
	"github.com/prefer-rlhf/prefer/core/text"
)

// IsText reports whether env names a text task (or a text behaviour's checker).
func IsText(env string) bool {
	_, ok := text.TaskOf(env)
	return ok
}

// Config holds the browser's fitting settings. The network's shape comes from the global model
// when there is one (a private update must have its shape), else from reward.Defaults.
type Config struct {
	// Batch is the minibatch size of an incremental Update. Smaller than the hub's, so that a
	// refit after one label stays far below a frame budget's worth of worker time.
	Batch int
	// UpdateSteps is the number of minibatch steps per incremental Update.
	UpdateSteps int
	// AgreeEvery recomputes agreement with the global model every so many labels, on the
	// most recent AgreeWindow labelled pairs (a forward pass over each clip of each).
	AgreeEvery, AgreeWindow int
	// SaveEvery sends the local model to the page to keep every so many labels.
	SaveEvery int
	// ValWindow is how many of the most recent held-out labels a refit validates on (L2
	// adaptation and the accuracy shown). The validation pass costs about as much as the
	// training steps, so an unbounded one would make a refit grow with the rater's label count.
	ValWindow int
	// ValEvery validates only every so many refits after a label (idle rounds always do), so
	// the refit a rater waits for is mostly training steps.
	ValEvery int
	// IdleRounds is how many extra Update rounds the worker runs while no message waits, so
	// the model keeps improving between labels at no cost to the refit after a label.
	IdleRounds int
	// NormSample is how many transitions set the output normalisation after a refit
	// (reward.Config.NormSample; the hub's 1024 would cost a third of a browser refit).
	NormSample int
	// Seed fixes the local model's initialisation and minibatches.
	Seed uint64
}

// DefaultConfig returns the browser's settings.
func DefaultConfig() Config {
	return Config{Batch: 8, UpdateSteps: 2, AgreeEvery: 5, AgreeWindow: 50, SaveEvery: 10, ValWindow: 32, ValEvery: 4, IdleRounds: 8, NormSample: 256, Seed: 1}
}

// own is one of the rater's labels as segments.
type own struct {
	left, right reward.Segment
	mu          float64 // 1 left, 0 right, 0.5 equal; NaN for can't tell
}

// Fitter is the local model and the labels it learns from. It is not safe for concurrent use:
// the worker handles one message at a time.
type Fitter struct {
	cfg    Config
	now    func() time.Time
	model  *reward.Model // nil until the first label with a preference (or a global model)
	fitted bool          // model has been fitted on data (Update needs a first Fit)
	base   int           // global version model started from; 0 from scratch
	data   reward.Dataset
	labels []own // every label, in order, for agreement
	shape  reward.Shape
	envOK  string // the env of the labels so far

	global       *reward.Model
	globalVer    int
	globalRaw    []byte    // the global's weights JSON, to start local models from
	globalParams []float64 // the global's parameters, members concatenated, for deltas

	lastStats Stats
	sinceSave int
	sinceAgr  int
	idle      int    // idle rounds left
	sinceVal  int    // refits after labels since the last validated one
	saved     *Local // the local model from the device, until the labels it needs arrive

	pool Pool // other workers for a full fit's members (pool.go); nil: fit here alone
	want int  // fit workers asked for (In.Workers); 0: as many as the pool has
}

// New returns an empty Fitter. With a pool, full fits spread the members over its workers.
func New(cfg Config, pool Pool) *Fitter {
	return &Fitter{cfg: cfg, now: time.Now, lastStats: Stats{Accuracy: -1, Agreement: -1}, pool: pool}
}

// Handle processes one message and returns the messages for the page.
func (f *Fitter) Handle(in In) (out []Out) {
	defer func() {
		if r := recover(); r != nil { // a bad message must not kill the worker
			out = append(out, Out{Type: TypeError, Message: "fitter: " + panicText(r)})
		}
	}()
	var err error
	switch in.Type {
	case TypeInit:
		out, err = f.init(in)
	case TypeAdd:
		for _, l := range in.Labels {
			if err := f.addLabel(l); err != nil {
				out = append(out, Out{Type: TypeError, Message: "label " + l.ID + ": " + err.Error()})
			}
		}
	case TypeFit:
		f.restoreLocal()
		if f.data.Len() == 0 {
			st := f.statsNow(0)
			return []Out{{Type: TypeFitted, Stats: &st}}
		}
		out, err = f.refit()
	case TypeLabel:
		out, err = f.label(in)
	case TypeGlobal:
		out, err = f.setGlobal(in.Global, true)
	case TypeUpdate:
		out, err = f.update()
	case TypeScore:
		out, err = f.score(in)
	default:
		err = errors.New("fitter: unknown message type " + strconv.Quote(in.Type))
	}
	if err != nil {
		out = append(out, Out{Type: TypeError, Message: err.Error()})
	}
	return out
}

func panicText(r any) string {
	if e, ok := r.(error); ok {
		return e.Error()
	}
	if s, ok := r.(string); ok {
		return s
	}
	return "internal error"
}

// init restarts on every label on the device: the saved local model if it still fits, else
// one started from the global model, else a fresh one; then one fit over all labels.
func (f *Fitter) init(in In) ([]Out, error) {
	*f = *New(f.cfg, f.pool)
	f.want = in.Workers
	var warn []Out
	if len(in.Global) > 0 && string(in.Global) != "null" {
		if _, err := f.setGlobal(in.Global, false); err != nil {
			warn = append(warn, Out{Type: TypeError, Message: err.Error()})
		}
	}
	for _, l := range in.Labels {
		if err := f.addLabel(l); err != nil {
			warn = append(warn, Out{Type: TypeError, Message: "label " + l.ID + ": " + err.Error()})
		}
	}
	f.saved = in.Local
	if len(in.Labels) == 0 {
		return warn, nil // labels follow in add messages, then a fit
	}
	f.restoreLocal()
	if f.data.Len() == 0 {
		st := f.statsNow(0)
		return append(warn, Out{Type: TypeFitted, Stats: &st}), nil
	}
	out, err := f.refit()
	return append(warn, out...), err
}

// restoreLocal takes the local model saved on the device, if it was started from the global
// version held and reads the labels' shape.
func (f *Fitter) restoreLocal() {
	l := f.saved
	f.saved = nil
	if f.model != nil || l == nil || len(l.Model) == 0 || l.Base != f.globalVer {
		return
	}
	var m reward.Model
	if err := m.UnmarshalBinary(l.Model); err == nil && m.Shape() == f.shape && f.compatible(&m) {
		f.model, f.base, f.fitted = &m, l.Base, true // go on from it with Update
	}
}

// compatible reports whether m has the global model's shape (or there is no global model).
func (f *Fitter) compatible(m *reward.Model) bool {
	if f.global == nil {
		return true
	}
	if m.Members() != f.global.Members() {
		return false
	}
	for i := 0; i < m.Members(); i++ {
		if len(m.Net(i).Params) != len(f.global.Net(i).Params) {
			return false
		}
	}
	return true
}

// label predicts the new label's pair with the model as it is, then refits on it.
func (f *Fitter) label(in In) ([]Out, error) {
	if len(in.Labels) != 1 {
		return nil, errors.New("fitter: a label message carries one label")
	}
	l := in.Labels[0]
	var out []Out
	left, err := segment(&l.Left)
	if err != nil {
		return nil, errors.New("fitter: left clip: " + err.Error())
	}
	right, err := segment(&l.Right)
	if err != nil {
		return nil, errors.New("fitter: right clip: " + err.Error())
	}
	if f.model != nil && f.fitted && f.model.Shape() == shapeOf(&l.Left) {
		p, s := f.model.Prefer(left, right)
		pr := &Prediction{PairID: l.PairID, PLeft: p, Spread: s}
		if IsText(l.Left.Env) {
			pr.Marks = textMarks(f.model, left, right)
		}
		out = append(out, Out{Type: TypePrediction, Prediction: pr})
	}
	if err := f.addSegments(l, left, right); err != nil {
		return out, err
	}
	if _, ok := l.Choice.Mu(); !ok {
		return out, nil // can't tell: nothing to learn
	}
	more, err := f.refit()
	return append(out, more...), err
}

// addLabel replays a label's clips and adds it.
func (f *Fitter) addLabel(l Label) error {
	left, err := segment(&l.Left)
	if err != nil {
		return err
	}
	right, err := segment(&l.Right)
	if err != nil {
		return err
	}
	return f.addSegments(l, left, right)
}

func (f *Fitter) addSegments(l Label, left, right reward.Segment) error {
	if !l.Choice.Valid() {
		return errors.New("fitter: bad choice")
	}
	if l.Left.Env != l.Right.Env || (f.envOK != "" && l.Left.Env != f.envOK) {
		return errors.New("fitter: labels of more than one env")
	}
	sh := shapeOf(&l.Left)
	if f.envOK == "" {
		f.envOK, f.shape = l.Left.Env, sh
	}
	mu, ok := l.Choice.Mu()
	if !ok {
		mu = math.NaN()
	}
	f.labels = append(f.labels, own{left: left, right: right, mu: mu})
	f.data.AddChoice(left, right, l.Choice)
	return nil
}

// refit fits the model on the data: a full Fit the first time, an incremental Update after.
func (f *Fitter) refit() ([]Out, error) {
	if len(f.data.Train) == 0 {
		st := f.statsNow(0)
		return []Out{{Type: TypeFitted, Stats: &st}}, nil
	}
	if f.model == nil {
		m, err := f.newModel()
		if err != nil {
			return nil, err
		}
		f.model = m
	}
	start := f.now()
	f.sinceVal++
	validate := f.sinceVal >= f.cfg.ValEvery || !f.fitted
	if validate {
		f.sinceVal = 0
	}
	st, err := f.fit(validate)
	if err != nil {
		return nil, err
	}
	ms := float64(f.now().Sub(start).Microseconds()) / 1000
	f.idle = f.cfg.IdleRounds
	_ = st
	f.sinceAgr++
	if f.sinceAgr >= f.cfg.AgreeEvery || f.lastStats.Agreement < 0 {
		f.agreement()
	}
	stats := f.statsNow(ms)
	out := []Out{{Type: TypeFitted, Stats: &stats}}
	f.sinceSave++
	if f.sinceSave >= f.cfg.SaveEvery {
		f.sinceSave = 0
		if b, err := f.model.MarshalBinary(); err == nil {
			out = append(out, Out{Type: TypeLocal, Local: &Local{Base: f.base, Model: b}})
		}
	}
	return out, nil
}

// fit runs a full Fit the first time and an incremental Update after, validating (when
// validate is set) on the most recent ValWindow held-out labels.
func (f *Fitter) fit(validate bool) (reward.Stats, error) {
	view := reward.Dataset{Train: f.data.Train}
	if validate {
		view.Val = f.data.Val[max(0, len(f.data.Val)-f.cfg.ValWindow):]
	}
	var st reward.Stats
	var err error
	if f.fitted || f.base > 0 {
		st, err = f.model.Update(&view)
	} else {
		st, f.lastStats.Workers, err = f.fitAll(&view, f.workers())
	}
	if err == nil {
		f.fitted = true
	}
	if err == nil && validate {
		f.lastStats.Accuracy, f.lastStats.Heldout = -1, 0
		if !math.IsNaN(st.ValAccuracy) {
			f.lastStats.Accuracy = st.ValAccuracy
			f.lastStats.Heldout = strict(view.Val)
		}
	}
	return st, err
}

// workers is how many workers a full fit of f.model uses: as many as asked for, or with a
// pool (two cores or more) one per member, up to two per core. One per member rather than
// one per core: 3 members on 2 workers leave one worker fitting two members while the other
// core idles, whereas 3 workers on 2 cores share them evenly (T1 in chromium on 2 idle cores:
// 4.03 s on 2 workers, 3.03 s on 3; README).
func (f *Fitter) workers() int {
	if f.pool == nil {
		return 1
	}
	n := min(f.model.Members(), 2*f.pool.Size())
	if f.want > 0 {
		n = f.want
	}
	return max(1, min(n, f.model.Members()))
}

// fitAll is a full Fit on k workers; it returns the workers used. If the other workers fail,
// the members go back to where they started, the fit runs here alone (so the model is the
// same), and so do later ones.
func (f *Fitter) fitAll(d *reward.Dataset, k int) (reward.Stats, int, error) {
	if k > 1 {
		var start [][]byte
		for i := 0; i < f.model.Members(); i++ {
			st, err := f.model.MemberState(i)
			if err != nil {
				return reward.Stats{}, 0, err
			}
			start = append(start, st)
		}
		st, err := f.fitSplit(d, k)
		if err == nil {
			return st, k, nil
		}
		for i, b := range start {
			if err := f.model.SetMemberState(i, b); err != nil {
				return reward.Stats{}, 0, err
			}
		}
		f.pool = nil
	}
	st, err := f.model.Fit(d)
	return st, 1, err
}

// Idle runs one extra Update round if one is due and reports whether it did; the worker
// calls it while no message waits. The last round reports fresh stats.
func (f *Fitter) Idle() (did bool, out []Out) {
	if f.idle <= 0 || f.model == nil || !f.fitted || len(f.data.Train) == 0 {
		return false, nil
	}
	f.idle--
	if _, err := f.fit(true); err != nil {
		f.idle = 0
		return true, []Out{{Type: TypeError, Message: err.Error()}}
	}
	if f.idle > 0 {
		return true, nil
	}
	f.agreement()
	st := f.statsNow(f.lastStats.FitMS)
	return true, []Out{{Type: TypeFitted, Stats: &st}}
}

func (f *Fitter) statsNow(ms float64) Stats {
	s := f.lastStats
	s.Labels = f.data.Len()
	s.FitMS = ms
	f.lastStats.FitMS = ms
	s.Global = f.globalVer
	s.Base = f.base
	return s
}

// strict counts comparisons with a strict preference.
func strict(cs []reward.Comparison) int {
	n := 0
	for _, c := range cs {
		if c.Mu != 0.5 {
			n++
		}
	}
	return n
}

// newModel starts a model from the global one when there is one, else from scratch.
func (f *Fitter) newModel() (*reward.Model, error) {
	if f.global != nil && f.global.Shape() == f.shape {
		m, err := f.fromGlobal()
		if err == nil {
			f.base = f.globalVer
			return m, nil
		}
	}
	f.base = 0
	if IsText(f.envOK) {
		return reward.New(f.textConfig(), f.shape)
	}
	cfg := reward.Defaults()
	cfg.Batch, cfg.UpdateSteps, cfg.Parallel, cfg.Seed = f.cfg.Batch, f.cfg.UpdateSteps, false, f.cfg.Seed
	cfg.NormSample = f.cfg.NormSample
	if e, err := env.Lookup(f.envOK); err == nil {
		cfg.ObsScale = e.Spec().ObsScale // as the hub's trainer starts its models
		cfg.Features = reward.FeaturesFor(e.Spec().Action.Discrete())
	}
	f.base = 0
	return reward.New(cfg, f.shape)
}

// fromGlobal copies the global model with the browser's fit settings. The settings live in
// the model's stored form (core/reward's codec), so they are changed there.
func (f *Fitter) fromGlobal() (*reward.Model, error) {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(f.globalRaw, &doc); err != nil {
		return nil, err
	}
	var cfg map[string]json.RawMessage
	if err := json.Unmarshal(doc["config"], &cfg); err != nil {
		return nil, err
	}
	cfg["batch"] = json.RawMessage(strconv.Itoa(f.cfg.Batch))
	cfg["update_steps"] = json.RawMessage(strconv.Itoa(f.cfg.UpdateSteps))
	cfg["parallel"] = json.RawMessage("false")
	cfg["norm_sample"] = json.RawMessage(strconv.Itoa(f.cfg.NormSample))
	b, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	doc["config"] = b
	if b, err = json.Marshal(doc); err != nil {
		return nil, err
	}
	var m reward.Model
	if err := m.UnmarshalJSON(b); err != nil {
		return nil, err
	}
	return &m, nil
}

// hubModel is the hub's Model object (docs/api.md).
type hubModel struct {
	Version int             `json:"version"`
	Weights json.RawMessage `json:"weights"`
}

// setGlobal takes a new global model. When restart is set and its version is newer than the
// local model's base, the local model restarts from it and refits on the rater's labels: the
// client step of federated averaging (McMahan et al. 2017), so a private update is always a
// delta against a recent global version.
func (f *Fitter) setGlobal(raw json.RawMessage, restart bool) ([]Out, error) {
	var hm hubModel
	if err := json.Unmarshal(raw, &hm); err != nil {
		return nil, errors.New("fitter: bad global model: " + err.Error())
	}
	var g reward.Model
	if err := g.UnmarshalJSON(hm.Weights); err != nil {
		return nil, errors.New("fitter: bad global model weights: " + err.Error())
	}
	if hm.Version <= 0 {
		return nil, errors.New("fitter: global model without a version")
	}
	f.global, f.globalVer, f.globalRaw = &g, hm.Version, hm.Weights
	f.globalParams = reward.Params(&g)
	f.lastStats.Agreement = -1
	if !restart {
		return nil, nil
	}
	if f.data.Len() == 0 || f.shape != g.Shape() {
		st := f.statsNow(0)
		return []Out{{Type: TypeFitted, Stats: &st}}, nil
	}
	m, err := f.fromGlobal()
	if err != nil {
		return nil, err
	}
	f.model, f.base, f.fitted = m, hm.Version, true
	f.sinceSave = f.cfg.SaveEvery // keep the restarted model
	return f.refit()
}

// agreement measures how often the local and global models prefer the same side on the
// rater's most recent labelled pairs.
func (f *Fitter) agreement() {
	f.sinceAgr = 0
	if f.global == nil || f.model == nil || f.global.Shape() != f.shape {
		f.lastStats.Agreement, f.lastStats.Compared = -1, 0
		return
	}
	from := max(0, len(f.labels)-f.cfg.AgreeWindow)
	same, n := 0, 0
	for _, l := range f.labels[from:] {
		pl, _ := f.model.Prefer(l.left, l.right)
		pg, _ := f.global.Prefer(l.left, l.right)
		if (pl > 0.5) == (pg > 0.5) {
			same++
		}
		n++
	}
	if n == 0 {
		f.lastStats.Agreement, f.lastStats.Compared = -1, 0
		return
	}
	f.lastStats.Agreement, f.lastStats.Compared = float64(same)/float64(n), n
}

// update makes the private-mode model update: the local parameters minus the global
// version's it started from, with the number of labels (the FedAvg weight), as little-endian
// float32 in base64 (docs/api.md, model_update.delta_f32).
func (f *Fitter) update() ([]Out, error) {
	switch {
	case f.global == nil:
		return nil, errors.New("fitter: no global model yet to send an update against")
	case f.model == nil || !f.fitted || f.data.Len() == 0:
		return nil, errors.New("fitter: no labels to send an update for")
	case f.base != f.globalVer:
		// Restart from the newest global model first.
		if _, err := f.setGlobal(f.rawGlobal(), true); err != nil {
			return nil, err
		}
	}
	local := reward.Params(f.model)
	if len(local) != len(f.globalParams) {
		return nil, errors.New("fitter: the local model's shape differs from the global model's")
	}
	d := make([]float32, len(local))
	for i, v := range local {
		d[i] = float32(v - f.globalParams[i])
	}
	buf := merge.EncodeDelta(d)
	metrics := map[string]float64{}
	if f.lastStats.Accuracy >= 0 {
		metrics["reward/val_accuracy"] = f.lastStats.Accuracy
	}
	u := map[string]any{
		"id":           prefs.NewUUID(time.Now()),
		"base_version": f.base,
		"labels":       f.data.Len(),
		"delta_f32":    base64.StdEncoding.EncodeToString(buf),
		"metrics":      metrics,
	}
	b, err := json.Marshal(u)
	if err != nil {
		return nil, err
	}
	return []Out{{Type: TypeModelDelta, Update: b}}, nil
}

// rawGlobal rebuilds the hub's Model object from what is held.
func (f *Fitter) rawGlobal() json.RawMessage {
	b, _ := json.Marshal(hubModel{Version: f.globalVer, Weights: f.globalRaw})
	return b
}

// segment replays a clip into the transitions the model reads: o_t, a_t, o_{t+1}. A text
// clip's are its tokens' features (text.go).
func segment(c *prefs.Clip) (reward.Segment, error) {
	if IsText(c.Env) {
		return textSegment(c)
	}
	if err := c.Validate(); err != nil {
		return reward.Segment{}, err
	}
	obs, act, next, err := env.Transitions(c.Env, c.StartState, c.Actions)
	if err != nil {
		return reward.Segment{}, err
	}
	return reward.Segment{Len: len(c.Actions), Obs: obs, Act: act, Next: next}, nil
}

// shapeOf is the reward model's view of a clip's env.
func shapeOf(c *prefs.Clip) reward.Shape {
	if IsText(c.Env) {
		return textShape()
	}
	e, err := env.Lookup(c.Env)
	if err != nil {
		return reward.Shape{}
	}
	spec := e.Spec()
	return reward.Shape{ObsDim: spec.ObsDim, ActDim: spec.Action.Dim(), ActN: spec.Action.N}
}
