package worker

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
)

var (
	binOnce  sync.Once
	builtBin string
	binErr   error
)

// PreferBin returns $PREFER_BIN (./build.sh test sets it), or builds the prefer binary once per
// process into a temporary directory (see RemoveBuild).
func PreferBin() (string, error) {
	if p := os.Getenv("PREFER_BIN"); p != "" {
		return p, nil
	}
	binOnce.Do(func() {
		root, err := Root()
		if err != nil {
			binErr = err
			return
		}
		dir, err := os.MkdirTemp("", "prefer-bin-")
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
	return builtBin, binErr
}

// Native is a running `prefer serve`.
type Native struct {
	URL          string // http://127.0.0.1:PORT
	JoinURL      string // the join link it printed
	TeacherToken string
	cmd          *exec.Cmd
	done         chan struct{}
	stderr       *syncBuffer
}

// StartNative starts `prefer serve` on a fresh database in dir, on a free port, with extra
// flags, and reads its URL and teacher token from what it prints.
func StartNative(dir string, flags ...string) (*Native, error) {
	bin, err := PreferBin()
	if err != nil {
		return nil, err
	}
	args := append([]string{"serve", "--db", filepath.Join(dir, "prefer.db"), "--addr", "127.0.0.1:0", "--quiet"}, flags...)
	n := &Native{cmd: exec.Command(bin, args...), done: make(chan struct{}), stderr: &syncBuffer{}}
	n.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	n.cmd.Stderr = n.stderr
	stdout, err := n.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := n.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { n.cmd.Wait(); close(n.done) }()
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
	for n.URL == "" || n.JoinURL == "" || n.TeacherToken == "" {
		select {
		case l, ok := <-lines:
			if !ok {
				n.Stop()
				return nil, fmt.Errorf("prefer serve ended before printing its links; stderr:\n%s", n.stderr)
			}
			l = strings.TrimSpace(l)
			if u, ok := strings.CutPrefix(l, "Prefer hub: "); ok {
				n.URL = strings.TrimSpace(u)
			}
			if u, ok := strings.CutPrefix(l, "join link:"); ok {
				n.JoinURL = strings.TrimSpace(u)
			}
			if _, tok, ok := strings.Cut(l, "/teacher?token="); ok {
				n.TeacherToken = strings.TrimSpace(tok)
			}
		case <-timeout:
			n.Stop()
			return nil, fmt.Errorf("prefer serve printed no links in 60 s; stderr:\n%s", n.stderr)
		}
	}
	go func() {
		for range lines {
		}
	}()
	return n, nil
}

// Log returns what the server has written to stderr so far.
func (n *Native) Log() string { return n.stderr.String() }

// StartNativeT is StartNative for a test: it fails the test on error and stops the server
// when the test ends (printing its stderr if the test failed).
func StartNativeT(t testing.TB, flags ...string) *Native {
	t.Helper()
	n, err := StartNative(t.TempDir(), flags...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		n.Stop()
		if t.Failed() {
			t.Logf("prefer serve stderr:\n%s", n.stderr)
		}
	})
	return n
}

// Stop ends the server (SIGTERM, SIGKILL after 15 s).
func (n *Native) Stop() {
	syscall.Kill(-n.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-n.done:
	case <-time.After(15 * time.Second):
		syscall.Kill(-n.cmd.Process.Pid, syscall.SIGKILL)
		<-n.done
	}
}
