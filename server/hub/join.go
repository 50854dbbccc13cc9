package hub

import (
	"errors"
	"net"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/prefer-rlhf/prefer/server/store"
)

type joinRequest struct {
	JoinCode string `json:"join_code"`
	Name     string `json:"name"`
}

type joinResponse struct {
	RaterID   string `json:"rater_id"`
	Token     string `json:"token"`
	ProjectID string `json:"project_id"`
}

// MaxNameLen is the longest display name, in characters.
const MaxNameLen = 64

// NormalizeJoinCode is how a join code is compared: trimmed and upper case.
func NormalizeJoinCode(c string) string { return strings.ToUpper(strings.TrimSpace(c)) }

// join: POST /api/v1/join {"join_code", "name"} -> 201 {"rater_id", "token", "project_id"}.
func (h *Hub) join(w http.ResponseWriter, r *http.Request) error {
	if err := h.limit(h.joins, clientAddr(r)); err != nil {
		return err
	}
	body, err := readBody(w, r, h.cfg.MaxBody)
	if err != nil {
		return err
	}
	var req joinRequest
	if e := decodeStrict(body, &req, ""); e != nil {
		return e
	}
	code := NormalizeJoinCode(req.JoinCode)
	if code == "" {
		return errInvalid("join_code", "join_code is required")
	}
	if len(code) > 64 {
		return errInvalid("join_code", "join_code is too long")
	}
	name := strings.TrimSpace(req.Name)
	if err := checkName(name); err != nil {
		return err
	}
	ctx := r.Context()
	p, err := h.store.ProjectByJoinCode(ctx, code)
	if errors.Is(err, store.ErrNotFound) {
		return errNotFound("join_code", "no project has this join code")
	} else if err != nil {
		return err
	}
	tok := NewToken(raterPrefix)
	rt := &store.Rater{ID: uuid.NewString(), ProjectID: p.ID, Name: name, CreatedAt: h.now()}
	if err := h.store.CreateRater(ctx, rt, HashToken(tok)); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, joinResponse{RaterID: rt.ID, Token: tok, ProjectID: p.ID})
	return nil
}

func checkName(name string) error {
	if name == "" {
		return errInvalid("name", "name is required")
	}
	if !utf8.ValidString(name) {
		return errInvalid("name", "name must be UTF-8")
	}
	if utf8.RuneCountInString(name) > MaxNameLen {
		return errInvalid("name", "name must be at most 64 characters")
	}
	for _, c := range name {
		if unicode.IsControl(c) {
			return errInvalid("name", "name must not contain control characters")
		}
	}
	return nil
}

// clientAddr is the rate limiter's key for requests without a token: the remote IP.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
