package env

// Scene is one frame to draw: shapes in world coordinates inside a view box. The browser draws
// it on a canvas and the CLI writes it as SVG, so both show the same picture.
type Scene struct {
	// View is the world rectangle to show: X0 < X1, Y0 < Y1, y pointing up.
	View   Rect    `json:"view"`
	Shapes []Shape `json:"shapes"`
}

// Rect is an axis-aligned rectangle in world coordinates.
type Rect struct {
	X0 float64 `json:"x0"`
	Y0 float64 `json:"y0"`
	X1 float64 `json:"x1"`
	Y1 float64 `json:"y1"`
}

// ShapeKind names a kind of shape.
type ShapeKind string

// The shape kinds. Points are world coordinates (x, y pairs, y up).
const (
	Line    ShapeKind = "line"    // a polyline through Points, drawn with Stroke and Width
	Circle  ShapeKind = "circle"  // centre Points[0:2], radius R
	Polygon ShapeKind = "polygon" // a closed polygon through Points (a rectangle is a polygon)
)

// Shape is one primitive. Colours are CSS colours ("#rrggbb"); an empty colour means none.
type Shape struct {
	Kind   ShapeKind `json:"kind"`
	Points []float64 `json:"points"`
	R      float64   `json:"r,omitempty"`
	Fill   string    `json:"fill,omitempty"`
	Stroke string    `json:"stroke,omitempty"`
	Width  float64   `json:"width,omitempty"` // stroke width in world units
}
