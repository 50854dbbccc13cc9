package tests

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prefer-rlhf/prefer/core/prefs"
	"github.com/prefer-rlhf/prefer/core/wire"
	"github.com/prefer-rlhf/prefer/server/hub"
	"github.com/prefer-rlhf/prefer/tests/worker"
)

// hubBinary is the real `prefer` binary the hub tests run (worker.PreferBin: $PREFER_BIN, or
// one built once into a temporary directory).
func hubBinary(t *testing.T) string {
	t.Helper()
	bin, err := worker.PreferBin()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// hubProc is a running `prefer serve`.
type hubProc struct {
	cmd     *exec.Cmd
	base    string // http://host:port
	code    string // the default project's join code
	teacher string // the teacher token
	stderr  *bytes.Buffer
	done    chan struct{}
}

var linkRE = regexp.MustCompile(`(http://[^/\s]+)/(join\?code=|teacher\?token=)(\S+)`)

// startHub runs `prefer serve` on a free loopback port with the given database and flags, and
// waits until it answers.
func startHub(t *testing.T, db string, flags ...string) *hubProc {
	t.Helper()
	args := append([]string{"serve", "--db", db, "--addr", "127.0.0.1:0"}, flags...)
	cmd := exec.Command(hubBinary(t), args...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	h := &hubProc{cmd: cmd, stderr: &bytes.Buffer{}, done: make(chan struct{})}
	cmd.Stderr = &lockedWriter{w: h.stderr}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { cmd.Wait(); close(h.done) }()
	t.Cleanup(func() { h.kill() })
	sc := bufio.NewScanner(out)
	deadline := time.After(30 * time.Second)
	lines := make(chan string)
	go func() {
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	for h.code == "" || h.teacher == "" {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("prefer serve exited early: %s", h.stderr)
			}
			if m := linkRE.FindStringSubmatch(l); m != nil {
				h.base = m[1]
				if strings.HasPrefix(m[2], "join") {
					h.code = m[3]
				} else {
					h.teacher = m[3]
				}
			}
		case <-deadline:
			t.Fatalf("prefer serve printed no links in 30 s: %s", h.stderr)
		}
	}
	go func() {
		for range lines {
		}
	}()
	for i := 0; ; i++ {
		resp, err := http.Get(h.base + "/api/v1/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if i > 300 {
			t.Fatalf("prefer serve does not answer: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return h
}

// kill ends the process with SIGKILL (kill -9) and waits for it.
func (h *hubProc) kill() {
	select {
	case <-h.done:
		return
	default:
	}
	h.cmd.Process.Kill()
	<-h.done
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// hubClient calls the API through hub.Client, the one Go client of it.
type hubClient struct {
	http *http.Client
}

func newHubClient() *hubClient {
	return &hubClient{http: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
}

// api is a hub.Client at base acting with token.
func (c *hubClient) api(base, token string) *hub.Client {
	return &hub.Client{Base: base, Token: token, HTTP: c.http}
}

// call sends a JSON request to a full URL and decodes a JSON answer (an error answer is a
// *hub.Error).
func (c *hubClient) call(method, url, token string, body, out any) error {
	return c.api("", token).Do(context.Background(), method, url, body, out)
}

// hubSync is a sync answer as a client reads it.
type hubSync = wire.SyncResponse[prefs.Pair]

func (c *hubClient) join(base, code, name string) (wire.JoinResponse, error) {
	return c.api(base, "").Join(context.Background(), wire.JoinRequest{JoinCode: code, Name: name})
}

// exportIDs returns the ids of every comparison of a project, via the teacher export.
func (c *hubClient) exportIDs(base, teacher, pid string) ([]string, error) {
	rows, err := c.api(base, teacher).Export(context.Background(), pid)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	return ids, nil
}
