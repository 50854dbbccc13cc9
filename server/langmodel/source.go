package langmodel

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/prefer-rlhf/prefer/core/lm"
	"github.com/prefer-rlhf/prefer/core/text"
	"github.com/prefer-rlhf/prefer/server/corpus"
)

// Loader returns a function that gives the text world of src and its reference language
// model, loading them on its first successful call (a server calls it when the first text
// project needs them): the model in the file modelPath (written by `prefer lm pretrain` on the
// same corpus), or, when modelPath is empty, the model pretrained on src's corpus with
// DefaultSettings (Narrow for a corpus file; the default corpus also reads the default broad
// text, fetched on first use), cached in the data directory's lm folder (pretrained there on first use,
// progress lines to progress); either tempered at DefaultSettings' temperature. The world of
// a model pretrained on broad text too measures valid words against its words as well
// (WithPretrainWords).
func Loader(src *corpus.Source, modelPath string, progress io.Writer) func() (*text.World, *lm.Model, error) {
	var mu sync.Mutex
	var w *text.World
	var m *lm.Model
	return func() (*text.World, *lm.Model, error) {
		mu.Lock()
		defer mu.Unlock()
		if m != nil {
			return w, m, nil
		}
		world, err := src.World()
		if err != nil {
			return nil, nil, err
		}
		var model *lm.Model
		if modelPath != "" {
			b, err := os.ReadFile(modelPath)
			if err != nil {
				return nil, nil, fmt.Errorf("langmodel: %w", err)
			}
			if model, err = lm.Decode(b); err != nil {
				return nil, nil, fmt.Errorf("langmodel: %s: %w", modelPath, err)
			}
			// The file holds weights as `prefer lm pretrain` writes them: tempered as the
			// default model is.
			if err := model.Temper(DefaultSettings().Temperature); err != nil {
				return nil, nil, fmt.Errorf("langmodel: %w", err)
			}
		} else {
			b, err := src.Bytes()
			if err != nil {
				return nil, nil, err
			}
			d, err := corpus.Dir()
			if err != nil {
				return nil, nil, err
			}
			s := DefaultSettings()
			if src.Path != "" {
				s = s.Narrow()
			}
			broad, err := broadText(d, s)
			if err != nil {
				return nil, nil, err
			}
			if model, _, err = Cached(filepath.Join(filepath.Dir(d), "lm"), b, broad, s, progress); err != nil {
				return nil, nil, err
			}
			world = WithPretrainWords(world, broad)
		}
		if model.Config.Vocab != world.Tok.VocabSize() {
			return nil, nil, fmt.Errorf("langmodel: the model has %d tokens, the corpus's tokenizer %d: pretrain it on the same corpus", model.Config.Vocab, world.Tok.VocabSize())
		}
		w, m = world, model
		return w, m, nil
	}
}
