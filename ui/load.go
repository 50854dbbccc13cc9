package ui

import (
	"encoding/json"
	"sort"
	"strconv"
	"strings"
)

// load reads everything stored on the device, drops what does not check out (a record whose
// checksum fails, a label or pair that does not validate), shows a warning for what it dropped,
// and picks the first view. A join link's code (joinCode, may be empty) opens the join form
// unless this device has already joined with that code (and participant). A link with a
// participant id joins at once: a crowd rater is asked for no name.
func (a *App) load(joinCode, participant string) {
	t0 := TraceStart()
	snap, err := a.store.Load()
	TraceEnd("idb load", t0)
	defer TraceEnd("load", t0)
	var (
		drops         []Op
		damaged       int
		rater         *Rater
		settings      Settings
		study         Study
		global, local json.RawMessage
		bundle        *storedBundle
		labels        []*Label
		pairs         []*Pair
	)
	drop := func(store, key string) {
		damaged++
		drops = append(drops, del(store, key))
	}
	for _, r := range snap.Meta {
		switch r.Key {
		case metaRater:
			var x Rater
			if open(r, &x) != nil || x.Token == "" || !safeID(x.ProjectID) {
				drop(StoreMeta, r.Key)
				continue
			}
			rater = &x
		case metaSettings:
			if open(r, &settings) != nil {
				settings = Settings{}
				drop(StoreMeta, r.Key)
			}
		case metaStudy:
			if open(r, &study) != nil {
				study = Study{}
				drop(StoreMeta, r.Key)
			}
		case metaGlobal, metaLocal:
			var raw json.RawMessage
			if open(r, &raw) != nil {
				drop(StoreMeta, r.Key)
				continue
			}
			if r.Key == metaGlobal {
				global = raw
			} else {
				local = raw
			}
		case metaText:
			var x storedBundle
			if open(r, &x) != nil {
				drop(StoreMeta, r.Key)
				continue
			}
			bundle = &x
		default:
			drop(StoreMeta, r.Key)
		}
	}
	for _, r := range snap.Labels {
		var l Label
		if open(r, &l) != nil || l.ID != r.Key || l.Validate() != nil || l.Pair.ID != l.PairID ||
			l.Pair.Left.Validate() != nil || l.Pair.Right.Validate() != nil {
			drop(StoreLabels, r.Key)
			continue
		}
		labels = append(labels, &l)
	}
	for _, r := range snap.Pairs {
		var p Pair
		if open(r, &p) != nil || p.ID != r.Key || p.Left.Validate() != nil || p.Right.Validate() != nil {
			drop(StorePairs, r.Key)
			continue
		}
		pairs = append(pairs, &p)
	}
	sort.SliceStable(labels, func(i, j int) bool { return labels[i].CreatedAt.Before(labels[j].CreatedAt) })
	sort.SliceStable(pairs, func(i, j int) bool { return pairs[i].Seq < pairs[j].Seq })
	var text *textBundle
	if bundle != nil && rater != nil && bundle.Project == rater.ProjectID {
		var berr error
		if text, berr = loadBundle(bundle.Project, bundle.Bundle); berr != nil {
			drops = append(drops, del(StoreMeta, metaText)) // fetched again when a text pair needs it
		}
	}
	if len(drops) > 0 {
		if werr := a.store.Write(drops...); werr != nil && err == nil {
			err = werr
		}
	}

	a.update(func() {
		if err != nil {
			a.warn("Could not read this device's storage: " + err.Error())
		}
		if damaged > 0 {
			a.warn(plural(damaged, "damaged or edited record", "damaged or edited records") +
				" on this device did not check out and were dropped.")
		}
		a.Rater, a.Settings, a.Labels, a.text = rater, settings, labels, text
		a.restorePolicy()
		for _, l := range labels {
			a.labelled[l.PairID] = true
		}
		for _, p := range pairs {
			if !a.labelled[p.ID] {
				a.Queue = append(a.Queue, p)
			}
		}
		a.model = global
		if global != nil {
			a.ModelVer = modelVersion(global)
		}
		a.setStudy(study)
		a.JoinCode, a.Participant = strings.TrimSpace(joinCode), strings.TrimSpace(participant)
		switch {
		case rater == nil || (a.JoinCode != "" && a.JoinCode != rater.Code) ||
			(a.Participant != "" && a.Participant != rater.Participant):
			a.View = ViewJoin
			if a.Participant != "" && a.JoinCode != "" {
				a.Join(a.JoinCode, "")
			}
		default:
			a.View = ViewLabel
		}
		a.showCurrent()
	})
	if a.fitter != nil && rater != nil {
		a.fitter.Init(a.ownLabels(), global, local)
	}
	a.openAfterSwitch()
	a.Kick()
}

// ownLabels returns a copy of the labels list. Labels are never changed in place after they are
// made except for Synced, which the fitter does not read.
func (a *App) ownLabels() []*Label {
	var ls []*Label
	a.read(func() { ls = append(ls, a.Labels...) })
	return ls
}

// modelVersion reads the "version" field of a model as sent by the hub; 0 if it has none.
func modelVersion(m json.RawMessage) int {
	var v struct {
		Version json.Number `json:"version"`
	}
	if json.Unmarshal(m, &v) != nil {
		return 0
	}
	n, err := v.Version.Int64()
	if err != nil {
		return 0
	}
	return int(n)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}
