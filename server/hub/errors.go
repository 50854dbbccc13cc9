package hub

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/prefer-rlhf/prefer/server/store"
)

// Error is an API error: an HTTP status and the body {"error": {"code", "field", "message"}}.
// Every error response of the API is written by writeError from an *Error; nothing else
// writes error bodies.
type Error struct {
	Status  int
	Code    string // machine-readable, one of the codes in docs/api.md
	Field   string // the offending input, or ""
	Message string // for people
	// RetryAfter, when positive, is sent as the Retry-After header in whole seconds.
	RetryAfter int
}

func (e *Error) Error() string { return "hub: " + e.Code + ": " + e.Message }

// The constructors for the error codes of docs/api.md.

func errBadJSON(field, msg string) *Error {
	return &Error{http.StatusBadRequest, "bad_json", field, msg, 0}
}
func errUnknownField(field string) *Error {
	return &Error{http.StatusBadRequest, "unknown_field", field, "unknown field " + strconv.Quote(field), 0}
}
func errInvalid(field, msg string) *Error {
	return &Error{http.StatusBadRequest, "invalid", field, msg, 0}
}
func errUnauthorized(msg string) *Error {
	return &Error{http.StatusUnauthorized, "unauthorized", "Authorization", msg, 0}
}
func errForbidden(msg string) *Error { return &Error{http.StatusForbidden, "forbidden", "", msg, 0} }
func errNotFound(field, msg string) *Error {
	return &Error{http.StatusNotFound, "not_found", field, msg, 0}
}
func errTooLarge(msg string) *Error {
	return &Error{http.StatusRequestEntityTooLarge, "too_large", "", msg, 0}
}
func errBatchTooLarge(max int) *Error {
	return &Error{http.StatusRequestEntityTooLarge, "batch_too_large", "comparisons",
		"a sync may carry at most " + strconv.Itoa(max) + " comparisons", 0}
}
func errMediaType(ct string) *Error {
	return &Error{http.StatusUnsupportedMediaType, "unsupported_media_type", "Content-Type",
		"the body must be application/json, not " + strconv.Quote(ct), 0}
}
func errRateLimited(retry int) *Error {
	return &Error{http.StatusTooManyRequests, "rate_limited", "", "too many requests; retry after " + strconv.Itoa(retry) + " s", retry}
}
func errInternal() *Error {
	return &Error{http.StatusInternalServerError, "internal", "", "internal error; retrying is safe", 0}
}
func errUnavailable() *Error {
	return &Error{http.StatusServiceUnavailable, "unavailable", "", "the server is shutting down; retry later", 5}
}

// errorBody is the JSON form.
type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Field   string `json:"field"`
		Message string `json:"message"`
	} `json:"error"`
}

// RateLimited is the 429 "rate_limited" error with its Retry-After in seconds, for limits kept
// outside the hub (the Worker's, in D1).
func RateLimited(retry int) *Error { return errRateLimited(max(retry, 1)) }

// Invalid is a 400 "invalid" error naming the field, for handlers beside the hub.
func Invalid(field, msg string) *Error { return errInvalid(field, msg) }

// NotFound is a 404 "not_found" error naming the field, for handlers beside the hub.
func NotFound(field, msg string) *Error { return errNotFound(field, msg) }

func (h *Hub) writeError(w http.ResponseWriter, r *http.Request, err error) {
	WriteError(w, r, h.log, err)
}

// WriteError writes err as an API error. An error that is not an *Error is a server fault: it
// is logged and answered with 500 (or 503 when the store is closing), never with its text.
func WriteError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	var e *Error
	if !errors.As(err, &e) {
		if errors.Is(err, store.ErrClosed) {
			e = errUnavailable()
		} else {
			log.Error("request failed", slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Any("err", err))
			e = errInternal()
		}
	}
	var b errorBody
	b.Error.Code, b.Error.Field, b.Error.Message = e.Code, e.Field, e.Message
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(e.RetryAfter))
	}
	if e.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="prefer"`)
	}
	writeJSON(w, e.Status, b)
}

// WriteJSON writes v as the response body with status, with the API's headers.
func WriteJSON(w http.ResponseWriter, status int, v any) { writeJSON(w, status, v) }

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		body = []byte(`{"error":{"code":"internal","field":"","message":"internal error; retrying is safe"}}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write(body)
	w.Write([]byte{'\n'})
}
