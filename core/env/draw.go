package env

import "math"

// How each environment draws a state, laid out as Gymnasium's pygame render() lays it out (its
// pixel sizes divided by its pixels per world unit), in world coordinates with y up and the
// same colours.

// CartPole scale: render() fits the track, 2 x_threshold = 4.8 m, into 600 px.
const cpPx = 600 / (2 * cpXThreshold) // pixels per metre

// Draw implements Env: the track, the cart (centred on the track) and the pole on its axle.
// The view is Gymnasium's 600 x 400 px window: x in [-2.4, 2.4], the track 0.8 m above the
// bottom.
func (c *CartPole) Draw(state []float64) Scene {
	x, theta := state[0], state[2]
	const (
		cartW, cartH = 50 / cpPx, 30 / cpPx
		poleW, poleL = 10 / cpPx, 2 * cpLength // the pole is twice the half-length
		axle         = cartH / 4               // the pole's pivot above the cart's centre
	)
	pole := rotated([]float64{-poleW / 2, -poleW / 2, -poleW / 2, poleL - poleW/2,
		poleW / 2, poleL - poleW/2, poleW / 2, -poleW / 2}, -theta, x, axle)
	return Scene{
		View: Rect{-cpXThreshold, -100 / cpPx, cpXThreshold, 300 / cpPx},
		Shapes: []Shape{
			{Kind: Line, Points: []float64{-cpXThreshold, 0, cpXThreshold, 0}, Stroke: "#000000", Width: 1.5 / cpPx},
			{Kind: Polygon, Points: box(x-cartW/2, -cartH/2, x+cartW/2, cartH/2), Fill: "#000000"},
			{Kind: Polygon, Points: pole, Fill: "#ca9865"},
			{Kind: Circle, Points: []float64{x, axle}, R: poleW / 2, Fill: "#8184cb"},
		},
	}
}

// Draw implements Env: the rod from the pivot at the origin (theta = 0 points up), its two
// rounded ends and the axle, in Gymnasium's view of [-2.2, 2.2] squared. (Gymnasium also
// draws an arrow for the last torque, which a state alone does not know.)
func (p *Pendulum) Draw(state []float64) Scene {
	const w = 0.2 // rod width
	th := state[0]
	rod := rotated([]float64{0, -w / 2, 0, w / 2, pdL, w / 2, pdL, -w / 2}, th+math.Pi/2, 0, 0)
	endX, endY := -pdL*math.Sin(th), pdL*math.Cos(th)
	return Scene{
		View: Rect{-2.2, -2.2, 2.2, 2.2},
		Shapes: []Shape{
			{Kind: Polygon, Points: rod, Fill: "#cc4d4d"},
			{Kind: Circle, Points: []float64{0, 0}, R: w / 2, Fill: "#cc4d4d"},
			{Kind: Circle, Points: []float64{endX, endY}, R: w / 2, Fill: "#cc4d4d"},
			{Kind: Circle, Points: []float64{0, 0}, R: 0.05, Fill: "#000000"},
		},
	}
}

// Draw implements Env: the target line at height 1 above the pivot, both links (theta1 = 0
// hangs down) and the joints, in Gymnasium's view of [-2.2, 2.2] squared.
func (a *Acrobot) Draw(state []float64) Scene {
	const w = 0.2 // link width
	t1, t2 := state[0], state[1]
	x1, y1 := abL1*math.Sin(t1), -abL1*math.Cos(t1)
	link := func(x, y, th, l float64) Shape {
		pts := rotated([]float64{0, -w / 2, 0, w / 2, l, w / 2, l, -w / 2}, th, x, y)
		return Shape{Kind: Polygon, Points: pts, Fill: "#00cccc"}
	}
	return Scene{
		View: Rect{-2.2, -2.2, 2.2, 2.2},
		Shapes: []Shape{
			{Kind: Line, Points: []float64{-2.2, 1, 2.2, 1}, Stroke: "#000000", Width: 0.015},
			link(0, 0, t1-math.Pi/2, abL1),
			link(x1, y1, t1+t2-math.Pi/2, abL2),
			{Kind: Circle, Points: []float64{0, 0}, R: w / 2, Fill: "#cccc00"},
			{Kind: Circle, Points: []float64{x1, y1}, R: w / 2, Fill: "#cccc00"},
		},
	}
}

