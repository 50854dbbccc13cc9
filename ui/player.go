package ui

import (
	"math"
	"strconv"
	"sync"

	"github.com/prefer-rlhf/prefer/core/env"
	"github.com/vugu/vugu/js"
)

// Player plays the two clips of the pair on screen, in step with each other, on two canvases:
// looping, at 1x or 2x, pausable, with a frame scrubber. It draws from requestAnimationFrame
// outside vugu's render loop, so playback never re-renders the page. Between two env steps it
// interpolates the shapes, so motion is smooth at the display's rate (60 fps) although envs
// step at their own rate (CartPole: 50 steps/s).
type Player struct {
	mu       sync.Mutex
	clips    [2][]env.Scene
	dt       float64 // env seconds per step
	pos      float64 // position in steps, in [0, frames-1]
	Speed    float64 // 1 or 2
	Paused   bool
	canvas   [2]js.Value
	ctx      [2]js.Value
	style    [2][2]string // the last fill and stroke set on each context, to skip repeats
	scrub    js.Value     // <input type=range>, value 0..1000
	label    js.Value     // text "frame i / n"
	lastT    float64      // time of the last tick (ms)
	lastShow int          // the frame last written to label and scrubber
	buf      [2]env.Scene // interpolation buffers, one per side, reused every frame

	// Stats for the benchmark: draws in the last full second, and when the first clip was drawn
	// (ms since navigation start; 0 until then).
	FPS        float64
	FirstClip  float64
	frameCount int
	frameStart float64
}

// NewPlayer returns a paused-at-zero player with nothing loaded.
func NewPlayer() *Player { return &Player{Speed: 1, lastShow: -1} }

// Frames returns the number of frames of the longer clip.
func (p *Player) Frames() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.frames()
}

func (p *Player) frames() int { return max(len(p.clips[0]), len(p.clips[1])) }

// Load shows a pair from its first frame; nil clears the canvases.
func (p *Player) Load(pair *Pair) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.pos, p.lastShow = 0, -1
	if pair == nil {
		p.clips = [2][]env.Scene{}
		return
	}
	p.clips = [2][]env.Scene{pair.left.scenes, pair.right.scenes}
	p.dt = pair.left.dt
}

// LoadScenes shows one clip, paused at frame: red-team mode's view of the clip it edits.
func (p *Player) LoadScenes(cs clipScenes, frame int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clips = [2][]env.Scene{cs.scenes, nil}
	p.dt, p.Paused, p.lastShow = cs.dt, true, -1
	p.pos = float64(min(max(frame, 0), max(len(cs.scenes)-1, 0)))
}

// SeekFrame moves to frame i.
func (p *Player) SeekFrame(i int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.pos = float64(min(max(i, 0), max(p.frames()-1, 0)))
}

// SetSpeed sets the playback speed (1 or 2).
func (p *Player) SetSpeed(s float64) {
	p.mu.Lock()
	p.Speed = s
	p.mu.Unlock()
}

// TogglePause pauses or resumes playback.
func (p *Player) TogglePause() {
	p.mu.Lock()
	p.Paused = !p.Paused
	p.mu.Unlock()
}

// Seek moves both clips to a fraction (0..1) of their length.
func (p *Player) Seek(frac float64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := p.frames()
	if n == 0 || math.IsNaN(frac) {
		return
	}
	p.pos = math.Round(math.Min(math.Max(frac, 0), 1) * float64(n-1))
}

// Mount puts a new canvas for one side (0 left, 1 right) into box, an element vugu renders
// empty. The canvas is the player's alone: were it vugu's, every render would strip the width
// and height the player sets, and so clear and reallocate the canvas.
//
// vugu calls vg-js-create handlers on every render, so Mount does nothing for a box that
// already holds its canvas.
func (p *Player) Mount(side int, box js.Value, label string) {
	if first := box.Get("firstElementChild"); first.Truthy() {
		p.mu.Lock()
		same := p.canvas[side].Truthy() && sameJS(p.canvas[side], first)
		p.mu.Unlock()
		if !same {
			p.Attach(side, first)
		}
		return
	}
	cv := js.Global().Get("document").Call("createElement", "canvas")
	cv.Call("setAttribute", "aria-label", label)
	cv.Call("setAttribute", "role", "img")
	cv.Set("id", []string{"clip-left", "clip-right"}[side])
	box.Call("appendChild", cv)
	p.Attach(side, cv)
}

