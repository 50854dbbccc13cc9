package ui

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"time"

	"github.com/prefer-rlhf/prefer/core/prefs"
	"github.com/prefer-rlhf/prefer/core/wire"
)

// Sync timing.
const (
	maxBatch     = 200              // comparisons per sync request (the hub caps batches at ~500)
	maxWant      = 20               // pairs per sync request: decoding a big answer is one long task on the page
	pollEvery    = 30 * time.Second // sync this often when idle, for new pairs and models
	backoffBase  = 1 * time.Second  // first retry delay after a failure
	backoffLimit = 60 * time.Second // longest retry delay
)

// backoff returns the delay before retry number n (n >= 1) after consecutive failures:
// exponential with a random factor in [0.5, 1] so that a class of browsers coming back online
// together do not retry in lockstep, and never shorter than the hub's Retry-After.
func backoff(n int, retryAfter time.Duration, rnd float64) time.Duration {
	d := backoffLimit
	if n < 7 {
		d = min(backoffBase<<(n-1), backoffLimit)
	}
	d = time.Duration(float64(d) * (0.5 + rnd/2))
	return max(d, retryAfter)
}

// Wake asks for a sync now even while backing off, as when the browser comes back online.
func (a *App) Wake() {
	a.quietly(func() { a.wakeNow = true })
	a.Kick()
}

// syncLoop syncs whenever it is kicked (a new label), when woken, every pollEvery, and, after a
// failure, with exponential backoff. A kick during backoff waits for the backoff to end, so a
// rater labelling offline does not hammer the network.
func (a *App) syncLoop(ctx context.Context) {
	failures := 0
	timer := time.NewTimer(0)
	for {
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-a.kick:
			if failures > 0 && !a.takeWake() {
				continue
			}
		case <-timer.C:
		}
		timer.Stop()
		more, err := a.syncOnce()
		var next time.Duration
		switch {
		case err != nil:
			failures++
			var he *HubError
			ra := time.Duration(0)
			if errors.As(err, &he) {
				ra = he.RetryAfter
			}
			next = backoff(failures, ra, rand.Float64())
		case more:
			failures, next = 0, 0
		default:
			failures, next = 0, pollEvery
		}
		a.quietly(func() { a.RetryIn = next; a.Failures = failures })
		timer.Reset(next)
	}
}

func (a *App) takeWake() bool {
	var w bool
	a.quietly(func() { w, a.wakeNow = a.wakeNow, false })
	return w
}

