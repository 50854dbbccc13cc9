package conformance

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prefer-rlhf/prefer/server/hub"
	"github.com/prefer-rlhf/prefer/tests/worker"
)

func TestMain(m *testing.M) {
	code := m.Run()
	worker.RemoveBuild()
	if builtBin != "" {
		os.RemoveAll(filepath.Dir(builtBin))
	}
	os.Exit(code)
}

// server is a running hub under test.
type server struct {
	name    string
	url     string
	teacher string // a teacher token for every project
	burst   int    // the per-token burst of its rate limit
}

// TestNative runs the suite against `prefer serve`.
func TestNative(t *testing.T) {
	t.Parallel()
	runSuite(t, startNative(t))
}

// TestWorker runs the suite against the Worker under wrangler dev --local.
func TestWorker(t *testing.T) {
	t.Parallel()
	// A Worker under wrangler dev on a shared machine answers tens of requests a second, fewer
	// than the default limit refills (20/s per token), so the rate-limit test could not reach
	// it: the Worker is given a lower limit through its variables.
	s := worker.Start(t, map[string]string{"PREFER_RATE": "5", "PREFER_BURST": "20"})
	runSuite(t, &server{name: "worker", url: s.URL, teacher: s.TeacherToken, burst: 20})
}

var (
	binOnce  sync.Once
	builtBin string
	binErr   error
)

// preferBin returns $PREFER_BIN, or builds the prefer binary once into a temporary directory.
func preferBin(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("PREFER_BIN"); p != "" {
		return p
	}
	binOnce.Do(func() {
		root, err := worker.Root()
		if err != nil {
			binErr = err
			return
		}
		dir, err := os.MkdirTemp("", "prefer-conformance-")
		if err != nil {
			binErr = err
			return
		}
		builtBin = filepath.Join(dir, "prefer")
		cmd := exec.Command("go", "build", "-o", builtBin, "./server/cmd/prefer")
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			binErr = fmt.Errorf("go build prefer: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return builtBin
}

// startNative starts `prefer serve` on a fresh database and a free port, without its trainer
// (the suite publishes clips and pairs through the trainer API, as a remote trainer does), and
// reads the URL and the teacher token from what it prints.
func startNative(t *testing.T) *server {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command(preferBin(t), "serve", "--db", filepath.Join(dir, "prefer.db"), "--addr", "127.0.0.1:0", "--no-trainer", "--quiet")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
		if t.Failed() {
			t.Logf("prefer serve stderr:\n%s", stderr.String())
		}
	})
	s := &server{name: "native", burst: hub.DefaultConfig().Burst}
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		io.Copy(io.Discard, stdout)
	}()
	timeout := time.After(60 * time.Second)
	for s.url == "" || s.teacher == "" {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("prefer serve ended before printing its links; stderr:\n%s", stderr.String())
			}
			if u, ok := strings.CutPrefix(l, "Prefer hub: "); ok {
				s.url = strings.TrimSpace(u)
			}
			if _, tok, ok := strings.Cut(l, "/teacher?token="); ok {
				s.teacher = strings.TrimSpace(tok)
			}
		case <-timeout:
			t.Fatalf("prefer serve printed no links in 60 s; stderr:\n%s", stderr.String())
		}
	}
	go func() {
		for range lines {
		}
	}()
	return s
}
