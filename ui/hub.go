package ui

import (
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/prefer-rlhf/prefer/core/prefs"
	"github.com/prefer-rlhf/prefer/core/wire"
)

// Hub is the sync API of the hub server (docs/api.md). The browser's is fetch (fetch.go).
type Hub interface {
	// Join exchanges a join code and a display name, or a crowd platform's participant id
	// (then the name may be empty), for a rater id and token.
	Join(code, name, participant string) (*Rater, error)
	// Sync sends comparisons and an optional model update and receives pairs and the model.
	Sync(r *Rater, req *SyncRequest) (*SyncResponse, error)
	// SubmitRedTeam sends a clip from red-team mode; the hub answers with its true score.
	SubmitRedTeam(r *Rater, req *wire.RedTeamRequest) (*wire.RedTeamResponse, error)
}

// The sync's wire types and limits are core/wire's, shared with the hub.
type (
	// SyncRequest is the body of POST /api/v1/projects/{pid}/sync.
	SyncRequest = wire.SyncRequest[prefs.Comparison]
	// SyncResponse is the hub's answer to a sync. Model is null when the client already
	// holds the latest version.
	SyncResponse = wire.SyncResponse[prefs.Pair]
	// Rejection is a comparison the hub refused, with the offending field and why.
	Rejection = wire.Rejection
	// ProjectStatus is what a sync says about the project.
	ProjectStatus = wire.Project
	// UpdateVerdict is the hub's answer to a model update.
	UpdateVerdict = wire.UpdateVerdict
)

// maxSkipPairs is the hub's cap on skip_pairs.
const maxSkipPairs = wire.MaxSkipPairs

// ErrNetwork is returned by a Hub when the hub could not be reached at all: the device is
// offline, or the server is down.
var ErrNetwork = errors.New("ui: hub unreachable")

// HubError is an error response of the hub: {"error": {"code", "field", "message"}}.
type HubError struct {
	Status     int
	Code       string
	Field      string
	Message    string
	RetryAfter time.Duration // from a 429's or 503's Retry-After header
}

func (e *HubError) Error() string {
	s := "hub: " + strconv.Itoa(e.Status)
	if e.Code != "" {
		s += " " + e.Code
	}
	if e.Field != "" {
		s += " (" + e.Field + ")"
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// Temporary reports whether retrying the same request later may succeed.
func (e *HubError) Temporary() bool {
	return e.Status == 429 || e.Status == 408 || e.Status >= 500
}

// decodeHubError turns an error response body into a *HubError.
func decodeHubError(status int, body []byte, retryAfter string) *HubError {
	var b struct {
		Error struct {
			Code    string `json:"code"`
			Field   string `json:"field"`
			Message string `json:"message"`
		} `json:"error"`
	}
	e := &HubError{Status: status}
	if json.Unmarshal(body, &b) == nil {
		e.Code, e.Field, e.Message = b.Error.Code, b.Error.Field, b.Error.Message
	}
	if s, err := strconv.Atoi(retryAfter); err == nil && s >= 0 {
		e.RetryAfter = time.Duration(s) * time.Second
	}
	return e
}

// flexID is an id that the hub may send as a JSON string or number; it is kept as a string.
type flexID string

func (f *flexID) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*f = flexID(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return errors.New("ui: id must be a string or a number")
	}
	*f = flexID(n.String())
	return nil
}

// decodeJoin decodes the hub's answer to a join.
func decodeJoin(body []byte) (*Rater, error) {
	var b struct {
		RaterID   flexID `json:"rater_id"`
		Token     string `json:"token"`
		ProjectID flexID `json:"project_id"`
	}
	if err := json.Unmarshal(body, &b); err != nil {
		return nil, errors.New("ui: bad join response: " + err.Error())
	}
	if b.Token == "" || !safeID(string(b.ProjectID)) {
		return nil, errors.New("ui: join response without a token or a valid project id")
	}
	return &Rater{ID: string(b.RaterID), Token: b.Token, ProjectID: string(b.ProjectID)}, nil
}

// safeID reports whether s is a non-empty id of letters, digits, '-' and '_', safe in a URL path.
func safeID(s string) bool {
	if s == "" || len(s) > 100 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
