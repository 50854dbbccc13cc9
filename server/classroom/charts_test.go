package classroom

import (
	"encoding/xml"
	"math"
	"strings"
	"testing"
)

func TestRescale(t *testing.T) {
	got := rescale([]float64{2, math.NaN(), 4, 3})
	if got[0] != 0 || !math.IsNaN(got[1]) || got[2] != 1 || got[3] != 0.5 {
		t.Fatalf("rescale %v", got)
	}
	if got := rescale([]float64{7, 7}); got[0] != 0.5 {
		t.Fatalf("flat %v", got)
	}
}

// polylines returns the number of points of each polyline in an SVG, checking it is XML.
func polylines(t *testing.T, svg []byte) []int {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(string(svg)))
	var n []int
	for {
		tok, err := d.Token()
		if err != nil {
			if err.Error() == "EOF" {
				return n
			}
			t.Fatalf("not XML: %v\n%s", err, svg)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "polyline" {
			for _, a := range se.Attr {
				if a.Name.Local == "points" {
					n = append(n, len(strings.Fields(a.Value)))
				}
			}
		}
	}
}

func TestCharts(t *testing.T) {
	pts := []PolicyPoint{
		{EnvSteps: 0, Learned: 0, True: 1, KL: 0},
		{EnvSteps: 1000, Learned: 1, True: 5, KL: 0.01},
		{EnvSteps: 2000, Learned: 2, True: 3, KL: math.NaN()},
	}
	svg := RewardHackingSVG(pts, Axes{True: "checker"}, 900, 600)
	// Returns (3 and 3 points) and KL (2); the Gao panel's 2 policies are dots, too few to fit.
	if got := polylines(t, svg); len(got) != 3 || got[0] != 3 || got[1] != 3 || got[2] != 2 || strings.Count(string(svg), "<circle") != 3 {
		t.Fatalf("reward hacking polylines %v", got)
	}
	if !strings.Contains(string(svg), "checker (now 3)") || !strings.Contains(string(svg), "learned reward (now 2)") {
		t.Fatalf("legend missing:\n%s", svg)
	}
	// No true reward: only the learned curve and KL.
	for i := range pts {
		pts[i].True = math.NaN()
	}
	if got := polylines(t, RewardHackingSVG(pts, Axes{True: "true reward"}, 900, 600)); len(got) != 2 {
		t.Fatalf("without a true reward: %v", got)
	}
	// No KL: the returns chart alone, with a note.
	for i := range pts {
		pts[i].KL = math.NaN()
	}
	if svg := RewardHackingSVG(pts, Axes{True: "true reward"}, 900, 600); len(polylines(t, svg)) != 1 || !strings.Contains(string(svg), "not recorded") {
		t.Fatalf("without KL:\n%s", svg)
	}
	if got := polylines(t, AccuracySVG([]ModelPoint{{1, 10, math.NaN()}, {2, 20, 0.7}, {3, 30, 0.8}}, 600, 300)); len(got) != 1 || got[0] != 2 {
		t.Fatalf("accuracy %v", got)
	}
	if got := polylines(t, MinutesSVG(make([]Minute, SummaryMinutes), 600, 300)); len(got) != 1 || got[0] != SummaryMinutes {
		t.Fatalf("minutes %v", got)
	}
	if got := polylines(t, RewardHackingSVG(nil, Axes{True: "checker"}, 900, 600)); len(got) != 1 || got[0] != 0 {
		t.Fatalf("empty history %v", got)
	}
}

// TestGaoFitOnTheChart: policies whose true return follows Gao et al.'s R(d) = d(α - β log d)
// above the first policy's give back α and β, the peak d* = exp(α/β - 1), R* = β d*, and the
// drop of the latest policy past it; the chart draws the fitted curve and names its peak.
func TestGaoFitOnTheChart(t *testing.T) {
	const alpha, beta, base = 3.0, 2.0, 100.0
	// The first policy barely moved (d = 0.001), as after the first round: it is the base.
	var pts []PolicyPoint
	for i := 0; i < 12; i++ {
		d := 0.4 * float64(i) // up to 4.4; d* = exp(0.5) ≈ 1.65
		if i == 0 {
			d = 0.001
		}
		r := base + d*(alpha-beta*math.Log(d))
		pts = append(pts, PolicyPoint{EnvSteps: int64(1000 * (i + 1)), Learned: float64(i), True: r, KL: d * d})
	}
	v := FitGaoView(pts)
	if !v.OK || v.Base != pts[0].True || len(v.D) != 12 {
		t.Fatalf("fit %+v", v)
	}
	wantD := math.Exp(alpha/beta - 1)
	if math.Abs(v.PeakD-wantD) > 0.02*wantD || math.Abs(v.PeakTrue-(base+beta*wantD)) > 0.05 {
		t.Fatalf("peak at d = %v, want about %v (fit %+v)", v.PeakD, wantD, v.Fit)
	}
	last := pts[len(pts)-1]
	if want := v.PeakTrue - last.True; !(v.Drop > 0) || math.Abs(v.Drop-want) > 1e-9 || v.PeakTrue < last.True {
		t.Fatalf("drop %v, want %v > 0", v.Drop, want)
	}
	svg := string(RewardHackingSVG(pts, Axes{True: "true reward"}, 960, 540))
	if got := polylines(t, []byte(svg)); len(got) != 4 || got[3] != 61 || strings.Count(svg, "<circle") != 13 {
		t.Fatalf("polylines %v: want returns, KL and the 61-point fitted curve, and 12 policies' dots", got)
	}
	if !strings.Contains(svg, "peak ") || !strings.Contains(svg, "; drop ") {
		t.Fatalf("the chart does not name the peak and the drop:\n%s", svg)
	}
	// Still rising: no peak, no fitted curve.
	rising := pts[:3]
	for i := range rising {
		rising[i].True = base + 10*float64(i)
	}
	if v := FitGaoView(rising); v.OK && v.PeakD < math.Sqrt(rising[2].KL) {
		t.Fatalf("a rising run peaked: %+v", v)
	}
	if v := FitGaoView(pts[:2]); v.OK {
		t.Fatal("fitted two points")
	}
}
