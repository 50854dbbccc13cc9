package env

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// SVG output of scenes: a filmstrip (frames side by side) and an animation (one frame at a time,
// looping). Both are pure functions returning the document, so the CLI, the server and tests
// share them and none of them does I/O here.

// framePad is the gap between filmstrip frames, in pixels.
const framePad = 4

// Filmstrip draws every every-th scene (the first, then every-th after it) side by side, left to
// right, each frameWidth pixels wide (its height follows the first scene's view).
func Filmstrip(scenes []Scene, every int, frameWidth float64) ([]byte, error) {
	if every < 1 {
		return nil, fmt.Errorf("env: filmstrip: every = %d, want >= 1", every)
	}
	w, h, err := frameSize(scenes, frameWidth)
	if err != nil {
		return nil, err
	}
	var picked []Scene
	for i := 0; i < len(scenes); i += every {
		picked = append(picked, scenes[i])
	}
	n := float64(len(picked))
	total := n*w + (n-1)*framePad
	var b bytes.Buffer
	header(&b, total, h)
	for i, s := range picked {
		if err := frame(&b, s, float64(i)*(w+framePad), w, h); err != nil {
			return nil, fmt.Errorf("env: filmstrip: scene %d: %w", i*every, err)
		}
	}
	b.WriteString("</svg>\n")
	return b.Bytes(), nil
}

// Animated shows the scenes one at a time, each for frameSeconds (an env's Spec().DT plays the
// clip in real time), looping. It uses a CSS keyframe animation: every frame is hidden except
// during its own slot. The first frame is also visible without animation, so viewers that do not
// animate show it.
func Animated(scenes []Scene, frameSeconds, frameWidth float64) ([]byte, error) {
	if !(frameSeconds > 0) || math.IsInf(frameSeconds, 0) {
		return nil, fmt.Errorf("env: animated: frame duration %v s, want > 0", frameSeconds)
	}
	w, h, err := frameSize(scenes, frameWidth)
	if err != nil {
		return nil, err
	}
	n := len(scenes)
	var b bytes.Buffer
	header(&b, w, h)
	fmt.Fprintf(&b, "<style>.frame{visibility:hidden;animation:prefer-clip %ss step-end infinite}"+
		"@keyframes prefer-clip{0%%{visibility:visible}%s%%{visibility:hidden}100%%{visibility:hidden}}</style>\n",
		num(frameSeconds*float64(n)), num(100/float64(n)))
	for i, s := range scenes {
		style := "animation-delay:" + num(frameSeconds*float64(i)) + "s"
		if i == 0 {
			style += ";visibility:visible"
		}
		fmt.Fprintf(&b, "<g class=\"frame\" style=\"%s\">\n", style)
		if err := frame(&b, s, 0, w, h); err != nil {
			return nil, fmt.Errorf("env: animated: scene %d: %w", i, err)
		}
		b.WriteString("</g>\n")
	}
	b.WriteString("</svg>\n")
	return b.Bytes(), nil
}

// frameSize checks the scenes and returns a frame's size in pixels.
func frameSize(scenes []Scene, frameWidth float64) (w, h float64, err error) {
	if len(scenes) == 0 {
		return 0, 0, fmt.Errorf("env: svg: no scenes to draw")
	}
	if !(frameWidth > 0) || math.IsInf(frameWidth, 0) {
		return 0, 0, fmt.Errorf("env: svg: frame width %v, want > 0", frameWidth)
	}
	v := scenes[0].View
	if !(v.X1 > v.X0 && v.Y1 > v.Y0) {
		return 0, 0, fmt.Errorf("env: svg: empty view %+v", v)
	}
	return frameWidth, frameWidth * (v.Y1 - v.Y0) / (v.X1 - v.X0), nil
}

func header(b *bytes.Buffer, w, h float64) {
	fmt.Fprintf(b, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%s\" height=\"%s\" viewBox=\"0 0 %s %s\">\n",
		num(w), num(h), num(w), num(h))
}

