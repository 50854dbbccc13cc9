package hub

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"sync"

	"github.com/prefer-rlhf/prefer/server/store"
)

// Token prefixes say what a token is for, so a leaked one is easy to recognise.
const (
	raterPrefix   = "pr_"
	teacherPrefix = "pt_"
)

// NewToken returns a fresh bearer token with the given prefix: 32 random bytes, base64url.
func NewToken(prefix string) string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("hub: no randomness: " + err.Error())
	}
	return prefix + base64.RawURLEncoding.EncodeToString(b[:])
}

// NewTeacherToken returns a fresh teacher token.
func NewTeacherToken() string { return NewToken(teacherPrefix) }

// HashToken is what the store keeps of a token: its SHA-256, hex. Tokens carry 256 bits of
// randomness, so a plain hash (no salt, no stretching) cannot be reversed.
func HashToken(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// principal is who a request acts as.
type principal struct {
	hash    string       // the token's hash: the rate limiter's key
	rater   *store.Rater // set for a rater token
	teacher bool         // set for a teacher token
	scope   string       // a teacher token's project, "" for every project
}

// canRead reports whether p may read project pid.
func (p *principal) canRead(pid string) bool {
	if p.teacher {
		return p.scope == "" || p.scope == pid
	}
	return p.rater.ProjectID == pid
}

// Bearer extracts the token from an Authorization: Bearer header.
func Bearer(r *http.Request) (string, bool) { return bearer(r) }

func bearer(r *http.Request) (string, bool) {
	a := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(a, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}

// authCache remembers principals by token hash: a token's rater and project never change, so
// the hot sync path needs no database read to authenticate. (Exclusion does not affect
// authentication.)
type authCache struct {
	mu sync.RWMutex
	m  map[string]*principal
}

const authCacheMax = 100_000

func (c *authCache) get(h string) *principal {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.m[h]
}

func (c *authCache) put(h string, p *principal) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= authCacheMax {
		c.m = map[string]*principal{}
	}
	c.m[h] = p
}

// authenticate finds who the request acts as and applies the per-token rate limit.
func (h *Hub) authenticate(ctx context.Context, r *http.Request) (*principal, error) {
	tok, ok := bearer(r)
	if !ok {
		return nil, errUnauthorized("this endpoint needs an Authorization: Bearer token")
	}
	hash := HashToken(tok)
	if err := h.limit(h.tokens, hash); err != nil {
		return nil, err
	}
	if p := h.auth.get(hash); p != nil {
		return p, nil
	}
	var p *principal
	switch {
	case strings.HasPrefix(tok, teacherPrefix):
		scope, err := teacherScope(ctx, h.store, hash)
		if err != nil {
			return nil, err
		}
		p = &principal{hash: hash, teacher: true, scope: scope}
	default:
		rt, err := h.store.RaterByTokenHash(ctx, hash)
		if errors.Is(err, store.ErrNotFound) {
			return nil, errUnauthorized("unknown token")
		} else if err != nil {
			return nil, err
		}
		p = &principal{hash: hash, rater: rt}
	}
	h.auth.put(hash, p)
	return p, nil
}

// forProject authenticates the request and checks that it may act on project pid. A rater
// asking for another project gets 403 whether or not it exists; a teacher gets 404 for a
// project that does not exist.
func (h *Hub) forProject(r *http.Request, teacherOnly bool) (*principal, *store.Project, error) {
	ctx := r.Context()
	p, err := h.authenticate(ctx, r)
	if err != nil {
		return nil, nil, err
	}
	pid := r.PathValue("pid")
	if teacherOnly && !p.teacher {
		return nil, nil, errForbidden("this endpoint needs the teacher token")
	}
	if !p.canRead(pid) {
		return nil, nil, errForbidden("this token may not act on project " + pid)
	}
	proj, err := h.store.Project(ctx, pid)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, errNotFound("pid", "no project "+pid)
	} else if err != nil {
		return nil, nil, err
	}
	return p, proj, nil
}

// TeacherTokens looks teacher tokens up by hash; hub.Store and the classroom's store have it.
type TeacherTokens interface {
	TeacherToken(ctx context.Context, hash string) (projectID string, err error)
}

// teacherScope returns the project a teacher token's hash may act on ("" for every project):
// an unknown token is 401, a database fault is returned as is (500).
func teacherScope(ctx context.Context, s TeacherTokens, hash string) (string, error) {
	scope, err := s.TeacherToken(ctx, hash)
	if errors.Is(err, store.ErrNotFound) {
		return "", errUnauthorized("unknown token")
	}
	return scope, err
}

// Teacher is the teacher check of the hub's conventions, for handlers beside the hub (the
// classroom views): r must carry a teacher token that may act on project pid. A missing or
// unknown token is 401, a token limited to another project 403, a database fault a plain
// error (written as 500 by WriteError).
func Teacher(ctx context.Context, s TeacherTokens, r *http.Request, pid string) error {
	tok, ok := bearer(r)
	if !ok {
		return errUnauthorized("this endpoint needs the teacher token (Authorization: Bearer)")
	}
	scope, err := teacherScope(ctx, s, HashToken(tok))
	if err != nil {
		return err
	}
	if scope != "" && scope != pid {
		return errForbidden("this token may not act on project " + pid)
	}
	return nil
}
