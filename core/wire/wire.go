// Package wire holds the types and limits of the hub's sync and join API (docs/api.md), once,
// for both ends: the hub (server/hub) and the browser app (ui). It declares data only.
//
// The request and response are generic in the parts the two ends hold differently: the app
// sends prefs.Comparison values and reads prefs.Pair values, while the hub reads each
// comparison as raw JSON (to reject a bad one alone) and sends pairs whose clips are the JSON
// it stored (Pair), without decoding them.
package wire

import "encoding/json"

// Limits of one sync.
const (
	// MaxComparisons is the most comparisons one sync may carry.
	MaxComparisons = 500
	// MaxWantPairs is the most pairs one sync may ask for.
	MaxWantPairs = 100
	// MaxSkipPairs is the most pair ids one sync may list in skip_pairs.
	MaxSkipPairs = 500
	// MaxParticipantLen is the longest crowd participant id, in characters.
	MaxParticipantLen = 128
)

// QuotaField is the field a rejection names when the rater reached the project's cap.
const QuotaField = "quota"

// SyncRequest is the body of POST /api/v1/projects/{pid}/sync. C is the comparison type.
type SyncRequest[C any] struct {
	Comparisons      []C             `json:"comparisons"`
	ModelUpdate      json.RawMessage `json:"model_update,omitempty"`
	WantPairs        int             `json:"want_pairs"`
	SkipPairs        []string        `json:"skip_pairs,omitempty"` // pairs already on the device
	HaveModelVersion int             `json:"have_model_version"`
}

// SyncResponse is the hub's answer to a sync. P is the pair type. Model is null when the
// client already holds the latest version.
type SyncResponse[P any] struct {
	Accepted    []string        `json:"accepted"`
	Duplicates  []string        `json:"duplicates"`
	Rejected    []Rejection     `json:"rejected"`
	ModelUpdate *UpdateVerdict  `json:"model_update"` // the hub's verdict on a sent update, if any
	Pairs       []P             `json:"pairs"`
	Model       json.RawMessage `json:"model"`
	Project     Project         `json:"project"`
}

// Rejection is a comparison the hub refused, with the offending field and why. Field is
// QuotaField for comparisons past the rater's cap.
type Rejection struct {
	ID     string `json:"id"`
	Index  int    `json:"index"`
	Field  string `json:"field"`
	Reason string `json:"reason"`
}

// UpdateVerdict is the hub's answer to a model update: status "accepted", "duplicate" or
// "rejected" with a reason.
type UpdateVerdict struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	Reason string `json:"reason"`
}

// Pair is a pair as the hub sends it: its clips are prefs.Clip JSON.
type Pair struct {
	ID    string          `json:"id"`
	Left  json.RawMessage `json:"left"`
	Right json.RawMessage `json:"right"`
	// Tag is "red_team" for a pair the trainer's adversary made (a clip the reward model
	// overrates against an ordinary one), else absent.
	Tag string `json:"tag,omitempty"`
}

// Project is what a sync says about the project; the app caches it, so that it stops at the
// cap offline and shows the instructions and the thank-you screen.
type Project struct {
	Paused        bool `json:"paused"`
	ModelVersion  int  `json:"model_version"`
	PolicyVersion int  `json:"policy_version"`
	// HideModelPredictions is the teacher's setting: the app must not show its model's
	// predicted preference, whatever the rater's own switch says.
	HideModelPredictions bool `json:"hide_model_predictions"`
	// Overlap is how many different raters label each pair.
	Overlap int `json:"overlap"`
	// MaxLabelsPerRater is the cap on a rater's comparisons (0: none).
	MaxLabelsPerRater int `json:"max_labels_per_rater"`
	// Labels is how many comparisons this rater has stored on the hub, from all devices.
	Labels int `json:"labels"`
	// CompletionURL is where the thank-you screen links ("" for none).
	CompletionURL string `json:"completion_url"`
	// Instructions are plain text, paragraphs separated by blank lines ("" for none).
	Instructions string `json:"instructions"`
}

// JoinRequest is the body of POST /api/v1/join. Name may be empty when Participant is given.
type JoinRequest struct {
	JoinCode    string `json:"join_code"`
	Name        string `json:"name"`
	Participant string `json:"participant,omitempty"`
}

// JoinResponse is the hub's answer to a join.
type JoinResponse struct {
	RaterID     string `json:"rater_id"`
	Token       string `json:"token"`
	ProjectID   string `json:"project_id"`
	Participant string `json:"participant"`
}

// RedTeamRequest is a clip a rater submits from red-team mode (issue 15), one they think the
// reward model overrates: a start state and actions of the project's env, as a clip is
// stored (prefs.Clip). POST /api/v1/projects/{pid}/redteam.
type RedTeamRequest struct {
	StartState []float64   `json:"start_state"`
	Actions    [][]float64 `json:"actions"`
}

// RedTeamResponse is the hub's verdict on a red-team submission.
type RedTeamResponse struct {
	ID    string `json:"id"`
	Env   string `json:"env"`
	Steps int    `json:"steps"`
	// TrueReturn is the clip's fixed-horizon return under the task's reward, or under the
	// behaviour's scripted checker when Checker is set.
	TrueReturn float64 `json:"true_return"`
	Checker    bool    `json:"checker"`
	// Threshold is the task's failure threshold for a clip of Steps steps; Failure is
	// TrueReturn < Threshold: the submission found a failure.
	Threshold float64 `json:"threshold"`
	Failure   bool    `json:"failure"`
	// RHat is the clip's return under the hub's reward model ModelVersion; nil (null) when
	// the project has no model yet.
	RHat         *float64 `json:"rhat"`
	ModelVersion int      `json:"model_version"`
}

// TextBundle is what the browser needs to show and tokenize a text project's clips: GET
// /api/v1/projects/{pid}/text. A text clip's start_state is PromptTokens token ids then Length
// times -1, and its actions are Length token ids (core/text); the app decodes them with
// Tokenizer. The bundle changes only when the hub's corpus does, so it carries an ETag and the
// app keeps it for offline use.
type TextBundle struct {
	Env string `json:"env"`
	// Tokenizer is core/text's tokenizer JSON: {"format": "prefer-bpe", "version": 1,
	// "merges": [[a, b], ...]} (text.LoadBPE reads it).
	Tokenizer    json.RawMessage `json:"tokenizer"`
	PromptTokens int             `json:"prompt_tokens"`
	Length       int             `json:"length"`
	// Instructions is the task in words, as raters see it (text.Task's Goal), e.g. "continue
	// the review so that it reads positive".
	Instructions string `json:"instructions"`
}
