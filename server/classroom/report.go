package classroom

import (
	"fmt"
	"html"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prefer-rlhf/prefer/core/jsonnum"
	"github.com/prefer-rlhf/prefer/server/hub"
)

// report: GET /classroom/report?project=ID&token=T, a printable page of the session: the
// figures, the charts and the rater table as they stand, drawn on the server, with no script.
func (h *Handler) report(w http.ResponseWriter, r *http.Request) error {
	pid := r.URL.Query().Get("project")
	if pid == "" {
		return hub.Invalid("project", "project is required")
	}
	r2 := r.Clone(r.Context())
	r2.Header.Set("Authorization", "Bearer "+r.URL.Query().Get("token"))
	if err := h.authorize(r2, pid); err != nil {
		return err
	}
	d, err := h.Build(r.Context(), pid)
	if err != nil {
		return notFound(err, "project", "no project "+pid)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(reportHTML(d, h.now()))
	return nil
}

// reportHTML writes the report page. It is built with html.EscapeString rather than
// html/template: the template packages keep every exported method of every reachable type in
// the binary (they call methods by name), which would make the Worker 1 MB larger. Every
// string from outside (names, participant ids, the goal) goes through esc; the charts are SVG
// drawn by core/plot on the server, with their text escaped there.
func reportHTML(d *Dashboard, now time.Time) []byte {
	var b strings.Builder
	esc := html.EscapeString
	p, s := d.Project, d.Summary
	truth := "the true reward"
	switch {
	case p.Text:
		truth = "the gold score"
	case p.Checker:
		truth = "the checker"
	}
	fmt.Fprintf(&b, `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Prefer class report: %s</title>
<style>
 body { font-family: system-ui, sans-serif; margin: 24px 32px; color: #111; }
 h1 { font-size: 26px; margin: 0; } h2 { font-size: 18px; margin: 20px 0 6px; }
 .meta { color: #555; margin: 4px 0 16px; }
 .figs { display: flex; gap: 32px; margin: 12px 0; } .figs b { font-size: 28px; display: block; }
 .chart svg { width: 100%%; max-width: 900px; height: auto; }
 table { border-collapse: collapse; } th, td { padding: 3px 10px; border-bottom: 1px solid #ddd; text-align: left; }
 td.n { text-align: right; font-variant-numeric: tabular-nums; }
 .charts2 { display: flex; gap: 16px; } .charts2 > div { flex: 1; }
 @media print { body { margin: 0; } .chart, table { break-inside: avoid; } }
</style></head><body>
<h1>%s</h1>
<div class="meta">%s · session %s · join code %s · %s</div>
<div class="figs">
 <div><b>%d</b>labels</div>
 <div><b>%d</b>raters</div>
 <div><b>%s</b>pairwise agreement (%d shared pairs)</div>
 <div><b>%s</b>pairs at overlap %d (%d of %d)</div>
 <div><b>%s</b>Fleiss' kappa</div>
 <div><b>%d</b>policy versions</div>
</div>
<h2>Reward hacking: learned reward against %s</h2>
<div class="chart">%s</div>
<div class="charts2"><div class="chart">%s</div><div class="chart">%s</div></div>
<h2>Raters</h2>
<table><tr><th>name</th><th>participant</th><th>labels</th><th>active minutes</th><th>median s/label</th><th>agrees with class</th><th>gold</th><th>status</th></tr>
`, esc(p.Goal), esc(p.Goal), esc(p.Env), esc(short(p.ID)), esc(p.JoinCode), now.Format(time.DateTime),
		s.Labels, len(s.PerRater), pct(s.Agreement), s.SharedPairs, pct(s.OverlapShare), p.Overlap, s.PairsAtOverlap, s.PairsLabelled,
		num(s.Kappa), p.PolicyVersion, truth, d.Charts["reward_hacking"], d.Charts["accuracy"], d.Charts["per_minute"])
	for _, r := range s.PerRater {
		status := ""
		if r.Excluded {
			status = "excluded"
		}
		fmt.Fprintf(&b, `<tr><td>%s</td><td>%s</td><td class="n">%d</td><td class="n">%.1f</td><td class="n">%s</td><td class="n">%s</td><td class="n">%s</td><td>%s</td></tr>
`, esc(r.Name), esc(r.Participant), r.Labels, r.ActiveMinutes, num(r.MedianSeconds), pct(r.ConsensusRate), pct(r.GoldRate), status)
	}
	b.WriteString(`</table>
<h2>Most disputed pairs</h2>
<table><tr><th>pair</th><th>left</th><th>right</th><th>equal</th><th>disagreement</th></tr>
`)
	for _, x := range s.Disputed {
		fmt.Fprintf(&b, `<tr><td>%s</td><td class="n">%d</td><td class="n">%d</td><td class="n">%d</td><td class="n">%s</td></tr>
`, esc(short(x.Pair)), x.Left, x.Right, x.Equal, pct(x.Disagreement))
	}
	b.WriteString("</table>\n</body></html>\n")
	return []byte(b.String())
}

func pct(n jsonnum.Num) string {
	if !jsonnum.Finite(float64(n)) {
		return "–"
	}
	return strconv.Itoa(int(math.Round(100*float64(n)))) + "%"
}

func num(n jsonnum.Num) string {
	if !jsonnum.Finite(float64(n)) {
		return "–"
	}
	return strconv.FormatFloat(float64(n), 'f', 2, 64)
}

func short(s string) string {
	if len(s) > 8 {
		return s[:8]
	}
	return s
}
