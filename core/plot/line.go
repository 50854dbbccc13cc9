// Package plot draws small, readable SVG line charts with no dependencies, so that the CLI,
// the hub's dashboard and the browser draw the same charts without fetching anything.
package plot

import (
	"bytes"
	"fmt"
	"html"
	"math"
	"strconv"
)

// Series is one line of a chart. X and Y have the same length; NaN points are skipped.
type Series struct {
	Name  string
	X, Y  []float64
	Color string // CSS colour; empty picks one from Palette
	Dash  bool   // draw dashed, for a reference line
	Dots  bool   // draw each point as a dot and no line: a scatter of measurements
}

// Chart is a line chart with labelled axes.
type Chart struct {
	Title          string
	XLabel, YLabel string
	Width, Height  int // pixels; 0 means 720×420
	Series         []Series
	// HLines are horizontal reference lines (e.g. a "solved" threshold), labelled by name.
	HLines []HLine
	// XWhole puts x ticks on whole numbers only, for x values that count things (versions,
	// rounds), where a tick at 2.5 means nothing.
	XWhole bool
}

// HLine is a horizontal reference line at Y.
type HLine struct {
	Name string
	Y    float64
}

// Palette is the colour cycle: readable on a projector and for common colour blindness
// (Okabe & Ito 2008).
var Palette = []string{"#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"}

