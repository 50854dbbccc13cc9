package ui

import (
	"github.com/prefer-rlhf/prefer/core/prefs"
	"github.com/vugu/vugu/js"
)

// keyChoice maps the arrow keys to choices as in Christiano et al. 2017's interface:
// ← left is better, → right is better, ↑ equally good, ↓ can't tell.
var keyChoice = map[string]prefs.Choice{
	"ArrowLeft":  prefs.Left,
	"ArrowRight": prefs.Right,
	"ArrowUp":    prefs.Equal,
	"ArrowDown":  prefs.CantTell,
}

// ListenKeys answers the pair on screen from the arrow keys, anywhere on the page except in a
// text field or with a modifier held. Space pauses playback; h or ? opens and closes the
// instructions; r opens and closes red-team mode (Escape closes it too).
func (a *App) ListenKeys() {
	doc := js.Global().Get("document")
	doc.Call("addEventListener", "keydown", js.FuncOf(func(_ js.Value, args []js.Value) any {
		ev := arg0(args)
		if ev.Get("ctrlKey").Bool() || ev.Get("metaKey").Bool() || ev.Get("altKey").Bool() || ev.Get("repeat").Bool() {
			return nil
		}
		if typing(ev.Get("target")) {
			return nil
		}
		key := ev.Get("key").String()
		if c, ok := keyChoice[key]; ok {
			defer TraceEnd("key", TraceStart())
			ev.Call("preventDefault")
			a.update(func() {
				if a.View == ViewLabel {
					a.Choose(c)
				}
			})
			return nil
		}
		if key == "r" || key == "Escape" {
			a.update(func() {
				if a.View == ViewRedTeam {
					a.CloseRedTeam()
				} else if key == "r" && a.View == ViewLabel {
					a.OpenRedTeam()
				}
			})
			return nil
		}
		if key == "h" || key == "?" {
			a.update(func() {
				if a.View == ViewLabel {
					a.ToggleHelp()
				}
			})
			return nil
		}
		if key == " " && ev.Get("target").Get("tagName").String() != "BUTTON" {
			ev.Call("preventDefault")
			a.Player.TogglePause()
			a.update(func() {})
		}
		return nil
	}))
}

// ListenNetwork follows the browser's online and offline events. The status reads
// navigator.onLine itself when it renders (App.Online), so an event only asks for a render,
// and coming back online wakes the sync loop: a sync's answer cannot overwrite the browser's
// word, and an event that fired before this listener existed is not lost.
func (a *App) ListenNetwork() {
	w := js.Global()
	nav := w.Get("navigator")
	a.quietly(func() { a.browserOnline = func() bool { return nav.Get("onLine").Bool() } })
	w.Call("addEventListener", "online", js.FuncOf(func(js.Value, []js.Value) any {
		go func() { a.update(func() {}); a.Wake() }()
		return nil
	}))
	w.Call("addEventListener", "offline", js.FuncOf(func(js.Value, []js.Value) any { go a.update(func() {}); return nil }))
}

// typing reports whether el takes typed text, where the arrow keys move the caret. A checkbox,
// a button or the scrubber do not: there the keys still answer.
func typing(el js.Value) bool {
	tag := el.Get("tagName")
	if tag.Type() != js.TypeString {
		return false
	}
	switch tag.String() {
	case "TEXTAREA", "SELECT":
		return true
	case "INPUT":
		switch el.Get("type").String() {
		case "checkbox", "radio", "range", "button", "submit":
			return false
		}
		return true
	}
	return el.Get("isContentEditable").Truthy()
}
