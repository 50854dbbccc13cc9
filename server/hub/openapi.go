package hub

import (
	_ "embed"
	"net/http"
)

// openAPIDoc is the OpenAPI 3 description of the API (docs/api.md is the prose form; a test
// checks that both cover every route).
//
//go:embed openapi.json
var openAPIDoc []byte

// OpenAPI returns the OpenAPI document.
func OpenAPI() []byte { return append([]byte(nil), openAPIDoc...) }

func (h *Hub) openAPI(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(openAPIDoc)
	return nil
}
