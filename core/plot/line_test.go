package plot

import (
	"bytes"
	"encoding/xml"
	"io"
	"math"
	"strings"
	"testing"
)

// wellFormed parses b as XML and returns the number of elements of each name.
func wellFormed(t *testing.T, b []byte) map[string]int {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(b))
	n := map[string]int{}
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return n
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v\n%s", err, b)
		}
		if se, ok := tok.(xml.StartElement); ok {
			n[se.Name.Local]++
		}
	}
}

func TestChartSVG(t *testing.T) {
	c := Chart{
		Title: "return <by> steps & seeds", XLabel: "env steps", YLabel: "return",
		Series: []Series{
			{Name: "seed 1", X: []float64{0, 1000, 2000, 3000}, Y: []float64{10, 50, math.NaN(), 480}},
			{Name: "seed 2", X: []float64{0, 1000, 2000}, Y: []float64{12, 70, 300}, Dash: true},
		},
		HLines: []HLine{{Name: "solved", Y: 475}, {Name: "nan", Y: math.NaN()}},
	}
	b := c.SVG()
	n := wellFormed(t, b)
	if n["polyline"] != 2 {
		t.Errorf("%d polylines, want one per series", n["polyline"])
	}
	if !strings.Contains(string(b), "return &lt;by&gt; steps &amp; seeds") {
		t.Error("the title should be escaped")
	}
	// The NaN point is skipped: seed 1's line has three points.
	for _, line := range strings.Split(string(b), "\n") {
		if strings.Contains(line, "<polyline") && strings.Contains(line, Palette[0]) {
			pts := line[strings.Index(line, `points="`)+8:]
			pts = pts[:strings.Index(pts, `"`)]
			if k := len(strings.Fields(pts)); k != 3 {
				t.Errorf("seed 1 has %d points, want 3 (NaN skipped)", k)
			}
		}
	}
	if strings.Contains(string(b), "NaN") {
		t.Error("NaN leaked into the SVG")
	}
}

func TestChartEmptyAndFlat(t *testing.T) {
	wellFormed(t, (&Chart{}).SVG())
	wellFormed(t, (&Chart{Series: []Series{{X: []float64{1, 2}, Y: []float64{5, 5}}}}).SVG())
}

func TestTicksAreRoundAndCover(t *testing.T) {
	for _, r := range [][2]float64{{0, 1}, {-1234, 98765}, {0.001, 0.0042}, {-200, -150}, {3, 3}} {
		ts := ticks(r[0], r[1], 6, false)
		if ts[0] > r[0] || ts[len(ts)-1] < r[1] && r[1] > r[0] {
			t.Errorf("ticks %v do not cover [%v, %v]", ts, r[0], r[1])
		}
		step := ts[1] - ts[0]
		m := step / math.Pow(10, math.Floor(math.Log10(step)))
		if k := math.Round(m); math.Abs(m-k) > 1e-9 || (k != 1 && k != 2 && k != 5 && k != 10) {
			t.Errorf("step %v of %v is not 1, 2 or 5 times a power of ten", step, ts)
		}
		if len(ts) < 2 || len(ts) > 12 {
			t.Errorf("%d ticks for [%v, %v]", len(ts), r[0], r[1])
		}
	}
	// Whole ticks for counts: 2..5 would get steps of 0.5 otherwise.
	if ts := ticks(2, 5, 6, false); ts[1]-ts[0] != 0.5 {
		t.Errorf("ticks(2, 5) = %v, want a step of 0.5", ts)
	}
	for _, v := range ticks(2, 5, 6, true) {
		if v != math.Trunc(v) {
			t.Errorf("whole ticks(2, 5) = %v", ticks(2, 5, 6, true))
			break
		}
	}
	if num(12000) != "12k" || num(2.5e6) != "2.5M" || num(0.25) != "0.25" {
		t.Errorf("num: %s %s %s", num(12000), num(2.5e6), num(0.25))
	}
}

// TestChartDots: a Dots series draws one circle per finite point (and one in its legend) and
// no line.
func TestChartDots(t *testing.T) {
	c := Chart{Series: []Series{{Name: "measured", X: []float64{0.5, 0.1, 0.3, 0.2}, Y: []float64{1, 2, math.NaN(), 4}, Dots: true}}}
	n := wellFormed(t, c.SVG())
	if n["polyline"] != 0 || n["circle"] != 4 {
		t.Fatalf("%d polylines and %d circles, want 0 and 3 points + 1 legend", n["polyline"], n["circle"])
	}
}
