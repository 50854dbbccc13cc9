package classroom

import (
	"encoding/xml"
	"image"
	"image/color"
	"regexp"
	"strconv"
	"testing"

	qr "github.com/piglig/go-qr"
)

var runRE = regexp.MustCompile(`M(\d+) (\d+)h(\d+)v1h-(\d+)z`)

// svgModules reads QRSVG's output back into a grid of modules, quiet zone included.
func svgModules(t *testing.T, svg []byte) [][]bool {
	t.Helper()
	var doc struct {
		ViewBox string `xml:"viewBox,attr"`
		Path    struct {
			D string `xml:"d,attr"`
		} `xml:"path"`
	}
	if err := xml.Unmarshal(svg, &doc); err != nil {
		t.Fatalf("not XML: %v", err)
	}
	var side int
	if _, err := parseViewBox(doc.ViewBox, &side); err != nil {
		t.Fatalf("viewBox %q", doc.ViewBox)
	}
	grid := make([][]bool, side)
	for y := range grid {
		grid[y] = make([]bool, side)
	}
	for _, m := range runRE.FindAllStringSubmatch(doc.Path.D, -1) {
		x, _ := strconv.Atoi(m[1])
		y, _ := strconv.Atoi(m[2])
		n, _ := strconv.Atoi(m[3])
		for i := 0; i < n; i++ {
			grid[y][x+i] = true
		}
	}
	return grid
}

// parseViewBox reads a square viewBox "0 0 side side".
func parseViewBox(viewBox string, side *int) (int, error) {
	var a, b, h int
	m := regexp.MustCompile(`^(\d+) (\d+) (\d+) (\d+)$`).FindStringSubmatch(viewBox)
	if m == nil {
		return 0, strconv.ErrSyntax
	}
	a, _ = strconv.Atoi(m[1])
	b, _ = strconv.Atoi(m[2])
	*side, _ = strconv.Atoi(m[3])
	h, _ = strconv.Atoi(m[4])
	if a != 0 || b != 0 || h != *side {
		return 0, strconv.ErrSyntax
	}
	return 1, nil
}

// The SVG draws exactly the encoder's modules inside a light quiet zone, the symbol has the
// structure ISO/IEC 18004 prescribes (finder patterns, timing patterns, format information
// with a valid BCH code at level M), and the picture decodes back to the text.
func TestQRSVGDecodes(t *testing.T) {
	for _, text := range []string{
		"http://192.168.1.23:8080/join/K7Q2XM",
		"https://prefer.example.org/join?code=ABCD-1234&session=3f2a9c1e-77b0-4c55-9d0b-1d2e3f4a5b6c",
	} {
		svg, err := QRSVG(text, "Join <class>")
		if err != nil {
			t.Fatal(err)
		}
		grid := svgModules(t, svg)
		dark, _ := QR(text)
		n := len(dark)
		if len(grid) != n+2*QRQuietZone || (n-17)%4 != 0 || n < 21 {
			t.Fatalf("%q: side %d with a symbol of %d modules", text, len(grid), n)
		}
		for y := range grid {
			for x := range grid[y] {
				inside := x >= QRQuietZone && y >= QRQuietZone && x < n+QRQuietZone && y < n+QRQuietZone
				want := inside && dark[y-QRQuietZone][x-QRQuietZone]
				if grid[y][x] != want {
					t.Fatalf("%q: module (%d, %d) is %v in the SVG, %v in the code", text, x, y, grid[y][x], want)
				}
			}
		}
		checkStructure(t, dark)

		// Render at 6 px a module and decode.
		const px = 6
		img := image.NewGray(image.Rect(0, 0, len(grid)*px, len(grid)*px))
		for y := range img.Pix {
			img.Pix[y] = 255
		}
		for y := range grid {
			for x := range grid[y] {
				if grid[y][x] {
					for dy := 0; dy < px; dy++ {
						for dx := 0; dx < px; dx++ {
							img.SetGray(x*px+dx, y*px+dy, color.Gray{})
						}
					}
				}
			}
		}
		got, err := qr.Decode(img)
		if err != nil || got != text {
			t.Fatalf("decoded %q, %v; want %q", got, err, text)
		}
	}
	if _, err := QRSVG("", "x"); err == nil {
		t.Fatal("empty text: no error")
	}
}

// checkStructure checks the finder patterns in three corners, the timing patterns and the
// format information (ISO/IEC 18004 §7.3, §7.9), independently of the encoder.
func checkStructure(t *testing.T, d [][]bool) {
	t.Helper()
	n := len(d)
	finder := func(x0, y0 int) {
		for y := 0; y < 7; y++ {
			for x := 0; x < 7; x++ {
				// dark: the outer ring and the 3×3 centre
				ring := x == 0 || y == 0 || x == 6 || y == 6
				centre := x >= 2 && x <= 4 && y >= 2 && y <= 4
				if d[y0+y][x0+x] != (ring || centre) {
					t.Fatalf("finder at (%d, %d): module (%d, %d) wrong", x0, y0, x, y)
				}
			}
		}
	}
	finder(0, 0)
	finder(n-7, 0)
	finder(0, n-7)
	for i := 8; i < n-8; i++ {
		if d[6][i] != (i%2 == 0) || d[i][6] != (i%2 == 0) {
			t.Fatalf("timing pattern wrong at %d", i)
		}
	}
	// Format bits 0-5 at (8, 0..5), 6 at (8, 7), 7 at (8, 8), 8 at (7, 8), 9-14 at (14-i, 8),
	// masked with 101010000010010; the 15 bits are a BCH(15, 5) codeword of generator 0x537.
	at := func(x, y int) int {
		if d[y][x] {
			return 1
		}
		return 0
	}
	v := 0
	for i := 0; i <= 5; i++ {
		v |= at(8, i) << i
	}
	v |= at(8, 7)<<6 | at(8, 8)<<7 | at(7, 8)<<8
	for i := 9; i < 15; i++ {
		v |= at(14-i, 8) << i
	}
	v ^= 0x5412
	rem := v
	for i := 14; i >= 10; i-- {
		if rem>>i&1 == 1 {
			rem ^= 0x537 << (i - 10)
		}
	}
	if rem != 0 {
		t.Fatalf("format information %015b is not a BCH codeword", v)
	}
	if level := v >> 13; level != 0 { // M is 00
		t.Fatalf("error correction level bits %02b, want 00 (M)", level)
	}
}
