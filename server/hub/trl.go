package hub

import (
	"bufio"
	"encoding/json"
	"net/http"

	"github.com/prefer-rlhf/prefer/core/prefs"
	"github.com/prefer-rlhf/prefer/core/text"
	"github.com/prefer-rlhf/prefer/server/store"
	"github.com/prefer-rlhf/prefer/server/trl"
)

// exportTRL: GET /api/v1/projects/{pid}/export?format=trl (teacher). A text project's strict
// preferences as TRL's preference JSONL (server/trl), in arrival order. It holds what the
// hub's own fit reads: excluded raters' comparisons are left out, as the trainer's labels
// leave them out (a TRL line has no column to mark them; the native export keeps them,
// marked), and gold pairs' comparisons are in, as they are in the native export and the fit.
// Ties and can't-tell are in the native export only. The text is decoded with the project's
// stored tokenizer (textbundle.go); before the trainer uploads it, 409 conflict.
func (h *Hub) exportTRL(w http.ResponseWriter, r *http.Request, proj *store.Project) error {
	if _, ok := text.TaskOf(proj.Env); !ok {
		return errInvalid("format", `format "trl" is for text projects; project `+proj.ID+" is of "+proj.Env+`: use "jsonl" or "csv"`)
	}
	tr, err := h.projectText(r.Context(), proj, "format")
	if err != nil {
		return err
	}
	world := tr.world
	w.Header().Set("Content-Disposition", `attachment; filename="prefer-`+proj.ID+`-trl.jsonl"`)
	w.Header().Set("Cache-Control", "no-store")
	bw := bufio.NewWriterSize(w, 64<<10)
	enc := json.NewEncoder(bw)
	started := false
	start := func() {
		if !started {
			w.Header().Set("Content-Type", "application/x-ndjson")
			w.WriteHeader(http.StatusOK)
			started = true
		}
	}
	var left, right prefs.Clip
	err = h.store.Export(r.Context(), proj.ID, func(e *store.ExportRow) error {
		if e.Excluded || (e.Choice != prefs.Left && e.Choice != prefs.Right) {
			return nil
		}
		left, right = prefs.Clip{}, prefs.Clip{}
		if err := json.Unmarshal(e.Left, &left); err != nil {
			return err
		}
		if err := json.Unmarshal(e.Right, &right); err != nil {
			return err
		}
		rec, _, err := trl.FromComparison(world, left, right, e.Choice)
		if err != nil {
			return err
		}
		start()
		return enc.Encode(rec)
	})
	if err != nil && !started {
		return err
	}
	start()
	if err != nil {
		h.log.Error("hub: trl export cut short", "project", proj.ID, "err", err)
	}
	return bw.Flush()
}
