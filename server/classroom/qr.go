// Package classroom is Prefer's teaching mode: class sessions over a task list (Gymnasium's
// tasks and behaviours with no built-in reward), the join code and its QR code for the
// projector, and the teacher's views.
package classroom

import (
	"bytes"
	"fmt"

	qr "github.com/piglig/go-qr"
)

// QRQuietZone is the light border around a QR code, in modules: ISO/IEC 18004 asks for 4, and
// phone cameras lock on faster with it.
const QRQuietZone = 4

// QR returns the modules of a QR code for text: dark[y][x] for a size×size symbol, with no
// quiet zone. It uses error correction level M (15% of codewords recoverable, enough for a
// projector across a room) and the smallest version that holds the text, raising the level
// where that costs no extra size. The encoder is github.com/piglig/go-qr, a Go port of
// Nayuki's reference QR Code generator.
func QR(text string) (dark [][]bool, err error) {
	if text == "" {
		return nil, fmt.Errorf("classroom: QR code of an empty text")
	}
	code, err := qr.EncodeText(text, qr.Medium)
	if err != nil {
		return nil, fmt.Errorf("classroom: QR code: %w", err)
	}
	n := code.Size()
	dark = make([][]bool, n)
	for y := range dark {
		dark[y] = make([]bool, n)
		for x := range dark[y] {
			dark[y][x] = code.Module(x, y)
		}
	}
	return dark, nil
}

// QRSVG returns a QR code for text as a standalone SVG: one path of unit squares in a viewBox
// of modules plus the quiet zone, black on white, crisp at any size (the page sets the size).
// title is the SVG's accessible name.
func QRSVG(text, title string) ([]byte, error) {
	dark, err := QR(text)
	if err != nil {
		return nil, err
	}
	n := len(dark)
	side := n + 2*QRQuietZone
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" shape-rendering="crispEdges" role="img">`, side, side)
	fmt.Fprintf(&b, `<title>%s</title>`, xmlEscape(title))
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#fff"/><path fill="#000" d="`, side, side)
	for y, row := range dark {
		for x := 0; x < n; x++ {
			if !row[x] {
				continue
			}
			// A run of dark modules is one rectangle: fewer bytes than a square each.
			run := 1
			for x+run < n && row[x+run] {
				run++
			}
			fmt.Fprintf(&b, "M%d %dh%dv1h-%dz", x+QRQuietZone, y+QRQuietZone, run, run)
			x += run - 1
		}
	}
	b.WriteString(`"/></svg>`)
	return b.Bytes(), nil
}

func xmlEscape(s string) string {
	var b bytes.Buffer
	for _, r := range s {
		switch r {
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			b.WriteString("&amp;")
		case '"':
			b.WriteString("&quot;")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
