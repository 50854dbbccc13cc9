package ui

import (
	"encoding/json"

	"github.com/prefer-rlhf/prefer/core/wire"
	"github.com/vugu/vugu/js"
)

// FetchHub is the Hub over the browser's fetch, at the page's own origin.
type FetchHub struct {
	Base string // e.g. "" for the same origin, or "http://127.0.0.1:8080"
}

// Join calls POST /api/v1/join.
func (h *FetchHub) Join(code, name, participant string) (*Rater, error) {
	body, err := json.Marshal(wire.JoinRequest{JoinCode: code, Name: name, Participant: participant})
	if err != nil {
		return nil, err
	}
	b, err := h.do("POST", "/api/v1/join", "", body)
	if err != nil {
		return nil, err
	}
	r, err := decodeJoin(b)
	if err != nil {
		return nil, err
	}
	r.Name, r.Code, r.Participant = name, code, participant
	return r, nil
}

// Sync calls POST /api/v1/projects/{pid}/sync.
func (h *FetchHub) Sync(r *Rater, req *SyncRequest) (*SyncResponse, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	b, err := h.do("POST", "/api/v1/projects/"+r.ProjectID+"/sync", r.Token, body)
	if err != nil {
		return nil, err
	}
	t0 := TraceStart()
	var resp SyncResponse
	err = json.Unmarshal(b, &resp)
	TraceEnd("decode sync", t0)
	if err != nil {
		return nil, &HubError{Status: 200, Code: "bad_response", Message: err.Error()}
	}
	return &resp, nil
}

// SubmitRedTeam calls POST /api/v1/projects/{pid}/redteam.
func (h *FetchHub) SubmitRedTeam(r *Rater, req *wire.RedTeamRequest) (*wire.RedTeamResponse, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	b, err := h.do("POST", "/api/v1/projects/"+r.ProjectID+"/redteam", r.Token, body)
	if err != nil {
		return nil, err
	}
	var resp wire.RedTeamResponse
	if err := json.Unmarshal(b, &resp); err != nil {
		return nil, &HubError{Status: 201, Code: "bad_response", Message: err.Error()}
	}
	return &resp, nil
}

// do sends one request and returns the body of a 2xx answer. A request that never got an answer
// is ErrNetwork; an error answer is a *HubError.
func (h *FetchHub) do(method, path, token string, body []byte) ([]byte, error) {
	b, _, err := h.fetch(method, path, token, body, nil)
	return b, err
}

// fetch is do with extra request headers, which also returns the answer's headers (a
// Headers object).
func (h *FetchHub) fetch(method, path, token string, body []byte, extra map[string]any) ([]byte, js.Value, error) {
	headers := map[string]any{"Content-Type": "application/json"}
	if token != "" {
		headers["Authorization"] = "Bearer " + token
	}
	for k, v := range extra {
		headers[k] = v
	}
	opts := map[string]any{"method": method, "headers": headers, "cache": "no-store"}
	if body != nil {
		opts["body"] = string(body)
	}
	resp, err := await(js.Global().Call("fetch", h.Base+path, opts))
	if err != nil {
		return nil, js.Value{}, ErrNetwork
	}
	buf, err := await(resp.Call("arrayBuffer"))
	if err != nil {
		return nil, js.Value{}, ErrNetwork
	}
	defer TraceEnd("fetch answer "+path, TraceStart())
	b := bytesFromJS(js.Global().Get("Uint8Array").New(buf))
	status := resp.Get("status").Int()
	hdr := resp.Get("headers")
	if status < 200 || status > 299 {
		return nil, hdr, decodeHubError(status, b, hdr.Call("get", "Retry-After").String())
	}
	return b, hdr, nil
}
