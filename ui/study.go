package ui

import (
	"hash/crc32"
	"strings"
)

// Study is what the last sync said about how this rater takes part, kept on the device so a
// rater offline still sees the instructions and stops at the cap.
type Study struct {
	Cap           int    `json:"cap"`        // the project's max_labels_per_rater (0: no cap)
	HubLabels     int    `json:"hub_labels"` // this rater's labels the hub held, from every device
	CompletionURL string `json:"completion_url"`
	Instructions  string `json:"instructions"`
}

// metaStudy is the meta key of the Study.
const metaStudy = "study"

// Left returns how many more labels the rater may make, or -1 when there is no cap. It counts
// what the hub held at the last sync and, on top, this device's labels not yet acknowledged,
// also those still being saved, so a rater offline stops at the cap too. Private labels never
// reach the hub and do not count. Call it under a lock.
func (a *App) Left() int {
	if a.Study.Cap <= 0 {
		return -1
	}
	return max(0, a.Study.Cap-a.Study.HubLabels-a.Pending()-a.saving)
}

// AtCap reports whether the rater has made every label the project asks of them. Call it
// under a lock.
func (a *App) AtCap() bool { return a.Left() == 0 }

// instrSum identifies a text of instructions, so the rater reads new ones again.
func instrSum(s string) uint32 { return crc32.ChecksumIEEE([]byte(s)) }

// setStudy takes a sync's answer about the study and shows the instructions when they are
// new to this rater. Call it under the write lock.
func (a *App) setStudy(s Study) {
	a.Study = s
	if s.Instructions != "" && instrSum(s.Instructions) != a.Settings.Read {
		a.Help = true
	}
}

// ToggleHelp shows or hides the instructions (the help button, the h or ? key).
func (a *App) ToggleHelp() {
	if a.Study.Instructions == "" {
		return
	}
	if a.Help {
		a.StartLabelling()
		return
	}
	a.Help = true
}

// StartLabelling closes the instructions and remembers that the rater has read them.
func (a *App) StartLabelling() {
	a.Help = false
	if sum := instrSum(a.Study.Instructions); a.Settings.Read != sum {
		a.Settings.Read = sum
		a.saveSettings()
	}
	a.shownAt = a.now() // the answer's time starts when the pair is seen
}

// Paragraphs splits plain text at blank lines.
func Paragraphs(s string) []string {
	var ps []string
	for _, p := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n\n") {
		if p = strings.TrimSpace(p); p != "" {
			ps = append(ps, p)
		}
	}
	return ps
}

// CompletionLink returns the completion URL when it is an http(s) address, else "".
func (a *App) CompletionLink() string {
	u := a.Study.CompletionURL
	if strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "http://") {
		return u
	}
	return ""
}

// CompletionHost returns the host of the completion URL, for the link's text.
func (a *App) CompletionHost() string {
	_, h, _ := strings.Cut(a.CompletionLink(), "://")
	h, _, _ = strings.Cut(h, "/")
	h, _, _ = strings.Cut(h, "?")
	return h
}
