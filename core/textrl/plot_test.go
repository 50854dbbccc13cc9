package textrl

import (
	"slices"
	"strings"
	"testing"
)

func TestShareOfGain(t *testing.T) {
	for _, tc := range []struct {
		ys, want []float64
		top      float64
	}{
		{[]float64{1, 3, 5, 2}, []float64{0, 0.5, 1, 0.25}, 4},
		{[]float64{2, 1, 0}, []float64{0, -0.5, -1}, -2},
		{[]float64{1, 1}, []float64{0, 0}, 0},
	} {
		top, got := shareOfGain(tc.ys)
		if top != tc.top || !slices.Equal(got, tc.want) {
			t.Errorf("shareOfGain(%v) = %v, %v; want %v, %v", tc.ys, top, got, tc.top, tc.want)
		}
	}
}

// TestChartShowsGoldFalling: a run whose reward-model score climbs into the tens while its gold
// score rises and falls within [-1, 1] draws both on one scale, the gold's fall visible.
func TestChartShowsGoldFalling(t *testing.T) {
	r := &Report{Env: "TextPositive-v0", Method: PPO, GoldBefore: 0.07, GoldAfter: 0}
	for i, g := range []float64{0.1, 0.5, 0.9, 0.4, 0} {
		r.Curve = append(r.Curve, Point{Iter: i + 1, Reward: float64(6 * i), Gold: g})
	}
	c := r.Chart()
	if len(c.Series) != 2 {
		t.Fatalf("%d series", len(c.Series))
	}
	rm, gold := c.Series[0].Y, c.Series[1].Y
	if rm[len(rm)-1] != 1 || gold[2] != 1 || gold[4] >= 0 {
		t.Errorf("reward model %v, gold %v: want the reward model ending at 1 and the gold peaking at 1 and ending below 0", rm, gold)
	}
	if !strings.Contains(c.Series[0].Name, "24") || !strings.Contains(c.Series[1].Name, "0.8") {
		t.Errorf("the names do not give the largest gains: %q, %q", c.Series[0].Name, c.Series[1].Name)
	}
}