// frame writes one scene at (x, 0), w x h pixels: a nested svg whose viewBox is the scene's
// view, with y flipped so that world y points up.
func frame(b *bytes.Buffer, s Scene, x, w, h float64) error {
	v := s.View
	if !(v.X1 > v.X0 && v.Y1 > v.Y0) || !finite(v.X0, v.Y0, v.X1, v.Y1) {
		return fmt.Errorf("bad view %+v", v)
	}
	fmt.Fprintf(b, "<svg x=\"%s\" y=\"0\" width=\"%s\" height=\"%s\" viewBox=\"%s %s %s %s\">\n",
		num(x), num(w), num(h), num(v.X0), num(-v.Y1), num(v.X1-v.X0), num(v.Y1-v.Y0))
	fmt.Fprintf(b, "<rect x=\"%s\" y=\"%s\" width=\"%s\" height=\"%s\" fill=\"#ffffff\"/>\n",
		num(v.X0), num(-v.Y1), num(v.X1-v.X0), num(v.Y1-v.Y0))
	b.WriteString("<g transform=\"scale(1,-1)\">\n")
	for i, sh := range s.Shapes {
		if err := shape(b, sh); err != nil {
			return fmt.Errorf("shape %d: %w", i, err)
		}
	}
	b.WriteString("</g>\n</svg>\n")
	return nil
}

// shape writes one shape as an SVG element.
func shape(b *bytes.Buffer, s Shape) error {
	if !finite(s.Points...) || !finite(s.R, s.Width) {
		return fmt.Errorf("non-finite number in a %s", s.Kind)
	}
	paint := fmt.Sprintf(" fill=\"%s\" stroke=\"%s\" stroke-width=\"%s\"",
		colour(s.Fill), colour(s.Stroke), num(s.Width))
	switch s.Kind {
	case Line:
		if len(s.Points) < 4 || len(s.Points)%2 != 0 {
			return fmt.Errorf("a line needs two or more points, got %d numbers", len(s.Points))
		}
		fmt.Fprintf(b, "<polyline points=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"%s\" stroke-linecap=\"round\" stroke-linejoin=\"round\"/>\n",
			points(s.Points), colour(s.Stroke), num(s.Width))
	case Circle:
		if len(s.Points) != 2 || s.R < 0 {
			return fmt.Errorf("a circle needs a centre and a radius >= 0")
		}
		fmt.Fprintf(b, "<circle cx=\"%s\" cy=\"%s\" r=\"%s\"%s/>\n", num(s.Points[0]), num(s.Points[1]), num(s.R), paint)
	case Polygon:
		if len(s.Points) < 6 || len(s.Points)%2 != 0 {
			return fmt.Errorf("a polygon needs three or more points, got %d numbers", len(s.Points))
		}
		fmt.Fprintf(b, "<polygon points=\"%s\"%s/>\n", points(s.Points), paint)
	default:
		return fmt.Errorf("unknown shape kind %q", s.Kind)
	}
	return nil
}

func points(p []float64) string {
	var sb strings.Builder
	for i := 0; i < len(p); i += 2 {
		if i > 0 {
			sb.WriteByte(' ')
		}
		sb.WriteString(num(p[i]))
		sb.WriteByte(',')
		sb.WriteString(num(p[i+1]))
	}
	return sb.String()
}

// num formats a coordinate with 6 significant digits, plenty for a drawing.
func num(x float64) string { return strconv.FormatFloat(x, 'g', 6, 64) }

// colour returns c if it is a safe CSS colour (a #hex code or a name), else "none".
func colour(c string) string {
	if c == "" || len(c) > 32 {
		return "none"
	}
	for i, r := range c {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '#' && i == 0
		if !ok {
			return "none"
		}
	}
	return c
}

func finite(xs ...float64) bool {
	for _, x := range xs {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return false
		}
	}
	return true
}
