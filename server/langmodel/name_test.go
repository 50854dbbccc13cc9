package langmodel

import "testing"

// TestFileNameIsStable pins a cache file's name: a new field of lm.Config or Settings must
// not rename every cache (and so pretrain the default model again on every machine).
func TestFileNameIsStable(t *testing.T) {
	got := FileName([]byte("a tiny corpus.\n"), []byte("broad text.\n"), DefaultSettings())
	const want = "model-39db026e222872dd.bin" // the name before lm.Config.OutBias existed
	if got != want {
		t.Errorf("FileName %s, want %s", got, want)
	}
}
