package hub

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
)

// readBody reads a request body of at most max bytes, after checking its content type. An
// empty body reads as nil.
func readBody(w http.ResponseWriter, r *http.Request, max int64) ([]byte, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return nil, errMediaType(ct)
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, max))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, errTooLarge("the body is over the limit of " + humanBytes(max))
		}
		return nil, errBadJSON("", "could not read the body: "+err.Error())
	}
	return body, nil
}

func humanBytes(n int64) string {
	if n%(1<<20) == 0 {
		return itoa(int(n>>20)) + " MiB"
	}
	return itoa(int(n)) + " bytes"
}

// decodeStrict decodes one JSON value from b into v, rejecting unknown fields and trailing
// data. prefix is prepended to field names in errors (e.g. "comparisons[3]."). An empty b
// decodes as {}.
func decodeStrict(b []byte, v any, prefix string) *Error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		b = []byte("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err, prefix)
	}
	if dec.More() {
		return errBadJSON("", "unexpected data after the JSON value")
	}
	if _, err := dec.Token(); err != io.EOF {
		return errBadJSON("", "unexpected data after the JSON value")
	}
	return nil
}

// jsonError turns an encoding/json error into an API error that names the field.
func jsonError(err error, prefix string) *Error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return errBadJSON("", "malformed JSON at byte "+itoa(int(syn.Offset))+": "+syn.Error())
	case errors.As(err, &typ):
		f := prefix + typ.Field
		if typ.Field == "" {
			f = strings.TrimSuffix(prefix, ".")
			return errBadJSON(f, "the body must be a JSON object, not "+typ.Value)
		}
		return errBadJSON(f, f+" must be "+jsonType(typ.Type.Kind().String())+", not "+typ.Value)
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return errBadJSON("", "the JSON value is cut short")
	}
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		return errUnknownField(prefix + strings.Trim(name, `"`))
	}
	return errBadJSON(strings.TrimSuffix(prefix, "."), strings.TrimPrefix(msg, "json: "))
}

func jsonType(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "slice", "array":
		return "an array"
	case "map", "struct", "ptr":
		return "an object"
	case "bool":
		return "true or false"
	case "float32", "float64", "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		return "a number of the right kind"
	}
	return "of another type"
}

func itoa(n int) string { return strconv.Itoa(n) }

// DecodeJSON reads a JSON request body of at most max bytes into v as the hub does: the
// content type checked, unknown fields and trailing data refused, every error an *Error
// naming its field.
func DecodeJSON(w http.ResponseWriter, r *http.Request, max int64, v any) error {
	body, err := readBody(w, r, max)
	if err != nil {
		return err
	}
	if e := decodeStrict(body, v, ""); e != nil {
		return e
	}
	return nil
}
