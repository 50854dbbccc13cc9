package store

import (
	"fmt"
	"math"
	"net/url"
	"unicode"
	"unicode/utf8"
)

// Settings are a project's knobs, stored as JSON in projects.settings. A teacher may change
// them while the project runs; the trainer reads them at the start of every round.
type Settings struct {
	// ClipSeconds is the env time a clip shows. Christiano et al. 2017 (§2.2.4, App. A) show
	// clips of 1-2 s; 1.5 s is the default. The trainer turns it into steps with the env's dt.
	ClipSeconds float64 `json:"clip_seconds"`
	// Query picks new pairs: "disagreement" (variance of the ensemble members' P(left), §2.2.4)
	// or "random" (the baseline).
	Query string `json:"query"`
	// PairsPerRound is how many new pairs the trainer publishes each round.
	PairsPerRound int `json:"pairs_per_round"`
	// PPOStepsPerRound is how many env steps of PPO the trainer runs each round.
	PPOStepsPerRound int `json:"ppo_steps_per_round"`
	// MaxModelStaleness is how many reward-model versions behind the latest a private update's
	// base version may be; older updates are rejected with a reason.
	MaxModelStaleness int `json:"max_model_staleness"`
	// MergeClipNorm caps each private update's L2 norm before averaging (0: off).
	MergeClipNorm float64 `json:"merge_clip_norm"`
	// MergeTrim is the coordinate-wise trimmed mean's fraction dropped at each end, in [0, 0.5)
	// (0: plain FedAvg).
	MergeTrim float64 `json:"merge_trim"`
	// HideModelPredictions is the teacher's switch for model assistance: when true, raters'
	// apps do not show their model's predicted preference at all (whatever each rater chose),
	// so the class labels unprompted. False (the default, and what older projects' settings
	// decode to) leaves it to each rater's own "Hide my model's predictions".
	HideModelPredictions bool `json:"hide_model_predictions"`
	// Overlap is how many different raters label each pair before it leaves the queue, as
	// Label Studio's overlap and MTurk's assignments per HIT. Pairs that others have started
	// are served before fresh ones, so raters who join together share pairs and agreement can
	// be measured. Gold pairs go to every rater regardless.
	Overlap int `json:"overlap"`
	// MaxLabelsPerRater caps the comparisons stored per rater (0: no cap); past it a sync
	// rejects comparisons with field "quota".
	MaxLabelsPerRater int `json:"max_labels_per_rater"`
	// CompletionURL is where the app's thank-you screen links at the cap (a crowd platform's
	// completion link), or "".
	CompletionURL string `json:"completion_url"`
	// Instructions are shown before the first pair and behind the app's help button: plain
	// text, paragraphs separated by blank lines.
	Instructions string `json:"instructions"`
}

// Limits of the settings' ranges.
const (
	MaxOverlap           = 50
	MaxLabelsCap         = 1_000_000
	MaxCompletionURLLen  = 2048
	MaxInstructionsChars = 4000
)

// DefaultSettings returns the settings of a new project.
func DefaultSettings() Settings {
	return Settings{
		ClipSeconds:       1.5,
		Query:             "disagreement",
		PairsPerRound:     50,
		PPOStepsPerRound:  20000,
		MaxModelStaleness: 5,
		MergeClipNorm:     10,
		MergeTrim:         0.2,
		Overlap:           3,
	}
}

// SettingsError names a bad setting.
type SettingsError struct{ Field, Reason string }

func (e *SettingsError) Error() string {
	return fmt.Sprintf("store: settings: %s %s", e.Field, e.Reason)
}

// Validate checks every setting's range; it returns a *SettingsError naming the first bad one.
func (s Settings) Validate() error {
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	switch {
	case !finite(s.ClipSeconds) || s.ClipSeconds < 0.1 || s.ClipSeconds > 20:
		return &SettingsError{"clip_seconds", "must be between 0.1 and 20"}
	case s.Query != "disagreement" && s.Query != "random":
		return &SettingsError{"query", `must be "disagreement" or "random"`}
	case s.PairsPerRound < 1 || s.PairsPerRound > 1000:
		return &SettingsError{"pairs_per_round", "must be between 1 and 1000"}
	case s.PPOStepsPerRound < 0 || s.PPOStepsPerRound > 10_000_000:
		return &SettingsError{"ppo_steps_per_round", "must be between 0 and 10000000"}
	case s.MaxModelStaleness < 0 || s.MaxModelStaleness > 1000:
		return &SettingsError{"max_model_staleness", "must be between 0 and 1000"}
	case !finite(s.MergeClipNorm) || s.MergeClipNorm < 0:
		return &SettingsError{"merge_clip_norm", "must be finite and >= 0"}
	case !(s.MergeTrim >= 0 && s.MergeTrim < 0.5):
		return &SettingsError{"merge_trim", "must be in [0, 0.5)"}
	case s.Overlap < 1 || s.Overlap > MaxOverlap:
		return &SettingsError{"overlap", "must be between 1 and 50"}
	case s.MaxLabelsPerRater < 0 || s.MaxLabelsPerRater > MaxLabelsCap:
		return &SettingsError{"max_labels_per_rater", "must be between 0 (no cap) and 1000000"}
	case !validCompletionURL(s.CompletionURL):
		return &SettingsError{"completion_url", "must be empty or an absolute http or https URL of at most 2048 characters"}
	case !validInstructions(s.Instructions):
		return &SettingsError{"instructions", "must be plain UTF-8 text (no control characters but line breaks and tabs) of at most 4000 characters"}
	}
	return nil
}

func validInstructions(s string) bool {
	if !utf8.ValidString(s) || utf8.RuneCountInString(s) > MaxInstructionsChars {
		return false
	}
	for _, c := range s {
		if unicode.IsControl(c) && c != '\n' && c != '\r' && c != '\t' {
			return false
		}
	}
	return true
}

func validCompletionURL(s string) bool {
	if s == "" {
		return true
	}
	if len(s) > MaxCompletionURLLen {
		return false
	}
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}
