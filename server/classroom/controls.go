package classroom

import (
	"math"
	"net/http"
	"strings"

	"github.com/prefer-rlhf/prefer/core/oracle"
	"github.com/prefer-rlhf/prefer/core/prefs"
	"github.com/prefer-rlhf/prefer/server/hub"
)

// maxControlBody caps the small JSON bodies of the teacher's controls.
const maxControlBody = 4096

// decodeTeacher checks the teacher token and decodes a small JSON body strictly into v (the
// hub's decoding: unknown fields and bad types name their field).
func (h *Handler) decodeTeacher(w http.ResponseWriter, r *http.Request, v any) (string, error) {
	pid := r.PathValue("pid")
	if err := h.authorize(r, pid); err != nil {
		return "", err
	}
	return pid, hub.DecodeJSON(w, r, maxControlBody, v)
}

// setDemo: POST /classroom/api/projects/{pid}/demo {"raters": N, "noise": P, "teacher": T}
// (teacher) starts N demo raters (0 stops them), answering with noise P or as B-Pref's
// teacher T (oracle.TeacherNames; "" for none).
func (h *Handler) setDemo(w http.ResponseWriter, r *http.Request) error {
	var in DemoState
	pid, err := h.decodeTeacher(w, r, &in)
	if err != nil {
		return err
	}
	switch {
	case in.Raters < 0 || in.Raters > 100:
		return hub.Invalid("raters", "raters must be between 0 and 100")
	case math.IsNaN(in.Noise) || in.Noise < 0 || in.Noise > 1:
		return hub.Invalid("noise", "noise must be between 0 and 1")
	case in.Teacher != "" && !validTeacher(in.Teacher):
		return hub.Invalid("teacher", "teacher must be one of "+strings.Join(oracle.TeacherNames, ", ")+" or empty")
	case in.Teacher != "" && in.Noise != 0:
		return hub.Invalid("noise", "noise must be 0 with a teacher (mistake is the teacher that errs)")
	case h.demo == nil && in.Raters > 0:
		return hub.Invalid("raters", "demo raters run only under prefer serve: this server keeps nothing running between requests")
	case h.demo == nil:
		hub.WriteJSON(w, http.StatusOK, DemoState{})
		return nil
	}
	if err := h.demo.Set(r.Context(), pid, in.Raters, in.Noise, in.Teacher); err != nil {
		return notFound(err, "pid", "no project "+pid)
	}
	hub.WriteJSON(w, http.StatusOK, h.demo.State(pid))
	return nil
}

// validTeacher says whether s names one of B-Pref's teachers.
func validTeacher(s string) bool {
	_, err := oracle.ParseTeacher(s)
	return err == nil
}

// setGold: POST /classroom/api/projects/{pid}/gold {"pair": ID, "choice": "left"|"right"|"equal"|""}
// (teacher) marks a gold pair with its known answer; an empty choice unmarks it.
func (h *Handler) setGold(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Pair   string       `json:"pair"`
		Choice prefs.Choice `json:"choice"`
	}
	pid, err := h.decodeTeacher(w, r, &in)
	if err != nil {
		return err
	}
	if !prefs.ValidUUID(in.Pair) {
		return hub.Invalid("pair", "pair must be a pair id (UUID)")
	}
	switch in.Choice {
	case "", prefs.Left, prefs.Right, prefs.Equal:
	default:
		return hub.Invalid("choice", `choice must be "left", "right", "equal" or "" (unmark)`)
	}
	if err := h.store.SetGold(r.Context(), pid, in.Pair, in.Choice); err != nil {
		return notFound(err, "pair", "no pair "+in.Pair+" in this project")
	}
	hub.WriteJSON(w, http.StatusOK, in)
	return nil
}

// setWeight: POST /classroom/api/projects/{pid}/weight {"rater": ID, "weight": W} (teacher) sets
// the weight of a rater's labels in training, in [0, 1]; 1 restores it. The trainer honours it
// in its next round.
func (h *Handler) setWeight(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Rater  string  `json:"rater"`
		Weight float64 `json:"weight"`
	}
	pid, err := h.decodeTeacher(w, r, &in)
	if err != nil {
		return err
	}
	if in.Rater == "" {
		return hub.Invalid("rater", "rater is required")
	}
	if math.IsNaN(in.Weight) || in.Weight < 0 || in.Weight > 1 {
		return hub.Invalid("weight", "weight must be between 0 and 1")
	}
	if err := h.store.SetRaterWeight(r.Context(), pid, in.Rater, in.Weight); err != nil {
		return notFound(err, "rater", "no rater "+in.Rater+" in this project")
	}
	hub.WriteJSON(w, http.StatusOK, in)
	return nil
}