// MountainCar scale: render() fits the track, max - min position = 1.8, into 600 px.
const mcPx = 600 / (mcMaxPosition - mcMinPosition)

// mcHeight is the hill, Continuous_MountainCarEnv._height: sin(3 x) * 0.45 + 0.55.
func mcHeight(x float64) float64 { return math.Sin(3*x)*0.45 + 0.55 }

// Draw implements Env: the hill, the car tilted by cos(3 position) radians as Gymnasium tilts
// it, its wheels, and the flag at the goal, in Gymnasium's 600 x 400 px view: x in
// [-1.2, 0.6], y in [0, 1.2].
func (m *MountainCarContinuous) Draw(state []float64) Scene {
	const (
		carW, carH = 40 / mcPx, 20 / mcPx
		clearance  = 10 / mcPx
		wheelR     = 8 / mcPx // int(carheight / 2.5) px
	)
	pos := state[0]
	hill := make([]float64, 0, 200)
	for i := range 100 { // np.linspace(min_position, max_position, 100)
		x := mcMinPosition + (mcMaxPosition-mcMinPosition)*float64(i)/99
		hill = append(hill, x, mcHeight(x))
	}
	tilt := math.Cos(3 * pos)
	cx, cy := pos, clearance+mcHeight(pos)
	car := rotated(box(-carW/2, 0, carW/2, carH), tilt, cx, cy)
	wheels := rotated([]float64{carW / 4, 0, -carW / 4, 0}, tilt, cx, cy)
	flagX, flagY1 := mcGoalPosition, mcHeight(mcGoalPosition)
	flagY2 := flagY1 + 50/mcPx
	return Scene{
		View: Rect{mcMinPosition, 0, mcMaxPosition, 400 / mcPx},
		Shapes: []Shape{
			{Kind: Line, Points: hill, Stroke: "#000000", Width: 2 / mcPx},
			{Kind: Polygon, Points: car, Fill: "#000000"},
			{Kind: Circle, Points: wheels[0:2], R: wheelR, Fill: "#808080"},
			{Kind: Circle, Points: wheels[2:4], R: wheelR, Fill: "#808080"},
			{Kind: Line, Points: []float64{flagX, flagY1, flagX, flagY2}, Stroke: "#000000", Width: 1.5 / mcPx},
			{Kind: Polygon, Points: []float64{flagX, flagY2, flagX, flagY2 - 10/mcPx, flagX + 25/mcPx, flagY2 - 5/mcPx}, Fill: "#cccc00"},
		},
	}
}

// box is the rectangle [x0, x1] x [y0, y1] as polygon points, in Gymnasium's corner order
// (l, b), (l, t), (r, t), (r, b).
func box(x0, y0, x1, y1 float64) []float64 {
	return []float64{x0, y0, x0, y1, x1, y1, x1, y0}
}

// rotated rotates the points pts (x, y pairs) by angle radians counter-clockwise about the
// origin, as pygame's Vector2.rotate_rad does, then moves them by (dx, dy). It rewrites pts.
func rotated(pts []float64, angle, dx, dy float64) []float64 {
	sin, cos := math.Sincos(angle)
	for i := 0; i+1 < len(pts); i += 2 {
		x, y := pts[i], pts[i+1]
		pts[i] = x*cos - y*sin + dx
		pts[i+1] = x*sin + y*cos + dy
	}
	return pts
}

// Scenes draws each of states with e.Draw: the frames of a clip.
func Scenes(e Env, states [][]float64) []Scene {
	out := make([]Scene, len(states))
	for i, s := range states {
		out[i] = e.Draw(s)
	}
	return out
}
