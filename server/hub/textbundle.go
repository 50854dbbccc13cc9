package hub

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"unicode/utf8"

	"github.com/prefer-rlhf/prefer/core/prefs"
	"github.com/prefer-rlhf/prefer/core/text"
	"github.com/prefer-rlhf/prefer/core/wire"
	"github.com/prefer-rlhf/prefer/server/store"
)

// A text project's bundle (wire.TextBundle: tokenizer, prompt length, continuation length,
// instructions) is project data in the store, on both servers. `prefer serve` stores its text
// world's when it creates a text project (and when it first reads one an older database holds
// without). The Worker has no corpus: there a remote trainer uploads its world's bundle (PUT
// .../trainer/text) before it publishes clips. Everything that reads a text clip's token ids
// on the hub (GET /text, the clips of a published round, the TRL export) reads them with the
// stored bundle, never with the process's world.

// TextStore is what the hub needs to keep text bundles. *store.Store and the Worker's D1 store
// implement it.
type TextStore interface {
	TextBundle(ctx context.Context, projectID string) (bundle json.RawMessage, digest string, err error)
	SetTextBundle(ctx context.Context, projectID string, bundle json.RawMessage, digest string) error
}

// MaxPromptTokens caps a bundle's prompt_tokens: a prompt longer than a language model's
// context is not a prompt.
const MaxPromptTokens = 1024

// NewTextBundle returns the text bundle of env's task in world w: what the hub stores for a
// text project and a remote trainer uploads.
func NewTextBundle(w *text.World, env string) (wire.TextBundle, error) {
	task, ok := text.TaskOf(env)
	if !ok {
		return wire.TextBundle{}, fmt.Errorf("hub: %q is not a text task", env)
	}
	tok, err := json.Marshal(w.Tok)
	if err != nil {
		return wire.TextBundle{}, err
	}
	return wire.TextBundle{Env: env, Tokenizer: tok, PromptTokens: w.PromptLen(), Length: task.Length, Instructions: task.Goal}, nil
}

// textReader is a stored bundle, parsed: its JSON as served, the ETag, and a world that reads
// clips (the tokenizer and the prompt length; it has no prompts to draw and no gold score).
type textReader struct {
	bundle wire.TextBundle
	body   []byte
	etag   string
	world  *text.World
}

// readers caches parsed bundles by the SHA-256 of their JSON: content-addressed, so every hub
// in the process may share it, and a project's new bundle is a new key.
var readers sync.Map // string -> *textReader

// canonicalBundle validates b for a project of env and returns its stored form (the tokenizer
// re-encoded, so that equal tokenizers are equal bytes) and its digest. The errors are 400s
// naming the field.
func canonicalBundle(b wire.TextBundle, env string) (body []byte, digest string, err error) {
	task, _ := text.TaskOf(env)
	switch {
	case b.Env != env:
		return nil, "", errInvalid("env", "env must be the project's, "+strconv.Quote(env))
	case len(b.Tokenizer) == 0 || string(b.Tokenizer) == "null":
		return nil, "", errInvalid("tokenizer", "tokenizer is required (core/text's BPE JSON)")
	case b.PromptTokens < 1 || b.PromptTokens > MaxPromptTokens:
		return nil, "", errInvalid("prompt_tokens", fmt.Sprintf("prompt_tokens must be in 1..%d", MaxPromptTokens))
	case b.Length != task.Length:
		return nil, "", errInvalid("length", fmt.Sprintf("length must be the task's continuation length, %d", task.Length))
	case utf8.RuneCountInString(b.Instructions) > store.MaxInstructionsChars:
		return nil, "", errInvalid("instructions", fmt.Sprintf("instructions may be at most %d characters", store.MaxInstructionsChars))
	}
	tok, err := text.LoadBPE(b.Tokenizer)
	if err != nil {
		return nil, "", errInvalid("tokenizer", "tokenizer does not load: "+err.Error())
	}
	canon, err := json.Marshal(tok)
	if err != nil {
		return nil, "", err
	}
	if b.Instructions == "" {
		b.Instructions = task.Goal
	}
	b.Tokenizer = canon
	if body, err = json.Marshal(b); err != nil {
		return nil, "", err
	}
	// The digest is what gives a stored clip's numbers their meaning: the tokenizer (token id
	// -> bytes) and the prompt length (where the prompt ends in a start_state).
	d := sha256.New()
	d.Write(canon)
	d.Write([]byte("\n" + strconv.Itoa(b.PromptTokens)))
	return body, hex.EncodeToString(d.Sum(nil)), nil
}

