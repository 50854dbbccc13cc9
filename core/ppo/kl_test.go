package ppo

import (
	"math"
	"testing"
)

func TestKLControllerZiegler(t *testing.T) {
	for _, tc := range []struct{ kl, want float64 }{
		{12, 0.1 * (1 + 0.1*0.2)},   // far above target: error clipped to +0.2
		{6.3, 0.1 * (1 + 0.1*0.05)}, // (6.3−6)/6 = 0.05
		{5.4, 0.1 * (1 - 0.1*0.1)},  // (5.4−6)/6 = −0.1
		{0, 0.1 * (1 - 0.1*0.2)},    // clipped to −0.2
	} {
		k := KLController{Beta: 0.1, Target: 6, Rate: 0.1}
		if got := k.Update(tc.kl); math.Abs(got-tc.want) > 1e-15 || k.Beta != got {
			t.Errorf("KL %v: β = %v, want %v", tc.kl, got, tc.want)
		}
	}
	fixed := KLController{Beta: 0.3, Rate: 0.1}
	if got := fixed.Update(100); got != 0.3 {
		t.Errorf("fixed controller moved β to %v", got)
	}
}
