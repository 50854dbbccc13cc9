package store

import (
	"fmt"
	"math"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/prefer-rlhf/prefer/core/query"
	"github.com/prefer-rlhf/prefer/core/reward"
)

// Settings are a project's knobs, stored as JSON in projects.settings. A teacher may change
// them while the project runs; the trainer reads them at the start of every round.
type Settings struct {
	// ClipSeconds is the env time a clip shows. Christiano et al. 2017 (§2.2.4, App. A) show
	// clips of 1-2 s; 1.5 s is the default. The trainer turns it into steps with the env's dt.
	ClipSeconds float64 `json:"clip_seconds"`
	// Query picks new pairs with one of core/query's strategies, as `prefer experiment
	// --query` does: "disagreement" (variance of the ensemble members' P(left), §2.2.4),
	// "random" or "uniform" (the baseline), "entropy", "infogain", "kcenter",
	// "kcenter_disagreement" or "kcenter_entropy" (B-Pref, Lee et al. 2021, §4).
	Query string `json:"query"`
	// Robust fits the reward model robustly to wrong labels with reward.DefaultRobust (a
	// learned random-response rate; core/reward/robust.go), as a bare `--robust` does; off by
	// default as in the CLI.
	Robust bool `json:"robust"`
	// Objective is what PPO maximises of the ensemble's members (Coste et al. 2023;
	// core/reward/objective.go): "mean" (the paper's r̂), "min" (worst case) or "uwo"
	// (mean - UWOLambda·std).
	Objective string `json:"objective"`
	// Adversarial turns on adversarial training (issue 15): each round that refits the reward
	// model, core/redteam's adversary searches it for failures (clips it rates above the
	// policy's 90th percentile that fail the task), and each becomes a pair against an ordinary
	// clip, tagged red_team and served before the others. Off by default.
	Adversarial bool `json:"adversarial"`
	// TextMethod is how a text project's policy learns from the labels (core/textrl): "ppo"
	// (the default: token-level PPO on the text reward model with a KL penalty to the
	// reference, Ziegler et al. 2019) or "dpo" (Direct Preference Optimisation on the labelled
	// pairs, Rafailov et al. 2023). Other projects ignore it.
	TextMethod string `json:"text_method"`
	// TextKLTarget is the KL from the reference, in nats per continuation, toward which a text
	// project's PPO adapts its penalty β (Ziegler et al. 2019, §2.2; core/lmppo); 0 keeps β
	// fixed. A larger target lets the policy move further from the reference (more reward,
	// less fluent text, more room to exploit the reward model). The default is Ziegler et al.'s
	// 6: with the reference tempered at 0.7 it reached 9 positive continuations in 10 within 7
	// minutes of 30 demo raters, where 10 reached it in 2 minutes but wrote "the best best best"
	// (distinct-2 0.27-0.35; README, "Text projects on the hub"). `prefer experiment`'s 6.5 goes
	// with PPO-ptx, which the hub does not run (server/trainer's textConfig).
	TextKLTarget float64 `json:"text_kl_target"`
	// RewardPrior is β_p, the scale of each reward-model member's fixed random prior network
	// (Osband et al. 2018; core/reward/prior.go), which makes the members disagree away from
	// the labelled clips, as `--prior` does; 0, the default, is none. Changing it makes the
	// model afresh and refits it on every label.
	RewardPrior float64 `json:"reward_prior"`
	// UWOLambda is the weight of the members' standard deviation under "uwo" (the CLI's 0.5).
	UWOLambda float64 `json:"uwo_lambda"`
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
	MaxUWOLambda         = 100
	MaxRewardPrior       = 100
)

// DefaultSettings returns the settings of a new project.
func DefaultSettings() Settings {
	return Settings{
		ClipSeconds:       1.5,
		Query:             "disagreement",
		Objective:         "mean",
		TextMethod:        "ppo",
		TextKLTarget:      6,
		UWOLambda:         0.5,
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
	case !validQuery(s.Query):
		return &SettingsError{"query", "must be one of " + queryNames()}
	case !validObjective(s.Objective):
		return &SettingsError{"objective", "must be one of mean, min, uwo"}
	case s.TextMethod != "ppo" && s.TextMethod != "dpo":
		return &SettingsError{"text_method", "must be ppo or dpo"}
	case !finite(s.TextKLTarget) || s.TextKLTarget < 0 || s.TextKLTarget > 100:
		return &SettingsError{"text_kl_target", "must be between 0 (a fixed penalty) and 100"}
	case !finite(s.UWOLambda) || s.UWOLambda < 0 || s.UWOLambda > MaxUWOLambda:
		return &SettingsError{"uwo_lambda", "must be between 0 and 100"}
	case !finite(s.RewardPrior) || s.RewardPrior < 0 || s.RewardPrior > MaxRewardPrior:
		return &SettingsError{"reward_prior", "must be between 0 (none) and 100"}
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

// validQuery says whether s names one of core/query's strategies.
func validQuery(s string) bool {
	_, err := query.ParseStrategy(s)
	return err == nil
}

// queryNames lists core/query's strategies for an error message.
func queryNames() string {
	names := make([]string, len(query.Strategies))
	for i, st := range query.Strategies {
		names[i] = string(st)
	}
	return strings.Join(names, ", ")
}

// validObjective says whether s names one of core/reward's objectives ("" is not one: a
// stored project always has its objective spelt out).
func validObjective(s string) bool {
	_, err := reward.ParseObjective(s)
	return err == nil
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
