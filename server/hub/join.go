package hub

import (
	"errors"
	"net"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/prefer-rlhf/prefer/core/wire"
	"github.com/prefer-rlhf/prefer/server/store"
)

// MaxNameLen is the longest display name, in characters.
const MaxNameLen = 64

// NormalizeJoinCode is how a join code is compared: trimmed and upper case.
func NormalizeJoinCode(c string) string { return strings.ToUpper(strings.TrimSpace(c)) }

// join: POST /api/v1/join {"join_code", "name", "participant"} -> 201 {"rater_id", "token",
// "project_id", "participant"}. A participant id already in the project is the same rater: the
// answer carries its rater id and a new token for this device.
func (h *Hub) join(w http.ResponseWriter, r *http.Request) error {
	if err := h.limit(h.joins, clientAddr(r)); err != nil {
		return err
	}
	body, err := readBody(w, r, h.cfg.MaxBody)
	if err != nil {
		return err
	}
	var req wire.JoinRequest
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
	part := strings.TrimSpace(req.Participant)
	if err := checkParticipant(req.Participant, part); err != nil {
		return err
	}
	name := strings.TrimSpace(req.Name)
	if name == "" && part != "" {
		name = truncateRunes(part, MaxNameLen)
	}
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
	rt := &store.Rater{ID: uuid.NewString(), ProjectID: p.ID, Name: name, Participant: part, CreatedAt: h.now()}
	if part != "" {
		// The same participant from another device: the same rater, one more token. Two
		// devices joining at once race on the unique index; the loser looks the winner up.
		for try := 0; try < 2; try++ {
			old, err := h.store.RaterByParticipant(ctx, p.ID, part)
			if err == nil {
				if err := h.store.AddRaterToken(ctx, old.ID, HashToken(tok), h.now()); err != nil {
					return err
				}
				writeJSON(w, http.StatusCreated, wire.JoinResponse{RaterID: old.ID, Token: tok, ProjectID: p.ID, Participant: part})
				return nil
			}
			if !errors.Is(err, store.ErrNotFound) {
				return err
			}
			err = h.store.CreateRater(ctx, rt, HashToken(tok))
			if err == nil {
				break
			}
			if !errors.Is(err, store.ErrParticipantTaken) || try == 1 {
				return err
			}
		}
	} else if err := h.store.CreateRater(ctx, rt, HashToken(tok)); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, wire.JoinResponse{RaterID: rt.ID, Token: tok, ProjectID: p.ID, Participant: part})
	return nil
}

// checkParticipant checks a crowd participant id (raw as sent, trimmed as stored): optional,
// 1-128 characters after trimming, no control characters.
func checkParticipant(raw, part string) error {
	if raw != "" && part == "" {
		return errInvalid("participant", "participant must not be blank")
	}
	if !utf8.ValidString(part) {
		return errInvalid("participant", "participant must be UTF-8")
	}
	if utf8.RuneCountInString(part) > wire.MaxParticipantLen {
		return errInvalid("participant", "participant must be at most 128 characters")
	}
	for _, c := range part {
		if unicode.IsControl(c) {
			return errInvalid("participant", "participant must not contain control characters")
		}
	}
	return nil
}

func truncateRunes(s string, n int) string {
	for i := range s {
		if n == 0 {
			return s[:i]
		}
		n--
	}
	return s
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