// SVG renders the chart.
func (c *Chart) SVG() []byte {
	w, h := c.Width, c.Height
	if w == 0 || h == 0 {
		w, h = 720, 420
	}
	const left, right, top, bottom = 72.0, 24.0, 44.0, 56.0
	pw, ph := float64(w)-left-right, float64(h)-top-bottom

	x0, x1, y0, y1 := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for _, s := range c.Series {
		for i := range s.X {
			if i >= len(s.Y) || !finite(s.X[i]) || !finite(s.Y[i]) {
				continue
			}
			x0, x1 = math.Min(x0, s.X[i]), math.Max(x1, s.X[i])
			y0, y1 = math.Min(y0, s.Y[i]), math.Max(y1, s.Y[i])
		}
	}
	for _, l := range c.HLines {
		if finite(l.Y) {
			y0, y1 = math.Min(y0, l.Y), math.Max(y1, l.Y)
		}
	}
	if x0 > x1 {
		x0, x1, y0, y1 = 0, 1, 0, 1
	}
	xt := ticks(x0, x1, 6, c.XWhole)
	yt := ticks(y0, y1, 5, false)
	x0, x1 = math.Min(x0, xt[0]), math.Max(x1, xt[len(xt)-1])
	y0, y1 = math.Min(y0, yt[0]), math.Max(y1, yt[len(yt)-1])
	if x1 == x0 {
		x1 = x0 + 1
	}
	if y1 == y0 {
		y1 = y0 + 1
	}
	px := func(x float64) float64 { return left + (x-x0)/(x1-x0)*pw }
	py := func(y float64) float64 { return top + ph - (y-y0)/(y1-y0)*ph }

	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" font-family="system-ui, sans-serif" font-size="14">`+"\n", w, h, w, h)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#fff"/>`+"\n", w, h)
	if c.Title != "" {
		fmt.Fprintf(&b, `<text x="%g" y="26" font-size="18" font-weight="600" fill="#222">%s</text>`+"\n", left, esc(c.Title))
	}
	for _, t := range yt {
		y := py(t)
		fmt.Fprintf(&b, `<line x1="%g" y1="%.1f" x2="%g" y2="%.1f" stroke="#e5e5e5"/>`, left, y, left+pw, y)
		fmt.Fprintf(&b, `<text x="%g" y="%.1f" text-anchor="end" dominant-baseline="middle" fill="#555">%s</text>`+"\n", left-8, y, num(t))
	}
	for _, t := range xt {
		x := px(t)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%g" x2="%.1f" y2="%g" stroke="#e5e5e5"/>`, x, top, x, top+ph)
		fmt.Fprintf(&b, `<text x="%.1f" y="%g" text-anchor="middle" fill="#555">%s</text>`+"\n", x, top+ph+20, num(t))
	}
	fmt.Fprintf(&b, `<rect x="%g" y="%g" width="%g" height="%g" fill="none" stroke="#999"/>`+"\n", left, top, pw, ph)
	if c.XLabel != "" {
		fmt.Fprintf(&b, `<text x="%g" y="%d" text-anchor="middle" fill="#333">%s</text>`+"\n", left+pw/2, h-10, esc(c.XLabel))
	}
	if c.YLabel != "" {
		fmt.Fprintf(&b, `<text transform="translate(18 %g) rotate(-90)" text-anchor="middle" fill="#333">%s</text>`+"\n", top+ph/2, esc(c.YLabel))
	}
	for _, l := range c.HLines {
		if !finite(l.Y) {
			continue
		}
		y := py(l.Y)
		fmt.Fprintf(&b, `<line x1="%g" y1="%.1f" x2="%g" y2="%.1f" stroke="#888" stroke-dasharray="4 4"/>`, left, y, left+pw, y)
		fmt.Fprintf(&b, `<text x="%g" y="%.1f" text-anchor="end" fill="#666" font-size="12">%s</text>`+"\n", left+pw-4, y-5, esc(l.Name))
	}
	var legend bytes.Buffer // drawn after every series, so that no line crosses its text
	for i, s := range c.Series {
		col := s.Color
		if col == "" {
			col = Palette[i%len(Palette)]
		}
		var pts bytes.Buffer
		for j := range s.X {
			if j >= len(s.Y) || !finite(s.X[j]) || !finite(s.Y[j]) {
				continue
			}
			fmt.Fprintf(&pts, "%.1f,%.1f ", px(s.X[j]), py(s.Y[j]))
		}
		dash := ""
		if s.Dash {
			dash = ` stroke-dasharray="8 5"`
		}
		ly := top + 14 + float64(i)*20
		if s.Dots {
			for j := range s.X {
				if j < len(s.Y) && finite(s.X[j]) && finite(s.Y[j]) {
					fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3.5" fill="%s"/>`, px(s.X[j]), py(s.Y[j]), esc(col))
				}
			}
			fmt.Fprintf(&legend, `<circle cx="%g" cy="%g" r="4" fill="%s"/><text x="%g" y="%g" dominant-baseline="middle" fill="#222" stroke="#fff" stroke-width="4" stroke-linejoin="round" paint-order="stroke">%s</text>`+"\n",
				left+24, ly, esc(col), left+42, ly, esc(s.Name))
			continue
		}
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="2.5" stroke-linejoin="round"%s points="%s"/>`+"\n", esc(col), dash, bytes.TrimSpace(pts.Bytes()))
		// Legend, top left, one row per series.
		fmt.Fprintf(&legend, `<line x1="%g" y1="%g" x2="%g" y2="%g" stroke="%s" stroke-width="3"%s/><text x="%g" y="%g" dominant-baseline="middle" fill="#222" stroke="#fff" stroke-width="4" stroke-linejoin="round" paint-order="stroke">%s</text>`+"\n",
			left+12, ly, left+36, ly, esc(col), dash, left+42, ly, esc(s.Name))
	}
	b.Write(legend.Bytes())
	b.WriteString("</svg>\n")
	return b.Bytes()
}

// ticks returns about n round tick values covering [lo, hi] (Heckbert 1990, "Nice numbers
// for graph labels"), whole numbers only if whole.
func ticks(lo, hi float64, n int, whole bool) []float64 {
	if hi <= lo {
		hi = lo + 1
	}
	step := nice((hi-lo)/float64(n-1), true)
	if whole && step < 1 {
		step = 1
	}
	start := math.Floor(lo/step) * step
	end := math.Ceil(hi/step) * step
	var out []float64
	for v := start; v <= end+step/2; v += step {
		out = append(out, math.Round(v/step)*step)
	}
	return out
}

func nice(x float64, round bool) float64 {
	e := math.Floor(math.Log10(x))
	f := x / math.Pow(10, e)
	var nf float64
	switch {
	case round && f < 1.5, !round && f <= 1:
		nf = 1
	case round && f < 3, !round && f <= 2:
		nf = 2
	case round && f < 7, !round && f <= 5:
		nf = 5
	default:
		nf = 10
	}
	return nf * math.Pow(10, e)
}

// num formats a tick: 12k for 12000, plain otherwise.
func num(v float64) string {
	a := math.Abs(v)
	switch {
	case a >= 1e6:
		return strconv.FormatFloat(v/1e6, 'g', 4, 64) + "M"
	case a >= 1e4:
		return strconv.FormatFloat(v/1e3, 'g', 4, 64) + "k"
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

func esc(s string) string { return html.EscapeString(s) }
