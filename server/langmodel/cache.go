package langmodel

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/prefer-rlhf/prefer/core/lm"
	"github.com/prefer-rlhf/prefer/core/text"
	"github.com/prefer-rlhf/prefer/server/corpus"
)

// DefaultModel returns the default language model and its tokenizer. The corpus is the
// default one in dataDir/corpus (fetched on first use); the model is loaded from dataDir/lm if
// a model of this corpus and DefaultSettings is there, else pretrained (progress lines to
// progress) and saved there. An empty dataDir means the parent of corpus.Dir
// ($PREFER_DATA or ~/.cache/prefer).
func DefaultModel(dataDir string, progress io.Writer) (*lm.Model, *text.BPE, error) {
	cdir, err := corpusDir(dataDir)
	if err != nil {
		return nil, nil, err
	}
	dataDir = filepath.Dir(cdir)
	path, err := corpus.Fetch(cdir)
	if err != nil {
		return nil, nil, err
	}
	b, err := corpus.Load(path)
	if err != nil {
		return nil, nil, err
	}
	broad, err := broadText(cdir, DefaultSettings())
	if err != nil {
		return nil, nil, err
	}
	return Cached(filepath.Join(dataDir, "lm"), b, broad, DefaultSettings(), progress)
}

// Cached returns the model pretrained on corpus b and the broad text broad (Pretrain) with
// settings s, tempered at s.Temperature: read from dir if an earlier call saved it there, else
// pretrained and saved. The file's name carries a digest of both texts, the pretraining
// settings and the model's shape, so a change to any of them trains again; the file holds the
// weights as trained, so another temperature does not.
func Cached(dir string, b, broad []byte, s Settings, progress io.Writer) (*lm.Model, *text.BPE, error) {
	m, tok, err := cached(dir, b, broad, s, progress)
	if err != nil {
		return nil, nil, err
	}
	if err := m.Temper(s.Temperature); err != nil {
		return nil, nil, fmt.Errorf("langmodel: %w", err)
	}
	return m, tok, nil
}

// cached is Cached before tempering.
func cached(dir string, b, broad []byte, s Settings, progress io.Writer) (*lm.Model, *text.BPE, error) {
	if !(s.Temperature > 0) {
		return nil, nil, fmt.Errorf("langmodel: temperature %v is not positive", s.Temperature)
	}
	tok, _, _, err := Streams(b)
	if err != nil {
		return nil, nil, err
	}
	path := filepath.Join(dir, FileName(b, broad, s))
	if data, err := os.ReadFile(path); err == nil {
		m, err := lm.Decode(data)
		if err != nil {
			return nil, nil, fmt.Errorf("langmodel: %s: %w (delete it to pretrain again)", path, err)
		}
		if m.Config.Vocab != tok.VocabSize() {
			return nil, nil, fmt.Errorf("langmodel: %s has %d tokens, the corpus's tokenizer %d (delete it to pretrain again)", path, m.Config.Vocab, tok.VocabSize())
		}
		return m, tok, nil
	}
	if progress != nil {
		fmt.Fprintf(progress, "lm: no default model in %s yet: pretraining it (%d steps, once)\n", dir, s.Steps+s.FineTune)
	}
	res, m, tok, err := Pretrain(b, broad, s, progress)
	if err != nil {
		return nil, nil, err
	}
	if progress != nil {
		fmt.Fprintf(progress, "lm: held-out loss %.3f nats/token (unigram %.3f), %.0f s\n", res.HeldOutLoss, res.UnigramEntropy, res.Seconds)
	}
	data, _ := m.MarshalBinary()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, fmt.Errorf("langmodel: %w", err)
	}
	part := path + ".part"
	if err := os.WriteFile(part, data, 0o644); err != nil {
		return nil, nil, fmt.Errorf("langmodel: %w", err)
	}
	if err := os.Rename(part, path); err != nil {
		return nil, nil, fmt.Errorf("langmodel: %w", err)
	}
	return m, tok, nil
}

// broadText is the broad pretraining text of settings s: the default one, fetched into the
// corpus directory cdir if need be, when s.Broad; else none.
func broadText(cdir string, s Settings) ([]byte, error) {
	if !s.Broad {
		return nil, nil
	}
	path, err := corpus.FetchBroad(cdir)
	if err != nil {
		return nil, err
	}
	return corpus.Load(path)
}

// FileName is the cache file of the model pretrained on corpus b and broad text broad with
// settings s. (A model of the reviews alone, with neither broad text nor fine-tuning, keeps
// the name it had before those settings existed.)
func FileName(b, broad []byte, s Settings) string {
	c := s.Config(0)
	c.Vocab = lm.DefaultConfig().Vocab
	h := sha256.New()
	h.Write(b)
	// lm.Config.OutBias is no pretraining setting (it is always off here) and came after
	// these names did: it is left out, so that the names, and every cache, stay as they were.
	fmt.Fprintf(h, "|%d|%d|%s", s.Steps, s.Seed, strings.Replace(fmt.Sprintf("%+v", c), " OutBias:false", "", 1))
	if len(broad) > 0 || s.FineTune > 0 {
		bs := sha256.Sum256(broad)
		fmt.Fprintf(h, "|%x|%d|%d|%v", bs, max(1, s.Repeat), s.FineTune, s.FineTuneLR)
	}
	return "model-" + hex.EncodeToString(h.Sum(nil))[:16] + ".bin"
}