// Attach gives the player the canvas of one side (0 left, 1 right).
func (p *Player) Attach(side int, canvas js.Value) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.canvas[side] = canvas
	p.ctx[side] = canvas.Call("getContext", "2d")
	p.style[side] = [2]string{}
}

// AttachScrubber gives the player the frame scrubber (<input type=range>, 0..1000) to move.
func (p *Player) AttachScrubber(el js.Value) {
	p.mu.Lock()
	if !p.scrub.Truthy() || !sameJS(p.scrub, el) {
		p.scrub, p.lastShow = el, -1
	}
	p.mu.Unlock()
}

// AttachFrameLabel gives the player the element that shows "frame i / n".
func (p *Player) AttachFrameLabel(el js.Value) {
	p.mu.Lock()
	if !p.label.Truthy() || !sameJS(p.label, el) {
		p.label, p.lastShow = el, -1
	}
	p.mu.Unlock()
}

// Run starts the requestAnimationFrame loop. It returns at once.
func (p *Player) Run() {
	var tick js.Func
	tick = js.FuncOf(func(_ js.Value, args []js.Value) any {
		p.tick(arg0(args).Float())
		js.Global().Call("requestAnimationFrame", tick)
		return nil
	})
	js.Global().Call("requestAnimationFrame", tick)
}

// advance moves the position by the wall-clock time since the last tick. Call it with p.mu held.
func (p *Player) advance(now float64) {
	dtMS := now - p.lastT
	p.lastT = now
	n := p.frames()
	if n < 2 || p.Paused || dtMS <= 0 || dtMS > 250 {
		return // a long gap (hidden tab) does not jump ahead
	}
	p.pos += dtMS / 1000 / p.dt * p.Speed
	if p.pos >= float64(n-1) {
		p.pos = math.Mod(p.pos, float64(n-1)) // loop
	}
}

func (p *Player) tick(now float64) {
	defer TraceEnd("draw", TraceStart())
	p.mu.Lock()
	defer p.mu.Unlock()
	p.advance(now)
	drew := false
	for side := 0; side < 2; side++ {
		if p.ctx[side].Truthy() && len(p.clips[side]) > 0 {
			p.draw(side)
			drew = true
		}
	}
	if !drew {
		return
	}
	if p.FirstClip == 0 {
		p.FirstClip = js.Global().Get("performance").Call("now").Float()
		js.Global().Get("document").Get("documentElement").Call("setAttribute", "data-first-clip", strconv.FormatFloat(p.FirstClip, 'f', 1, 64))
	}
	p.frameCount++
	if now-p.frameStart >= 1000 {
		p.FPS = float64(p.frameCount) * 1000 / (now - p.frameStart)
		p.frameCount, p.frameStart = 0, now
		js.Global().Get("document").Get("documentElement").Call("setAttribute", "data-fps", strconv.FormatFloat(p.FPS, 'f', 1, 64))
	}
	if f := int(p.pos); f != p.lastShow {
		p.lastShow = f
		n := p.frames()
		if p.scrub.Truthy() && n > 1 {
			p.scrub.Set("value", strconv.Itoa(int(math.Round(float64(f)/float64(n-1)*1000))))
		}
		if p.label.Truthy() {
			p.label.Set("textContent", "frame "+strconv.Itoa(f+1)+" / "+strconv.Itoa(n))
		}
	}
}

