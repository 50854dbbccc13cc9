package ui

import (
	"math"
	"strconv"

	"github.com/prefer-rlhf/prefer/core/prefs"
	"github.com/prefer-rlhf/prefer/wasm/fitter"
)

// choiceText is how a choice reads on screen.
func choiceText(c prefs.Choice) string {
	switch c {
	case prefs.Left:
		return "left is better"
	case prefs.Right:
		return "right is better"
	case prefs.Equal:
		return "equally good"
	case prefs.CantTell:
		return "can't tell"
	}
	return string(c)
}

// percent formats a share in [0, 1] as a whole percentage.
func percent(x float64) string {
	if math.IsNaN(x) || x < 0 {
		return "—"
	}
	return strconv.Itoa(int(math.Round(100*x))) + "%"
}

// predictionText words a prediction: the favoured side, its probability and the spread.
func predictionText(p fitter.Prediction) string {
	side, q := "left", p.PLeft
	if q < 0.5 {
		side, q = "right", 1-q
	}
	return side + " " + percent(q) + " ± " + strconv.Itoa(int(math.Round(100*p.Spread))) + "%"
}
