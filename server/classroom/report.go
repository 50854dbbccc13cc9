package classroom

import (
	"errors"
	"github.com/prefer-rlhf/prefer/core/jsonnum"
	"html/template"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/prefer-rlhf/prefer/server/store"
)

// report: GET /classroom/report?project=ID&token=T, a printable page of the session: the
// figures, the charts and the rater table as they stand, drawn on the server, with no script.
func (h *Handler) report(w http.ResponseWriter, r *http.Request) {
	pid := r.URL.Query().Get("project")
	r2 := r.Clone(r.Context())
	r2.Header.Set("Authorization", "Bearer "+r.URL.Query().Get("token"))
	if err := h.authorize(r2, pid); err != nil || pid == "" {
		http.Error(w, "classroom: a teacher token for this project is required", http.StatusUnauthorized)
		return
	}
	d, err := h.Build(r.Context(), pid)
	if errors.Is(err, store.ErrNotFound) {
		http.Error(w, "classroom: no such project", http.StatusNotFound)
		return
	}
	if err != nil {
		h.log.Error("classroom: report", "project", pid, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	charts := map[string]template.HTML{}
	for k, v := range d.Charts {
		charts[k] = template.HTML(v) // drawn by core/plot on the server: no user text unescaped
	}
	err = reportTmpl.Execute(w, map[string]any{"D": d, "Charts": charts, "Now": h.now().Format(time.DateTime)})
	if err != nil {
		h.log.Warn("classroom: report", "err", err)
	}
}

var reportTmpl = template.Must(template.New("report").Funcs(template.FuncMap{
	"pct": func(n jsonnum.Num) string {
		if math.IsNaN(float64(n)) {
			return "–"
		}
		return strconv.Itoa(int(math.Round(100*float64(n)))) + "%"
	},
	"num": func(n jsonnum.Num) string {
		if math.IsNaN(float64(n)) {
			return "–"
		}
		return strconv.FormatFloat(float64(n), 'f', 2, 64)
	},
	"short": func(s string) string {
		if len(s) > 8 {
			return s[:8]
		}
		return s
	},
}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Prefer class report: {{.D.Project.Goal}}</title>
<style>
 body { font-family: system-ui, sans-serif; margin: 24px 32px; color: #111; }
 h1 { font-size: 26px; margin: 0; } h2 { font-size: 18px; margin: 20px 0 6px; }
 .meta { color: #555; margin: 4px 0 16px; }
 .figs { display: flex; gap: 32px; margin: 12px 0; } .figs b { font-size: 28px; display: block; }
 .chart svg { width: 100%; max-width: 900px; height: auto; }
 table { border-collapse: collapse; } th, td { padding: 3px 10px; border-bottom: 1px solid #ddd; text-align: left; }
 td.n { text-align: right; font-variant-numeric: tabular-nums; }
 .charts2 { display: flex; gap: 16px; } .charts2 > div { flex: 1; }
 @media print { body { margin: 0; } .chart, table { break-inside: avoid; } }
</style></head><body>
<h1>{{.D.Project.Goal}}</h1>
<div class="meta">{{.D.Project.Env}} · session {{short .D.Project.ID}} · join code {{.D.Project.JoinCode}} · {{.Now}}</div>
<div class="figs">
 <div><b>{{.D.Summary.Labels}}</b>labels</div>
 <div><b>{{len .D.Summary.PerRater}}</b>raters</div>
 <div><b>{{pct .D.Summary.Agreement}}</b>pairwise agreement ({{.D.Summary.SharedPairs}} shared pairs)</div>
 <div><b>{{num .D.Summary.Kappa}}</b>Fleiss' kappa</div>
 <div><b>{{.D.Project.PolicyVersion}}</b>policy versions</div>
</div>
<h2>Reward hacking: learned reward against {{if .D.Project.Checker}}the checker{{else}}the true reward{{end}}</h2>
<div class="chart">{{index .Charts "reward_hacking"}}</div>
<div class="charts2"><div class="chart">{{index .Charts "accuracy"}}</div><div class="chart">{{index .Charts "per_minute"}}</div></div>
<h2>Raters</h2>
<table><tr><th>name</th><th>labels</th><th>agrees with class</th><th>gold</th><th>status</th></tr>
{{range .D.Summary.PerRater}}<tr><td>{{.Name}}</td><td class="n">{{.Labels}}</td><td class="n">{{pct .ConsensusRate}}</td><td class="n">{{pct .GoldRate}}</td><td>{{if .Excluded}}excluded{{end}}</td></tr>
{{end}}</table>
<h2>Most disputed pairs</h2>
<table><tr><th>pair</th><th>left</th><th>right</th><th>equal</th><th>disagreement</th></tr>
{{range .D.Summary.Disputed}}<tr><td>{{short .Pair}}</td><td class="n">{{.Left}}</td><td class="n">{{.Right}}</td><td class="n">{{.Equal}}</td><td class="n">{{pct .Disagreement}}</td></tr>
{{end}}</table>
</body></html>
`))
