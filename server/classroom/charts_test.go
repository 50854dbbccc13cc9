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
	svg := RewardHackingSVG(pts, "checker", 900, 600)
	if got := polylines(t, svg); len(got) != 3 || got[0] != 3 || got[1] != 3 || got[2] != 2 {
		t.Fatalf("reward hacking polylines %v", got)
	}
	if !strings.Contains(string(svg), "checker (now 3)") || !strings.Contains(string(svg), "learned reward (now 2)") {
		t.Fatalf("legend missing:\n%s", svg)
	}
	// No true reward: only the learned curve and KL.
	for i := range pts {
		pts[i].True = math.NaN()
	}
	if got := polylines(t, RewardHackingSVG(pts, "true reward", 900, 600)); len(got) != 2 {
		t.Fatalf("without a true reward: %v", got)
	}
	// No KL: the returns chart alone, with a note.
	for i := range pts {
		pts[i].KL = math.NaN()
	}
	if svg := RewardHackingSVG(pts, "true reward", 900, 600); len(polylines(t, svg)) != 1 || !strings.Contains(string(svg), "not recorded") {
		t.Fatalf("without KL:\n%s", svg)
	}
	if got := polylines(t, AccuracySVG([]ModelPoint{{1, 10, math.NaN()}, {2, 20, 0.7}, {3, 30, 0.8}}, 600, 300)); len(got) != 1 || got[0] != 2 {
		t.Fatalf("accuracy %v", got)
	}
	if got := polylines(t, MinutesSVG(make([]Minute, SummaryMinutes), 600, 300)); len(got) != 1 || got[0] != SummaryMinutes {
		t.Fatalf("minutes %v", got)
	}
	if got := polylines(t, RewardHackingSVG(nil, "checker", 900, 600)); len(got) != 1 || got[0] != 0 {
		t.Fatalf("empty history %v", got)
	}
}
