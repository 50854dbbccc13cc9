package text

import (
	"strings"
	"unicode"
)

// PositiveShare is the share of scores above 0: for gold sentiment, the share of
// continuations that read positive.
func PositiveShare(scores []float64) float64 {
	if len(scores) == 0 {
		return 0
	}
	n := 0
	for _, s := range scores {
		if s > 0 {
			n++
		}
	}
	return float64(n) / float64(len(scores))
}

// FreeOfE is TextNoE-v0's measure: the share of texts without the letter e or E.
func FreeOfE(texts []string) float64 {
	if len(texts) == 0 {
		return 0
	}
	n := 0
	for _, t := range texts {
		if NoEScore(t) == 0 {
			n++
		}
	}
	return float64(n) / float64(len(texts))
}

// Words splits s into lower-case words: maximal runs of letters and apostrophes.
func Words(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && r != '\'' })
}

// Distinct2 is the number of distinct word bigrams over the number of bigrams in all texts
// (Li et al. 2016, distinct-2): 1 when no pair of words repeats, near 0 when every text is the
// same phrase. Bigrams do not cross texts. It is 0 when there are none.
func Distinct2(texts []string) float64 {
	seen, total := map[[2]string]bool{}, 0
	for _, t := range texts {
		w := Words(t)
		for i := 0; i+1 < len(w); i++ {
			seen[[2]string{w[i], w[i+1]}] = true
			total++
		}
	}
	if total == 0 {
		return 0
	}
	return float64(len(seen)) / float64(total)
}

// Vocabulary is the set of words of a corpus (Words of every sentence).
func Vocabulary(sentences []string) map[string]bool {
	v := map[string]bool{}
	for _, s := range sentences {
		for _, w := range Words(s) {
			v[w] = true
		}
	}
	return v
}

// ValidWordShare is the share of the words of texts that are in vocab, the corpus's own
// words: gibberish that games a lexicon ("greatgreatgood") shows here. The first and last
// word of each text are judged only when they are longer than vocab's longest word: a fixed
// token length can cut them mid-word, or the first can end a word the prompt began, but no
// word of vocab can be cut from one that long. A policy that repeats one token without a space
// ("the bestestestest…", an over-optimised reward model's favourite) writes nothing else, and
// would otherwise count as all valid. It is 1 when there are no words to judge.
func ValidWordShare(texts []string, vocab map[string]bool) float64 {
	longest := 0
	for w := range vocab {
		longest = max(longest, len(w))
	}
	ok, total := 0, 0
	for _, t := range texts {
		w := Words(t)
		for i, x := range w {
			if i > 0 && i < len(w)-1 {
				total++
				if vocab[x] {
					ok++
				}
			} else if len(x) > longest {
				total++ // an edge word that is no cut word of vocab
			}
		}
	}
	if total == 0 {
		return 1
	}
	return float64(ok) / float64(total)
}

// Measures are the text measurements of a batch of continuations that `prefer experiment`
// reports before and after training (issue 12's report keys without their suffixes).
type Measures struct {
	Gold           float64 `json:"gold"`             // mean gold score (World.Score)
	PositiveShare  float64 `json:"positive_share"`   // share with a gold score above 0
	FreeOfE        float64 `json:"free_of_e"`        // share without the letter e (TextNoE-v0's goal)
	Distinct2      float64 `json:"distinct_2"`       // diversity
	ValidWordShare float64 `json:"valid_word_share"` // share of words in the corpus's vocabulary
}

// Measure scores continuations of task t on world w. ValidWordShare is 1 when w has no
// vocabulary.
func (w *World) Measure(t Task, conts []string) Measures {
	scores := make([]float64, len(conts))
	m := Measures{FreeOfE: FreeOfE(conts), Distinct2: Distinct2(conts), ValidWordShare: 1}
	for i, c := range conts {
		scores[i] = w.Score(t, c)
		m.Gold += scores[i] / float64(len(conts))
	}
	m.PositiveShare = PositiveShare(scores)
	if w.Vocab != nil {
		m.ValidWordShare = ValidWordShare(conts, w.Vocab)
	}
	return m
}
