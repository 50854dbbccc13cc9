package reward

import (
	"testing"

	"github.com/prefer-rlhf/prefer/core/oracle"
)

// TestMinSteps: with few comparisons an epoch is one minibatch step, so MinSteps adds epochs
// until each member has taken that many steps; with MinSteps 0, Fit takes exactly Epochs.
func TestMinSteps(t *testing.T) {
	d, _ := cartData(3, 40, 8, oracle.Rater{})
	steps := func(minSteps int) int {
		c := smallConfig(1)
		c.Epochs, c.MinSteps = 2, minSteps
		m, err := New(c, cartShape)
		if err != nil {
			t.Fatal(err)
		}
		st, err := m.Fit(d)
		if err != nil {
			t.Fatal(err)
		}
		return st.Steps
	}
	if got := steps(0); got != 2*3 {
		t.Errorf("MinSteps 0: %d steps over 3 members, want 6 (2 epochs of one batch)", got)
	}
	if got := steps(25); got != 25*3 {
		t.Errorf("MinSteps 25: %d steps over 3 members, want 75", got)
	}
	c := smallConfig(1)
	c.MinSteps = -1
	if _, err := New(c, cartShape); err == nil {
		t.Error("negative MinSteps accepted")
	}
}
