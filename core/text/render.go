package text

import (
	"fmt"
	"html"
	"strings"
)

// SVG draws a text clip as an SVG card: the prompt in grey, the continuation in black after
// it, wrapped at about perLine characters (60 if perLine <= 0). The CLI's `prefer env render`
// writes it; it is what a rater reads.
func SVG(prompt, continuation string, perLine int) string {
	if perLine <= 0 {
		perLine = 60
	}
	type span struct {
		s    string
		cont bool
	}
	var lines [][]span
	var line []span
	n := 0
	for _, part := range []span{{prompt, false}, {continuation, true}} {
		for _, w := range strings.SplitAfter(part.s, " ") {
			if w == "" {
				continue
			}
			if n+len(w) > perLine && n > 0 {
				lines = append(lines, line)
				line, n = nil, 0
			}
			line = append(line, span{w, part.cont})
			n += len(w)
		}
	}
	lines = append(lines, line)
	const lh, pad, cw = 22, 12, 8.4
	h := pad*2 + lh*len(lines)
	wpx := pad*2 + int(cw*float64(perLine))
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d">`, wpx, h, wpx, h)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#ffffff" stroke="#cccccc"/>`, wpx, h)
	for i, l := range lines {
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-family="monospace" font-size="14" xml:space="preserve">`, pad, pad+lh*(i+1)-6)
		for _, sp := range l {
			fill := "#888888"
			if sp.cont {
				fill = "#000000"
			}
			fmt.Fprintf(&b, `<tspan fill="%s">%s</tspan>`, fill, html.EscapeString(sp.s))
		}
		b.WriteString(`</text>`)
	}
	b.WriteString("</svg>\n")
	return b.String()
}