// reader parses a stored bundle, or returns the cached parse.
func reader(body []byte) (*textReader, error) {
	sum := sha256.Sum256(body)
	key := hex.EncodeToString(sum[:])
	if r, ok := readers.Load(key); ok {
		return r.(*textReader), nil
	}
	var b wire.TextBundle
	if err := json.Unmarshal(body, &b); err != nil {
		return nil, fmt.Errorf("hub: stored text bundle: %w", err)
	}
	tok, err := text.LoadBPE(b.Tokenizer)
	if err != nil {
		return nil, fmt.Errorf("hub: stored text bundle: %w", err)
	}
	r := &textReader{bundle: b, body: body, etag: `"` + key[:32] + `"`,
		world: &text.World{Tok: tok, Prompts: [][]int{make([]int, b.PromptTokens)}}}
	readers.Store(key, r)
	return r, nil
}

// BundleWorld returns the world that reads the clips of a stored text bundle (TextStore's
// bundle): its tokenizer and prompt length, with no prompts to draw and no gold score. `prefer
// import --format trl` tokenizes with it, so that imported clips mean what the project's other
// clips mean.
func BundleWorld(body []byte) (*text.World, error) {
	r, err := reader(body)
	if err != nil {
		return nil, err
	}
	return r.world, nil
}

// errNoTextBundle is GET /text's (and a round's text clips') answer before the trainer has
// uploaded the project's tokenizer.
func errNoTextBundle(field, pid string) *Error {
	return &Error{Status: http.StatusConflict, Code: "conflict", Field: field,
		Message: "project " + pid + " has no tokenizer yet: its trainer uploads it (PUT /api/v1/projects/" + pid +
			"/trainer/text) when it first runs; retry after `prefer trainer --hub` has started"}
}

// projectText returns a text project's stored bundle. A project with none gets its hub's text
// world's if the hub has one (Config.Text: a text project an older `prefer serve` created);
// else the answer is 409 conflict naming field.
func (h *Hub) projectText(ctx context.Context, proj *store.Project, field string) (*textReader, error) {
	body, _, err := h.store.TextBundle(ctx, proj.ID)
	if err == nil {
		return reader(body)
	}
	if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	if h.cfg.Text == nil {
		return nil, errNoTextBundle(field, proj.ID)
	}
	w, err := h.textWorld(field, proj.Env)
	if err != nil {
		return nil, err
	}
	if err := h.storeWorldBundle(ctx, proj, w); err != nil && !errors.Is(err, store.ErrTextBundleInUse) {
		return nil, err
	}
	// Stored now, by this call or a trainer's upload in between.
	if body, _, err = h.store.TextBundle(ctx, proj.ID); err != nil {
		return nil, err
	}
	return reader(body)
}

// storeWorldBundle stores world w's bundle for text project proj.
func (h *Hub) storeWorldBundle(ctx context.Context, proj *store.Project, w *text.World) error {
	b, err := NewTextBundle(w, proj.Env)
	if err != nil {
		return err
	}
	body, digest, err := canonicalBundle(b, proj.Env)
	if err != nil {
		return err
	}
	return h.store.SetTextBundle(ctx, proj.ID, body, digest)
}

// putTrainerText: PUT /api/v1/projects/{pid}/trainer/text wire.TextBundle (teacher): stores a
// text project's bundle. 200 {"etag"}; the same tokenizer again is a no-op. A bundle of
// another tokenizer or prompt length once the project has labels is 409 conflict naming
// tokenizer: the token ids of the clips they label would change meaning.
func (h *Hub) putTrainerText(w http.ResponseWriter, r *http.Request) error {
	_, proj, err := h.forProject(r, true)
	if err != nil {
		return err
	}
	if _, ok := text.TaskOf(proj.Env); !ok {
		return errNotFound("pid", "project "+proj.ID+" is not a text project (env "+proj.Env+")")
	}
	body, err := readBody(w, r, h.cfg.MaxBody)
	if err != nil {
		return err
	}
	var in wire.TextBundle
	if e := decodeStrict(body, &in, ""); e != nil {
		return e
	}
	canon, digest, err := canonicalBundle(in, proj.Env)
	if err != nil {
		return err
	}
	err = h.store.SetTextBundle(r.Context(), proj.ID, canon, digest)
	if errors.Is(err, store.ErrTextBundleInUse) {
		return &Error{Status: http.StatusConflict, Code: "conflict", Field: "tokenizer",
			Message: "project " + proj.ID + " has labels of clips read with another tokenizer or prompt length; its bundle cannot be replaced"}
	} else if err != nil {
		return err
	}
	tr, err := reader(canon)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"etag": tr.etag})
	return nil
}

// checkTextClip checks that a clip a trainer publishes to a text project is one of the stored
// bundle (core/text's ClipLayout.Tokens with the bundle's prompt length, continuation length
// and tokenizer): a 400 naming the clip's field, f (clips[i]) and start_state or actions.
func checkTextClip(tr *textReader, c *prefs.Clip, f string) error {
	l := text.ClipLayout{Prompt: tr.bundle.PromptTokens, Length: tr.bundle.Length, Vocab: tr.world.Tok.VocabSize()}
	_, _, err := l.Tokens(c)
	var ce *text.ClipError
	if errors.As(err, &ce) {
		return errInvalid(f+"."+ce.Field, f+"."+ce.Message)
	}
	return err
}