// syncOnce sends one batch of waiting labels (and a pending model update in private mode),
// asks for enough pairs to refill the queue and for a newer global model, and applies the
// answer: acknowledged labels are marked synced on the device before they stop counting as
// waiting, so a label is only ever dropped from the outbox after the hub has committed it.
// more reports that labels are still waiting.
func (a *App) syncOnce() (more bool, err error) {
	var (
		r     *Rater
		batch []*Label
		req   SyncRequest
		upd   json.RawMessage
	)
	a.quietly(func() {
		r = a.Rater
		for _, l := range a.Labels {
			if !l.Synced && !l.Private {
				batch = append(batch, l)
				if len(batch) == maxBatch {
					break
				}
			}
		}
		want := QueueTarget
		if left := a.Left(); left >= 0 {
			want = min(want, left) // no pairs past the cap
		}
		req.WantPairs = min(maxWant, max(0, want-len(a.Queue)))
		for _, p := range a.Queue {
			if len(req.SkipPairs) == maxSkipPairs {
				break
			}
			req.SkipPairs = append(req.SkipPairs, p.ID)
		}
		req.HaveModelVersion = a.ModelVer
		upd, a.pendingUpdate = a.pendingUpdate, nil
	})
	if r == nil {
		return false, nil
	}
	req.Comparisons = make([]prefs.Comparison, len(batch))
	for i, l := range batch {
		req.Comparisons[i] = l.Comparison
	}
	req.ModelUpdate = upd
	resp, err := a.hub.Sync(r, &req)
	if err != nil {
		a.update(func() {
			if a.pendingUpdate == nil {
				a.pendingUpdate = upd // retry it unless a newer one replaced it
			}
			if errors.Is(err, ErrNetwork) {
				a.NetDown, a.SyncErr = true, ""
				return
			}
			a.NetDown, a.SyncErr = false, syncErrText(err)
		})
		return false, err
	}

	done := map[string]bool{}
	for _, id := range resp.Accepted {
		done[id] = true
	}
	for _, id := range resp.Duplicates {
		done[id] = true
	}
	// A rejection is final: the hub will refuse the label again, so it is not sent again. One
	// over the cap (field quota: the rater labelled on another device too) is the expected end
	// of a crowd rater's work, not a fault.
	rejected := map[string]Rejection{}
	overCap := 0
	for _, rj := range resp.Rejected {
		if rj.Field == wire.QuotaField {
			overCap++
		} else {
			rejected[rj.ID] = rj
		}
		done[rj.ID] = true
	}
	var ops []Op
	for _, l := range batch {
		if done[l.ID] {
			c := *l
			c.Synced = true
			op, err := put(StoreLabels, c.ID, &c)
			if err == nil {
				ops = append(ops, op)
			}
		}
	}
	defer TraceEnd("apply sync", TraceStart())
	var fresh []*Pair
	var haveModel bool
	a.read(func() {
		seen := map[string]bool{}
		for _, p := range a.Queue {
			seen[p.ID] = true
		}
		seq := a.now().UnixNano()
		for i := range resp.Pairs {
			p := resp.Pairs[i]
			if seen[p.ID] || a.labelled[p.ID] || p.ID == "" || p.Left.Validate() != nil || p.Right.Validate() != nil {
				continue
			}
			seen[p.ID] = true
			fresh = append(fresh, &Pair{Pair: p, Seq: seq + int64(i)})
		}
	})
	for _, p := range fresh {
		if op, err := put(StorePairs, p.ID, p); err == nil {
			ops = append(ops, op)
		}
	}
	ps := resp.Project
	study := Study{Cap: ps.MaxLabelsPerRater, HubLabels: ps.Labels, CompletionURL: ps.CompletionURL, Instructions: ps.Instructions}
	if op, err := put(StoreMeta, metaStudy, study); err == nil {
		ops = append(ops, op)
	}
	if len(resp.Model) > 0 && string(resp.Model) != "null" {
		haveModel = true
		if op, err := put(StoreMeta, metaGlobal, resp.Model); err == nil {
			ops = append(ops, op)
		}
	}
	a.mu.Lock()
	werr := a.store.Write(ops...)
	a.mu.Unlock()

	shown := false // the answer brought the pair to show: render it now, not later
	a.quietly(func() {
		a.NetDown, a.SyncErr = false, ""
		if werr != nil {
			a.warn("Could not save the sync result on this device: " + werr.Error())
		}
		for _, l := range batch {
			if done[l.ID] {
				l.Synced = true
			}
		}
		if n := len(rejected); n > 0 {
			for _, rj := range rejected {
				a.warn("The hub refused " + plural(n, "label", "labels") + " (" + rj.Field + ": " + rj.Reason + ").")
				break
			}
		}
		if overCap > 0 {
			a.warn(plural(overCap, "label was", "labels were") + " past your limit and not kept.")
		}
		a.setStudy(study)
		if v := resp.ModelUpdate; upd != nil && v != nil {
			switch v.Status {
			case "accepted", "duplicate":
				a.Updates++
			default:
				a.warn("The hub refused this device's model update: " + v.Reason)
			}
		}
		a.AssistOff = resp.Project.HideModelPredictions
		if a.AssistOff {
			a.CloseRedTeam() // r̂ is model assistance
		}
		wasEmpty := len(a.Queue) == 0
		a.Queue = append(a.Queue, fresh...)
		if wasEmpty && len(fresh) > 0 {
			a.showCurrent()
			shown = true
		}
		if a.WaitingText() {
			a.needText()
		}
		a.PolicyWant = resp.Project.PolicyVersion
		a.needPolicy()
		if haveModel {
			a.model = resp.Model
			a.ModelVer = modelVersion(resp.Model)
		}
		// Go on at once while labels wait and the hub takes them, or while the queue is short
		// and the hub still has pairs to give.
		more = a.Pending() > 0 && len(done) > 0 ||
			req.WantPairs > 0 && len(resp.Pairs) == req.WantPairs && len(a.Queue) < QueueTarget
	})
	if shown {
		a.update(func() {})
	} else {
		a.renderLater()
	}
	if haveModel && a.fitter != nil {
		a.fitter.SetGlobal(resp.Model)
	}
	return more, nil
}

// syncErrText words a hub error for the rater.
func syncErrText(err error) string {
	var he *HubError
	if errors.As(err, &he) {
		switch {
		case he.Status == 401 || he.Status == 403:
			return "The hub refused this device's sign-in; join again to keep syncing."
		case he.Status == 429:
			return "The hub is busy; retrying shortly."
		case he.Status >= 500:
			return "The hub had a problem; retrying."
		}
		if he.Message != "" {
			return "Sync failed: " + he.Message
		}
	}
	return "Sync failed: " + err.Error()
}