// frameAt returns the scene at position pos of a clip, interpolated between steps when both
// neighbours have the same shapes. A shorter clip holds its last frame.
func (p *Player) frameAt(side int, scenes []env.Scene, pos float64) env.Scene {
	i := int(pos)
	if i >= len(scenes)-1 {
		return scenes[len(scenes)-1]
	}
	f := pos - float64(i)
	a, b := scenes[i], scenes[i+1]
	if f == 0 || !sameShape(a, b) {
		return a
	}
	// Reuse the side's buffer and its point slices: a new scene per frame would be garbage
	// for Go's collector, whose pauses land on the page's thread.
	out := &p.buf[side]
	out.View = a.View
	for len(out.Shapes) < len(a.Shapes) {
		out.Shapes = append(out.Shapes, env.Shape{})
	}
	out.Shapes = out.Shapes[:len(a.Shapes)]
	for k := range out.Shapes {
		s := &out.Shapes[k]
		pts := s.Points[:0]
		*s = a.Shapes[k]
		pa, pb := a.Shapes[k].Points, b.Shapes[k].Points
		for j := range pa {
			pts = append(pts, pa[j]+f*(pb[j]-pa[j]))
		}
		s.Points = pts
		s.R = a.Shapes[k].R + f*(b.Shapes[k].R-a.Shapes[k].R)
	}
	return *out
}

func sameShape(a, b env.Scene) bool {
	if len(a.Shapes) != len(b.Shapes) {
		return false
	}
	for k := range a.Shapes {
		if a.Shapes[k].Kind != b.Shapes[k].Kind || len(a.Shapes[k].Points) != len(b.Shapes[k].Points) {
			return false
		}
	}
	return true
}

// draw paints one side's current frame. Call it with p.mu held.
func (p *Player) draw(side int) {
	cv, ctx := p.canvas[side], p.ctx[side]
	// Match the backing store to the element's size on screen, for crisp shapes at any DPR.
	dpr := js.Global().Get("devicePixelRatio").Float()
	if !(dpr > 0) {
		dpr = 1
	}
	w := math.Round(cv.Get("clientWidth").Float() * dpr)
	h := math.Round(cv.Get("clientHeight").Float() * dpr)
	if w <= 0 || h <= 0 {
		return
	}
	if cv.Get("width").Float() != w || cv.Get("height").Float() != h {
		cv.Set("width", w)
		cv.Set("height", h)
		p.style[side] = [2]string{}
	}
	sc := p.frameAt(side, p.clips[side], p.pos)
	ctx.Call("setTransform", 1, 0, 0, 1, 0, 0)
	p.setStyle(side, 0, "#f8fafc")
	ctx.Call("fillRect", 0, 0, w, h)
	v := sc.View
	vw, vh := v.X1-v.X0, v.Y1-v.Y0
	if !(vw > 0 && vh > 0) {
		return
	}
	// World to canvas: scale to fit, centre, y up.
	s := math.Min(w/vw, h/vh)
	ox := (w - vw*s) / 2
	oy := (h - vh*s) / 2
	ctx.Call("setTransform", s, 0, 0, -s, ox-v.X0*s, oy+v.Y1*s)
	ctx.Set("lineCap", "round")
	ctx.Set("lineJoin", "round")
	for k := range sc.Shapes {
		sh := &sc.Shapes[k]
		pts := sh.Points
		ctx.Call("beginPath")
		switch sh.Kind {
		case env.Circle:
			if len(pts) < 2 {
				continue
			}
			ctx.Call("arc", pts[0], pts[1], math.Abs(sh.R), 0, 2*math.Pi)
		case env.Line, env.Polygon:
			if len(pts) < 4 {
				continue
			}
			ctx.Call("moveTo", pts[0], pts[1])
			for j := 2; j+1 < len(pts); j += 2 {
				ctx.Call("lineTo", pts[j], pts[j+1])
			}
			if sh.Kind == env.Polygon {
				ctx.Call("closePath")
			}
		default:
			continue
		}
		if sh.Fill != "" && sh.Kind != env.Line {
			p.setStyle(side, 0, sh.Fill)
			ctx.Call("fill")
		}
		if sh.Stroke != "" {
			p.setStyle(side, 1, sh.Stroke)
			lw := sh.Width
			if !(lw > 0) {
				lw = 1 / s // one device pixel
			}
			ctx.Set("lineWidth", lw)
			ctx.Call("stroke")
		}
	}
}

func (p *Player) setStyle(side, which int, c string) {
	if p.style[side][which] == c {
		return
	}
	p.style[side][which] = c
	if which == 0 {
		p.ctx[side].Set("fillStyle", c)
	} else {
		p.ctx[side].Set("strokeStyle", c)
	}
}
