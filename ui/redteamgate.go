package ui

// ViewRedTeam is red-team mode (redteam.go), in the full build only.
const ViewRedTeam = "redteam"

// openKey is the sessionStorage key under which the clip build names the view the full build
// opens once loaded, when it switched for one (fullswitch.go).
const openKey = "prefer-open"

// RedTeamBlocked says why red-team mode cannot open now, or "" when it can. r̂ is model
// assistance: when the teacher hides it, the mode is off too. Call it under a lock. Both builds
// have it: the clip build's labeller shows the mode's button, which switches to the full build.
func (a *App) RedTeamBlocked() string {
	switch {
	case a.AssistOff:
		return "Red-team mode is off: it shows your model's r̂, and your teacher has turned model assistance off for this session."
	case a.Current() == nil:
		return "Red-team mode starts from a clip you have seen: wait for pairs to arrive."
	case a.Current().isText():
		return "Red-team mode edits clips of control tasks, not text."
	}
	return ""
}

// CloseRedTeam goes back to labelling.
func (a *App) CloseRedTeam() {
	if a.View == ViewRedTeam {
		a.View = ViewLabel
	}
}
