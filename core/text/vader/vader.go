// Package vader is the gold sentiment of the text tasks: the compound score of VADER (Hutto
// and Gilbert 2014), a rule-based lexicon of about 7,500 words with negation and intensity
// rules, through github.com/jonreiter/govader (MIT). It is pure Go with its lexicon compiled
// in (go-bindata): its data package imports os only for bindata's RestoreAsset helpers, which
// nothing here calls, so scoring reads no file. It stands in for the sentiment classifier of Ziegler et al. (2019, §4.1): a score the
// reward model never sees, which synthetic raters answer from. It is a package of its own so
// that the browser, which needs no gold score, does not download the lexicon.
package vader

import (
	"sync"

	"github.com/jonreiter/govader"
)

var (
	once     sync.Once
	analyzer *govader.SentimentIntensityAnalyzer
	mu       sync.Mutex // govader's analyzer is not documented as safe for concurrent use
)

// Sentiment returns VADER's compound score of s, in [-1, 1]: above 0 reads positive.
func Sentiment(s string) float64 {
	once.Do(func() { analyzer = govader.NewSentimentIntensityAnalyzer() })
	mu.Lock()
	defer mu.Unlock()
	return analyzer.PolarityScores(s).Compound
}
