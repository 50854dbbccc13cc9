package hub

import (
	"net/http"
	"strconv"

	"github.com/prefer-rlhf/prefer/core/env"
	"github.com/prefer-rlhf/prefer/core/text"
)

// Text projects. The text envs (core/text) exist only once a corpus is loaded: their
// tokenizer is trained on it. A hub with Config.Text asks it for the world the first time it
// needs one (creating a text project, storing its bundle), so that a hub with no text project
// never reads, or downloads, a corpus. What the hub serves and checks is the bundle stored
// per project (textbundle.go), not the world.

// textWorld returns the text world, loading it through Config.Text if it is not registered
// yet. The error is a 400 naming field.
func (h *Hub) textWorld(field, name string) (*text.World, error) {
	if w := text.Installed(); w != nil {
		return w, nil
	}
	if h.cfg.Text == nil {
		return nil, errInvalid(field, "this hub has no corpus for the text env "+strconv.Quote(name)+" (start prefer serve with --corpus FILE)")
	}
	w, err := h.cfg.Text()
	if err != nil {
		h.log.Warn("hub: loading the text world", "err", err)
		return nil, errInvalid(field, "the text env "+strconv.Quote(name)+" needs the hub's corpus, which could not be loaded: "+err.Error())
	}
	return w, nil
}

// checkEnv checks that name is an env a project may use: a registered env or a text task. A
// hub with a way to load the text world (Config.Text: `prefer serve`) loads it now, so that a
// corpus that cannot be loaded is an error here rather than in every request after; a hub
// without one (the Worker) creates the project, and its remote trainer uploads the tokenizer
// (textbundle.go).
func (h *Hub) checkEnv(name string) error {
	if _, err := env.Lookup(name); err == nil {
		return nil
	}
	if _, ok := text.TaskOf(name); ok {
		if h.cfg.Text == nil {
			return nil
		}
		if _, err := h.textWorld("env", name); err != nil {
			return err
		}
		if _, err := env.Lookup(name); err == nil {
			return nil
		}
	}
	return errInvalid("env", "unknown env "+strconv.Quote(name)+"; known: "+joinNames(env.Names()))
}

// getText: GET /api/v1/projects/{pid}/text: the text bundle of a text project (wire.TextBundle)
// as stored (textbundle.go), with an ETag; If-None-Match with it answers 304. Before the
// trainer uploads it (the Worker), 409 conflict.
func (h *Hub) getText(w http.ResponseWriter, r *http.Request) error {
	_, proj, err := h.forProject(r, false)
	if err != nil {
		return err
	}
	if _, ok := text.TaskOf(proj.Env); !ok {
		return errNotFound("pid", "project "+proj.ID+" is not a text project (env "+proj.Env+")")
	}
	tr, err := h.projectText(r.Context(), proj, "env")
	if err != nil {
		return err
	}
	w.Header().Set("ETag", tr.etag)
	// The bundle is per project, not per rater; private because it sits behind a token. The
	// app keeps it offline and revalidates with the ETag.
	w.Header().Set("Cache-Control", "private, no-cache")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if r.Header.Get("If-None-Match") == tr.etag {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	w.Write(tr.body)
	w.Write([]byte{'\n'})
	return nil
}
