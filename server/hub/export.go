package hub

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/prefer-rlhf/prefer/server/store"
)

// ExportRecord is one comparison of the JSONL export, with both clips inline (prefs.Clip JSON),
// so that nothing else is needed to replay it; `prefer import` reads the same type back.
type ExportRecord struct {
	ID        string `json:"id"`
	ProjectID string `json:"project_id"`
	RaterID   string `json:"rater_id"`
	RaterName string `json:"rater_name"`
	// Participant is the rater's crowd participant id ("" for none).
	Participant string          `json:"participant"`
	Excluded    bool            `json:"excluded"`
	PairID      string          `json:"pair_id"`
	Choice      string          `json:"choice"`
	CreatedAt   time.Time       `json:"created_at"`
	ResponseMS  int64           `json:"response_ms"`
	ReceivedAt  time.Time       `json:"received_at"`
	Left        json.RawMessage `json:"left"`
	Right       json.RawMessage `json:"right"`
}

var exportColumns = []string{"id", "project_id", "rater_id", "rater_name", "participant", "excluded", "pair_id", "choice",
	"created_at", "response_ms", "received_at", "left", "right"}

// export: GET /api/v1/projects/{pid}/export?format=jsonl|csv|trl (teacher; trl: trl.go). Rows stream from the
// database to the client; an error after the first row can only cut the stream short.
func (h *Hub) export(w http.ResponseWriter, r *http.Request) error {
	_, proj, err := h.forProject(r, true)
	if err != nil {
		return err
	}
	format := r.URL.Query().Get("format")
	if format == "" {
		format = "jsonl"
	}
	if format == "trl" {
		return h.exportTRL(w, r, proj)
	}
	if format != "jsonl" && format != "csv" {
		return errInvalid("format", `format must be "jsonl", "csv" or "trl" (text projects)`)
	}
	name := "prefer-" + proj.ID + "." + format
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.Header().Set("Cache-Control", "no-store")
	bw := bufio.NewWriterSize(w, 64<<10)
	started := false
	start := func(ct string) {
		if !started {
			w.Header().Set("Content-Type", ct)
			w.WriteHeader(http.StatusOK)
			started = true
		}
	}
	if format == "jsonl" {
		enc := json.NewEncoder(bw)
		err = h.store.Export(r.Context(), proj.ID, func(e *store.ExportRow) error {
			start("application/x-ndjson")
			return enc.Encode(ExportRecord{e.ID, e.ProjectID, e.RaterID, e.RaterName, e.Participant, e.Excluded, e.PairID, string(e.Choice),
				e.CreatedAt, e.ResponseMS, e.ReceivedAt, e.Left, e.Right})
		})
		start("application/x-ndjson")
	} else {
		cw := csv.NewWriter(bw)
		start("text/csv; charset=utf-8")
		cw.Write(exportColumns)
		err = h.store.Export(r.Context(), proj.ID, func(e *store.ExportRow) error {
			return cw.Write([]string{e.ID, e.ProjectID, e.RaterID, e.RaterName, e.Participant, strconv.FormatBool(e.Excluded), e.PairID,
				string(e.Choice), e.CreatedAt.Format(time.RFC3339Nano), strconv.FormatInt(e.ResponseMS, 10),
				e.ReceivedAt.Format(time.RFC3339Nano), string(e.Left), string(e.Right)})
		})
		cw.Flush()
	}
	if err != nil && !started {
		return err
	}
	if err != nil {
		h.log.Error("hub: export cut short", "project", proj.ID, "err", err)
	}
	return bw.Flush()
}
