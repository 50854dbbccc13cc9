package classroom

import (
	"bytes"
	"testing"

	"github.com/prefer-rlhf/prefer/core/ppo"
)

// A fresh policy's clip on a behaviour is an animated SVG of ClipSeconds of its env (one frame
// per step plus the start), and a policy of another env is refused.
func TestPolicyClipSVG(t *testing.T) {
	tr, err := ppo.New(ppo.DefaultConfig("PendulumSpin-v0"), 1)
	if err != nil {
		t.Fatal(err)
	}
	svg, err := PolicyClipSVG(tr.Policy(), "PendulumSpin-v0", 2, 1, 300)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(bytes.TrimSpace(svg), []byte("<svg")) || !bytes.Contains(svg, []byte("@keyframes")) {
		t.Fatalf("not an animated SVG:\n%.300s", svg)
	}
	// Pendulum's dt is 0.05 s: 2 s is 40 steps, 41 frames.
	if n := bytes.Count(svg, []byte(`<g class="frame"`)); n != 41 {
		t.Errorf("%d frames, want 41", n)
	}
	if _, err := PolicyClipSVG(tr.Policy(), "CartPole-v1", 2, 1, 300); err == nil {
		t.Error("a Pendulum policy drew a CartPole clip")
	}
}
