package browsertest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/prefer-rlhf/prefer/tests/worker"
)

// Server is a running `prefer serve` on a loopback port with a temporary database (see
// worker.StartNative), with the default project's ID.
type Server struct {
	*worker.Native
	ProjectID string
}

// Binary returns the prefer binary to test: $PREFER_BIN (./build.sh test sets it), else one
// built from this checkout. The app's wasm must have been built into public/ (./build.sh
// build); when it has not, the test fails under CI=true and is skipped otherwise.
func Binary(t testing.TB) string {
	t.Helper()
	root, err := worker.Root()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "public", "app.wasm")); err != nil {
		worker.Unavailable(t, errors.New("browsertest: public/app.wasm is not built; run ./build.sh build (./build.sh test does)"))
	}
	bin, err := worker.PreferBin()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// StartServer runs `prefer serve` with a fresh database on a free loopback port, plus args,
// and stops it (SIGTERM) when the test ends.
func StartServer(t testing.TB, args ...string) *Server {
	t.Helper()
	Binary(t)
	s := &Server{Native: worker.StartNativeT(t, args...)}
	var ps struct {
		Projects []struct {
			ID string `json:"id"`
		} `json:"projects"`
	}
	s.GetJSON(t, "/api/v1/projects", &ps)
	if len(ps.Projects) == 0 {
		t.Fatal("browsertest: the hub has no project")
	}
	s.ProjectID = ps.Projects[0].ID
	return s
}

// GetJSON GETs an API path with the teacher token and decodes the JSON answer into v.
func (s *Server) GetJSON(t testing.TB, path string, v any) {
	t.Helper()
	b := s.Get(t, path)
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("browsertest: GET %s: %v\n%s", path, err, b)
	}
}

// Get GETs an API path with the teacher token and returns the body of a 200.
func (s *Server) Get(t testing.TB, path string) []byte {
	t.Helper()
	return Get(t, s.URL, s.TeacherToken, path)
}

// Get GETs base+path with a bearer token (a teacher's, on either server) and returns the body
// of a 200.
func Get(t testing.TB, base, token, path string) []byte {
	t.Helper()
	req, _ := http.NewRequest("GET", base+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("browsertest: GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("browsertest: GET %s: %s\n%s", path, resp.Status, b)
	}
	return b
}

// Comparison is one exported comparison.
type Comparison struct {
	ID      string `json:"id"`
	PairID  string `json:"pair_id"`
	Choice  string `json:"choice"`
	RaterID string `json:"rater_id"`
}

// Comparisons returns every comparison the hub holds for the default project, from the
// teacher's export.
func (s *Server) Comparisons(t testing.TB) []Comparison {
	t.Helper()
	b := s.Get(t, "/api/v1/projects/"+s.ProjectID+"/export?format=jsonl")
	var out []Comparison
	for _, line := range bytes.Split(b, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var c Comparison
		if err := json.Unmarshal(line, &c); err != nil {
			t.Fatalf("browsertest: export line %q: %v", line, err)
		}
		out = append(out, c)
	}
	return out
}
