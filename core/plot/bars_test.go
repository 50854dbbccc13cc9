package plot

import (
	"encoding/xml"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func TestBarsSVG(t *testing.T) {
	c := Bars{
		Title: "normalised <return>", YLabel: "normalised return",
		Groups: []string{"oracle", "mistake", "skip"},
		Series: []BarSeries{
			{Name: "uniform", Y: []float64{1, 0.5, math.NaN()}, Low: []float64{0.9, 0.3, 0}, High: []float64{1.1, 0.7, 0}},
			{Name: "entropy", Y: []float64{0.8, -0.2, 0.4}},
		},
		HLines: []HLine{{Name: "true-reward PPO", Y: 1}},
	}
	svg := string(c.SVG())
	if err := xml.Unmarshal([]byte(svg), new(struct{})); err != nil {
		t.Fatalf("not well-formed XML: %v", err)
	}
	// Five bars (one NaN skipped), three error bars, escaped title, group labels.
	if n := strings.Count(svg, `class="bar"`); n != 5 {
		t.Errorf("%d bars, want 5", n)
	}
	if n := strings.Count(svg, `class="ci"`); n != 3 {
		t.Errorf("%d error bars, want 3", n)
	}
	for _, s := range []string{"normalised &lt;return&gt;", ">mistake<", ">entropy<", "true-reward PPO"} {
		if !strings.Contains(svg, s) {
			t.Errorf("missing %q", s)
		}
	}
	// Bar heights are proportional to values: oracle/uniform (1) is twice mistake/uniform (0.5).
	re := regexp.MustCompile(`class="bar" x="[^"]+" y="[^"]+" width="[^"]+" height="([^"]+)"`)
	m := re.FindAllStringSubmatch(svg, -1)
	h := func(i int) float64 { v, _ := strconv.ParseFloat(m[i][1], 64); return v }
	if r := h(0) / h(1); math.Abs(r-2) > 0.02 {
		t.Errorf("bar heights %v and %v, ratio %v, want 2", h(0), h(1), r)
	}
}
