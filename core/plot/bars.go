package plot

import (
	"bytes"
	"fmt"
	"math"
)

// Bars is a grouped bar chart: one group per entry of Groups along x, one bar per series in
// each group, each with an optional error bar (a confidence interval).
type Bars struct {
	Title         string
	YLabel        string
	Width, Height int      // pixels; 0 means 720×420
	Groups        []string // the x categories
	Series        []BarSeries
	HLines        []HLine
}

// BarSeries is one bar per group. Low and High, if not nil, are the error bar's ends; NaN
// values draw nothing.
type BarSeries struct {
	Name      string
	Y         []float64
	Low, High []float64
	Color     string // CSS colour; empty picks one from Palette
}

// SVG renders the chart. Bars start at 0 (or at the axis bottom if every value is above it).
func (c *Bars) SVG() []byte {
	w, h := c.Width, c.Height
	if w == 0 || h == 0 {
		w, h = 720, 420
	}
	const left, right, top, bottom = 72.0, 24.0, 44.0, 56.0
	pw, ph := float64(w)-left-right, float64(h)-top-bottom
	y0, y1 := 0.0, 0.0
	see := func(v float64) {
		if finite(v) {
			y0, y1 = math.Min(y0, v), math.Max(y1, v)
		}
	}
	at := func(v []float64, i int) float64 {
		if i < len(v) {
			return v[i]
		}
		return math.NaN()
	}
	for _, s := range c.Series {
		for i := range c.Groups {
			see(at(s.Y, i))
			see(at(s.Low, i))
			see(at(s.High, i))
		}
	}
	for _, l := range c.HLines {
		see(l.Y)
	}
	y1 += 0.08 * (y1 - y0) // room above the tallest bar and its error bar
	yt := ticks(y0, y1, 5, false)
	y0, y1 = math.Min(y0, yt[0]), math.Max(y1, yt[len(yt)-1])
	if y1 == y0 {
		y1 = y0 + 1
	}
	py := func(y float64) float64 { return top + ph - (y-y0)/(y1-y0)*ph }
	base := py(math.Max(y0, math.Min(0, y1)))

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
	fmt.Fprintf(&b, `<rect x="%g" y="%g" width="%g" height="%g" fill="none" stroke="#999"/>`+"\n", left, top, pw, ph)
	if c.YLabel != "" {
		fmt.Fprintf(&b, `<text transform="translate(18 %g) rotate(-90)" text-anchor="middle" fill="#333">%s</text>`+"\n", top+ph/2, esc(c.YLabel))
	}
	gw := pw / float64(max(len(c.Groups), 1))
	bw := gw * 0.8 / float64(max(len(c.Series), 1))
	for g, name := range c.Groups {
		fmt.Fprintf(&b, `<text x="%.1f" y="%g" text-anchor="middle" fill="#555">%s</text>`+"\n", left+gw*(float64(g)+0.5), top+ph+20, esc(name))
	}
	for i, s := range c.Series {
		col := s.Color
		if col == "" {
			col = Palette[i%len(Palette)]
		}
		for g := range c.Groups {
			x := left + gw*float64(g) + gw*0.1 + bw*float64(i)
			if v := at(s.Y, g); finite(v) {
				y := py(v)
				fmt.Fprintf(&b, `<rect class="bar" x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"/>`+"\n", x, math.Min(y, base), bw*0.92, math.Abs(base-y), esc(col))
			}
			if lo, hi := at(s.Low, g), at(s.High, g); finite(lo) && finite(hi) {
				cx := x + bw*0.46
				fmt.Fprintf(&b, `<path class="ci" d="M%.1f %.1fV%.1fM%.1f %.1fH%.1fM%.1f %.1fH%.1f" stroke="#222" stroke-width="1.5" fill="none"/>`+"\n",
					cx, py(lo), py(hi), cx-bw*0.2, py(lo), cx+bw*0.2, cx-bw*0.2, py(hi), cx+bw*0.2)
			}
		}
		// Legend: one row under the axis, so that it never covers a bar.
		lx, ly := left+float64(i)*pw/float64(len(c.Series)), float64(h)-14
		fmt.Fprintf(&b, `<rect x="%g" y="%g" width="14" height="14" fill="%s"/><text x="%g" y="%g" dominant-baseline="middle" fill="#222">%s</text>`+"\n",
			lx, ly-7, esc(col), lx+20, ly, esc(s.Name))
	}
	for _, l := range c.HLines {
		if !finite(l.Y) {
			continue
		}
		y := py(l.Y)
		fmt.Fprintf(&b, `<line x1="%g" y1="%.1f" x2="%g" y2="%.1f" stroke="#888" stroke-dasharray="4 4"/>`, left, y, left+pw, y)
		fmt.Fprintf(&b, `<text x="%g" y="%.1f" text-anchor="end" fill="#666" font-size="12">%s</text>`+"\n", left+pw-4, y-5, esc(l.Name))
	}
	b.WriteString("</svg>\n")
	return b.Bytes()
}
