package env

import (
	"bytes"
	"encoding/xml"
	"io"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestDrawGeometry checks each picture against the state it draws: where the pole, rod, links
// and car end up, and that every shape is well-formed and inside (or near) the view.
func TestDrawGeometry(t *testing.T) {
	const eps = 1e-9
	// CartPole: the pole leans right for theta > 0 and its far end is 1 m from the axle.
	s := NewCartPole().Draw([]float64{0.5, 0, 0.3, 0})
	pole := s.Shapes[2].Points
	tipX, tipY := (pole[2]+pole[4])/2, (pole[3]+pole[5])/2
	axle := s.Shapes[3].Points
	if d := math.Hypot(tipX-axle[0], tipY-axle[1]); math.Abs(d-0.96) > eps || tipX <= 0.5 {
		t.Errorf("CartPole pole tip at (%v, %v), %v from the axle", tipX, tipY, d)
	}
	if math.Abs(math.Atan2(tipX-axle[0], tipY-axle[1])-0.3) > eps {
		t.Errorf("CartPole pole angle is not theta")
	}
	// Pendulum: theta = 0 is up, theta = pi/2 (counter-clockwise) points left.
	for _, c := range []struct{ th, x, y float64 }{{0, 0, 1}, {math.Pi / 2, -1, 0}, {math.Pi, 0, -1}} {
		end := NewPendulum().Draw([]float64{c.th, 0}).Shapes[2].Points
		if math.Abs(end[0]-c.x) > eps || math.Abs(end[1]-c.y) > eps {
			t.Errorf("Pendulum theta %v: end at %v, want (%v, %v)", c.th, end, c.x, c.y)
		}
	}
	// Acrobot: the tip's height is -cos(t1) - cos(t1 + t2), the quantity termination tests.
	rng := rand.New(rand.NewPCG(31, 31))
	for range 20 {
		t1, t2 := uniformTest(rng, -math.Pi, math.Pi), uniformTest(rng, -math.Pi, math.Pi)
		link2 := NewAcrobot().Draw([]float64{t1, t2, 0, 0}).Shapes[2].Points
		tipY := (link2[5] + link2[7]) / 2
		if want := -math.Cos(t1) - math.Cos(t1+t2); math.Abs(tipY-want) > eps {
			t.Fatalf("Acrobot tip height %v, want %v", tipY, want)
		}
	}
	// MountainCar: the car sits on the hill (its bottom centre 10 px above the curve).
	for _, pos := range []float64{-1.2, -0.5, 0, 0.45, 0.6} {
		car := NewMountainCarContinuous().Draw([]float64{pos, 0}).Shapes[1].Points
		bx, by := (car[0]+car[6])/2, (car[1]+car[7])/2
		if math.Abs(bx-pos) > eps || math.Abs(by-(mcHeight(pos)+10/mcPx)) > eps {
			t.Errorf("car at %v: bottom centre (%v, %v)", pos, bx, by)
		}
	}
	// Every env: shapes are well-formed and near the view for states in range.
	for _, name := range []string{"CartPole-v1", "Pendulum-v1", "Acrobot-v1", "MountainCarContinuous-v0"} {
		e, _ := Lookup(name)
		for range 50 {
			e.Reset(rng)
			sc := e.Draw(e.State())
			v := sc.View
			if !(v.X1 > v.X0 && v.Y1 > v.Y0) || len(sc.Shapes) == 0 {
				t.Fatalf("%s: scene %+v", name, sc)
			}
			for _, sh := range sc.Shapes {
				if sh.Fill == "" && sh.Stroke == "" {
					t.Fatalf("%s: an invisible %s", name, sh.Kind)
				}
				for i := 0; i < len(sh.Points); i += 2 {
					x, y := sh.Points[i], sh.Points[i+1]
					if x < v.X0-0.5 || x > v.X1+0.5 || y < v.Y0-0.5 || y > v.Y1+0.5 {
						t.Fatalf("%s: a %s point (%v, %v) far outside the view %+v", name, sh.Kind, x, y, v)
					}
				}
			}
		}
	}
}

// parseSVG checks that b is well-formed XML and counts the elements by name.
func parseSVG(t *testing.T, b []byte) map[string]int {
	t.Helper()
	counts := map[string]int{}
	d := xml.NewDecoder(bytes.NewReader(b))
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v\n%s", err, b)
		}
		if se, ok := tok.(xml.StartElement); ok {
			counts[se.Name.Local]++
		}
	}
	return counts
}

func TestSVG(t *testing.T) {
	e := NewCartPole()
	states := [][]float64{{0, 0, 0, 0}}
	for i := range 24 {
		s := []float64{float64(i) * 0.05, 0, float64(i) * 0.01, 0}
		states = append(states, s)
	}
	scenes := Scenes(e, states) // 25 scenes
	strip, err := Filmstrip(scenes, 5, 100)
	if err != nil {
		t.Fatal(err)
	}
	c := parseSVG(t, strip)
	// 1 outer svg + 5 frames (scenes 0, 5, 10, 15, 20), each with a background rect, a track
	// line, a cart and a pole, and an axle.
	if c["svg"] != 6 || c["rect"] != 5 || c["polygon"] != 10 || c["polyline"] != 5 || c["circle"] != 5 {
		t.Fatalf("filmstrip elements %v", c)
	}
	if !bytes.Contains(strip, []byte(`width="516"`)) { // 5 frames of 100 px and 4 gaps of 4
		t.Errorf("filmstrip width: %s", strip[:200])
	}

	anim, err := Animated(scenes, 0.02, 300)
	if err != nil {
		t.Fatal(err)
	}
	c = parseSVG(t, anim)
	if c["g"] != 2*25 || c["svg"] != 26 || c["style"] != 1 { // a frame group and a flip group each
		t.Fatalf("animated elements %v", c)
	}
	// The loop lasts 25 frames of 0.02 s and each frame shows for 1/25 of it, starting in turn.
	for _, want := range []string{"prefer-clip 0.5s step-end infinite", "4%{visibility:hidden}", "animation-delay:0.48s", "animation-delay:0s;visibility:visible"} {
		if !bytes.Contains(anim, []byte(want)) {
			t.Errorf("animated SVG lacks %q", want)
		}
	}

	for name, f := range map[string]func() ([]byte, error){
		"no scenes":    func() ([]byte, error) { return Filmstrip(nil, 1, 100) },
		"every 0":      func() ([]byte, error) { return Filmstrip(scenes, 0, 100) },
		"width 0":      func() ([]byte, error) { return Filmstrip(scenes, 1, 0) },
		"no fps":       func() ([]byte, error) { return Animated(scenes, 0, 100) },
		"NaN in state": func() ([]byte, error) { return Animated(Scenes(e, [][]float64{{math.NaN(), 0, 0, 0}}), 1, 100) },
		"bad kind": func() ([]byte, error) {
			return Filmstrip([]Scene{{View: Rect{0, 0, 1, 1}, Shapes: []Shape{{Kind: "blob"}}}}, 1, 10)
		},
	} {
		if _, err := f(); err == nil || !strings.HasPrefix(err.Error(), "env: ") {
			t.Errorf("%s: err = %v", name, err)
		}
	}

	// Colours that are not plain CSS colours never reach the document.
	evil := []Scene{{View: Rect{0, 0, 1, 1}, Shapes: []Shape{{Kind: Circle, Points: []float64{0.5, 0.5}, R: 0.1, Fill: `red"/><script>`}}}}
	b, err := Filmstrip(evil, 1, 10)
	if err != nil || bytes.Contains(b, []byte("script")) {
		t.Fatalf("unsafe colour passed through: %s", b)
	}
}
