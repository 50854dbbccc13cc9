package ui

import (
	"errors"
	"strings"

	"github.com/prefer-rlhf/prefer/core/prefs"
)

// The handlers below are called from vugu event handlers, under the write lock, on the
// browser's thread: they change state at once and do anything slow in a goroutine.

// Join signs this device in with a join code and a display name, or with the participant id
// of the join link (a crowd rater), when the name may be empty.
func (a *App) Join(code, name string) {
	code, name = strings.TrimSpace(code), strings.TrimSpace(name)
	switch {
	case a.Joining:
		return
	case code == "":
		a.JoinErr = "Enter the join code your teacher gave you."
		return
	case name == "" && a.Participant == "":
		a.JoinErr = "Enter your name."
		return
	case len(name) > 100:
		a.JoinErr = "That name is too long."
		return
	}
	if a.Rater != nil && a.Pending() > 0 {
		a.JoinErr = plural(a.Pending(), "label", "labels") + " made on this device" +
			" are still waiting to sync. Connect to the network and let them sync first."
		return
	}
	a.JoinErr, a.Joining = "", true
	go a.join(code, name, a.Participant)
}

func (a *App) join(code, name, participant string) {
	r, err := a.hub.Join(code, name, participant)
	if err != nil {
		a.update(func() {
			a.Joining = false
			var he *HubError
			switch {
			case errors.Is(err, ErrNetwork):
				a.JoinErr = "You are offline. Joining needs the network once; labelling then works offline."
			case errors.As(err, &he) && (he.Status == 404 || he.Field == "join_code"):
				a.JoinErr = "That join code is not known. Check it with your teacher."
			case errors.As(err, &he) && he.Message != "":
				a.JoinErr = "Could not join: " + he.Message
			default:
				a.JoinErr = "Could not join: " + err.Error()
			}
		})
		return
	}
	var old *Rater
	a.read(func() { old = a.Rater })
	ops := []Op{}
	if op, err := put(StoreMeta, metaRater, r); err == nil {
		ops = append(ops, op)
	}
	newProject := old == nil || old.ProjectID != r.ProjectID
	newRater := newProject || old.ID != r.ID
	var queued []*Pair
	if newProject {
		// Pairs and models belong to a project.
		a.read(func() { queued = append(queued, a.Queue...) })
		for _, p := range queued {
			ops = append(ops, del(StorePairs, p.ID))
		}
		ops = append(ops, del(StoreMeta, metaGlobal), del(StoreMeta, metaLocal))
	}
	if newRater {
		// The cap and the instructions read belong to a rater; the next sync brings them.
		ops = append(ops, del(StoreMeta, metaStudy))
	}
	a.mu.Lock()
	werr := a.store.Write(ops...)
	a.mu.Unlock()
	a.update(func() {
		a.Joining, a.Rater, a.View = false, r, ViewLabel
		if werr != nil {
			a.warn("Could not remember you on this device: " + werr.Error())
		}
		if newProject {
			a.Queue, a.model, a.ModelVer = nil, nil, 0
			a.showCurrent()
		}
		if newRater {
			a.Study, a.Help, a.Settings.Read = Study{}, false, 0
			a.saveSettings()
		}
	})
	if a.AfterJoin != nil {
		a.AfterJoin()
	}
	if a.fitter != nil {
		var global []byte
		a.read(func() { global = a.model })
		a.fitter.Init(a.ownLabels(), global, nil)
	}
	a.Wake()
}

// Answer is a choice button or an arrow key.
func (a *App) Answer(c prefs.Choice) { a.Choose(c) }

// SetPrivate switches private mode for the labels made from now on.
func (a *App) SetPrivate(on bool) {
	a.Settings.Private = on
	a.saveSettings()
}

// ShowPrediction reports whether the app may show its model's predicted preference: only
// when neither the rater (Settings.HidePrediction) nor the teacher (AssistOff, the project's
// hide_model_predictions setting) has hidden it.
func (a *App) ShowPrediction() bool { return !a.Settings.HidePrediction && !a.AssistOff }

// SetHidePrediction hides or shows the local model's prediction after each answer.
func (a *App) SetHidePrediction(hide bool) {
	a.Settings.HidePrediction = hide
	a.saveSettings()
}

func (a *App) saveSettings() {
	op, err := put(StoreMeta, metaSettings, a.Settings)
	if err != nil {
		return
	}
	go func() {
		a.mu.Lock()
		defer a.mu.Unlock()
		if err := a.store.Write(op); err != nil {
			a.update(func() { a.warn("Could not save settings: " + err.Error()) })
		}
	}()
}

// DismissWarnings clears the warnings.
func (a *App) DismissWarnings() { a.Warnings = nil }
