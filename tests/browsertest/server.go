package browsertest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Server is a running `prefer serve` on a loopback port with a temporary database.
type Server struct {
	URL          string // http://127.0.0.1:PORT
	JoinURL      string // the join link it printed
	TeacherToken string
	ProjectID    string
	cmd          *exec.Cmd
	log          *syncBuffer
}

// Binary returns the prefer binary to test: $PREFER_BIN (./build.sh test sets it), else one
// built from this checkout into a temporary directory. The app's wasm must have been built
// into public/ (./build.sh build); the test is skipped when it has not.
func Binary(t testing.TB) string {
	t.Helper()
	root := moduleRoot(t)
	if _, err := os.Stat(filepath.Join(root, "public", "app.wasm")); err != nil {
		t.Skip("browsertest: public/app.wasm is not built; run ./build.sh build (./build.sh test does)")
	}
	if bin := os.Getenv("PREFER_BIN"); bin != "" {
		return bin
	}
	bin := filepath.Join(t.TempDir(), "prefer")
	cmd := exec.Command("go", "build", "-o", bin, "./server/cmd/prefer")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("browsertest: go build prefer: %v\n%s", err, out)
	}
	return bin
}

func moduleRoot(t testing.TB) string {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("browsertest: go env GOMOD: %v", err)
	}
	return filepath.Dir(strings.TrimSpace(string(out)))
}

// StartServer runs `prefer serve` with a fresh database on a free loopback port, plus args,
// and stops it (SIGTERM) when the test ends.
func StartServer(t testing.TB, args ...string) *Server {
	t.Helper()
	bin := Binary(t)
	db := filepath.Join(t.TempDir(), "prefer.db")
	return startAt(t, bin, db, args)
}

func startAt(t testing.TB, bin, db string, args []string) *Server {
	cmd := exec.Command(bin, append([]string{"serve", "--db", db, "--addr", "127.0.0.1:0"}, args...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{cmd: cmd, log: &syncBuffer{}}
	cmd.Stderr = s.log
	if err := cmd.Start(); err != nil {
		t.Fatalf("browsertest: starting prefer serve: %v", err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
		}
		if t.Failed() {
			t.Logf("prefer serve log:\n%s", s.log.String())
		}
	})
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		io.Copy(io.Discard, stdout)
	}()
	deadline := time.After(30 * time.Second)
	for s.URL == "" || s.JoinURL == "" || s.TeacherToken == "" {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("browsertest: prefer serve exited early:\n%s", s.log.String())
			}
			l = strings.TrimSpace(l)
			switch {
			case strings.HasPrefix(l, "Prefer hub: "):
				s.URL = strings.TrimPrefix(l, "Prefer hub: ")
			case strings.HasPrefix(l, "join link:"):
				s.JoinURL = strings.TrimSpace(strings.TrimPrefix(l, "join link:"))
			case strings.HasPrefix(l, "teacher link:"):
				link := strings.TrimSpace(strings.TrimPrefix(l, "teacher link:"))
				s.TeacherToken = link[strings.Index(link, "token=")+len("token="):]
			}
		case <-deadline:
			t.Fatalf("browsertest: prefer serve printed no links in 30 s:\n%s", s.log.String())
		}
	}
	go func() {
		for range lines {
		}
	}()
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
	req, _ := http.NewRequest("GET", s.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+s.TeacherToken)
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

// syncBuffer is a bytes.Buffer safe for one writer and concurrent readers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
